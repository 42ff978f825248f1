/// <reference lib="dom" />
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { toActor } from '../../src/components/auth';
import { createPreview, requestApply, runQueuedRosterImports, RosterPreview } from '../../src/components/roster';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { asRole, auditBoth } from './helpers/sweep';
import { createWorld, type World } from './helpers/world';
import { oneRosterZip, orgRow, roleRow, userRow } from '../helpers/zip';

/**
 * axe (WCAG 2.1 A/AA) and the keyboard checks on the roster import's pages in every state: the roster
 * page with recent imports, a preview (apply form with the reload choice), a preview with problems, a OneRoster
 * preview listing the schools that match none of the district's, and an
 * import queued, done and failed. The queued page is audited as it is by default (no automatic reload):
 * with ?refresh=on it carries the meta refresh that axe's meta-refresh rule always reports — the admin
 * chose it on the Apply form, can stop it from the page, and the page says it reloads (docs/roster.md).
 */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;
const HEADER = 'employee_id,email,name,role,job_title,school_codes,language,start_date';

function file(lines: string[]): string {
  return written('roster.csv', [HEADER, ...lines].join('\n') + '\n');
}

function written(name: string, data: string | Buffer): string {
  const p = path.join(mkdtempSync(path.join(tmpdir(), 'roster-e2e-')), name);
  writeFileSync(p, data);
  return p;
}

/** A OneRoster export whose schools match none of the district's: one without identifier, one unknown code, one missing from orgs.csv. */
function unmatchedOrgsZip(): string {
  return written(
    'oneroster.zip',
    oneRosterZip({
      orgs: [orgRow('org-d', 'district', ''), orgRow('guid-1', 'school', '', 'Lincoln Elementary'), orgRow('org-x', 'school', '1234', 'Jefferson High')],
      users: [
        userRow({ sourcedId: 't1', givenName: 'Lia', familyName: 'One', email: 'lia1@riverbend.example', identifier: 'O1' }),
        userRow({ sourcedId: 't2', givenName: 'Jeff', familyName: 'High', email: 'jeff@riverbend.example', identifier: 'O2' }),
        userRow({ sourcedId: 'p1', givenName: 'Pia', familyName: 'Lost', email: 'pia@riverbend.example', identifier: 'O3' }),
      ],
      roles: [roleRow('t1', 'teacher', 'guid-1'), roleRow('t2', 'teacher', 'org-x'), roleRow('p1', 'principal', 'org-missing')],
    }),
  );
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('a11y-roster');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('accessibility: roster import pages', () => {
  test('when a district admin goes through previews and imports in every state, then there are no WCAG 2.1 AA violations and focus is visible', async () => {
    const actor = toActor(world.users.admin);
    const code = world.schools.lincoln.code;
    const person = (i: number) => `R${i},roster.${i}@riverbend.example,Roster Person ${i},staff,custodian,${code},,`;
    const made = async (lines: string[] | string) => {
      const outcome = await createPreview(actor, typeof lines === 'string' ? { path: lines, fileName: 'oneroster.zip', completeRoster: false } : { path: file(lines), fileName: 'hr.csv', completeRoster: false });
      if (!outcome.ok) throw new Error('preview refused');
      return outcome.id;
    };
    const ready = await made([person(1)]);
    const invalid = await made([person(2), `R3,not-an-email,Bad,staff,custodian,${code},,`, 'R4,short']);
    const unmatched = await made(unmatchedOrgsZip());
    const done = await made([person(5)]);
    expect(await requestApply(actor, done, {})).toEqual({ ok: true });
    expect(await runQueuedRosterImports()).toBe(1);
    const failed = await made([person(6)]);
    await requestApply(actor, failed, {});
    await RosterPreview.updateOne({ _id: failed }, { $set: { state: 'failed', error: 'error', finishedAt: new Date() } });
    const queued = await made([person(7)]);
    await requestApply(actor, queued, {});

    const problems: string[] = [];
    await asRole(browser, server.baseUrl, world.users.admin.email, async (page) => {
      await auditBoth(page, '/admin/roster', 'roster page with recent imports', problems);
      await auditBoth(page, `/admin/roster/previews/${ready}`, 'roster preview', problems);
      await auditBoth(page, `/admin/roster/previews/${invalid}`, 'roster preview with problems', problems, 200, false);
      await auditBoth(page, `/admin/roster/previews/${unmatched}`, 'OneRoster preview with unmatched schools', problems);
      // The page audited above is the Spanish one: it must hold the unmatched-schools table (three schools), or the audit proved nothing.
      if ((await page.locator('#unmatched-orgs ~ .table-wrap tbody tr[data-org]').count()) !== 3) problems.push('OneRoster preview: the unmatched-schools table with three rows is missing');
      await auditBoth(page, `/admin/roster/imports/${queued}`, 'roster import queued', problems);
      await auditBoth(page, `/admin/roster/imports/${done}`, 'roster import done', problems);
      await auditBoth(page, `/admin/roster/imports/${failed}`, 'roster import failed', problems);
    });
    expect(problems).toEqual([]);
  });
});
