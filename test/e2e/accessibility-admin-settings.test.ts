/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser } from 'playwright-core';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { auditPage } from './helpers/audit';
import { asRole, auditBoth, auditInvalidSubmit } from './helpers/sweep';
import { createWorld, assignTraining, type World } from './helpers/world';

/**
 * axe (WCAG 2.1 A/AA) on every page type for every role, plus what axe cannot see: the skip link is the
 * first Tab stop and lands on main, every Tab stop shows focus, and form errors are tied to their fields.
 * Full audit in English; axe again in Spanish. Each test collects every problem, then asserts none.
 * The district admin's settings, roster, provisioning, audit, training modules (with counsel review) and account pages (the dashboards, exports,
 * people, schools and assignments are in accessibility-admin.test.ts).
 */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('a11y-settings');
  await assignTraining(world, 'foundations', { roles: ['staff', 'principal'], dueInDays: -5 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('accessibility: district admin settings and records pages', () => {
  test('when a district admin visits the settings, roster, provisioning, audit and account pages, then there are no WCAG 2.1 AA violations, focus is visible and errors are tied to fields', async () => {
    const problems: string[] = [];
    await asRole(browser, server.baseUrl, world.users.admin.email, async (page) => {
      await auditBoth(page, '/admin/settings', 'settings', problems);
      await auditInvalidSubmit(page, '/admin/settings', '/admin/settings', 'settings 422', problems, async (p) => {
        await p.fill('#field-jurisdiction', '');
      });
      await auditBoth(page, '/admin/roster', 'roster import', problems);
      await auditBoth(page, '/admin/scim', 'automatic provisioning (SCIM)', problems);
      // The token shown once (the answer to the POST), then with a token: replace without its tick (422) and the revoke confirmation.
      await page.goto('/admin/scim?lang=en');
      await Promise.all([page.waitForURL(/\/admin\/scim\/token$/), page.getByRole('button', { name: 'Create a token' }).click()]);
      problems.push(...(await auditPage(page, 'SCIM token shown once')));
      await auditInvalidSubmit(page, '/admin/scim', '/admin/scim/token', 'SCIM token replace 422', problems);
      await auditBoth(page, '/admin/scim/revoke', 'SCIM revoke confirmation', problems, 200, false);
      await auditBoth(page, '/admin/audit', 'audit log', problems);
      await auditBoth(page, '/admin/audit/verify', 'audit tamper check', problems, 200, false);
      await auditBoth(page, '/admin/audit/fingerprints', 'audit fingerprints', problems, 200, false);
      await auditInvalidSubmit(page, '/admin/audit/fingerprints', '/admin/audit/fingerprints', 'audit fingerprint check 422', problems, async (p) => {
        await p.fill('#field-seq', 'abc');
      });
      await auditInvalidSubmit(page, '/admin/audit/fingerprints', '/admin/audit/anchor', 'audit fingerprint emails 422', problems, async (p) => {
        await p.fill('#field-emails', 'not-an-address');
      });
      await auditBoth(page, '/admin/modules', 'training modules', problems);
      await auditBoth(page, '/admin/modules/foundations', 'module versions', problems, 200, false);
      await auditBoth(page, '/admin/modules/foundations/versions/1/review', 'counsel review', problems);
      await auditInvalidSubmit(page, '/admin/modules/foundations/versions/1/review', '/admin/modules/foundations/versions/1/review', 'counsel review 422', problems);
      await auditBoth(page, '/account', 'account (admin)', problems, 200, false);
    });
    expect(problems).toEqual([]);
  });
});
