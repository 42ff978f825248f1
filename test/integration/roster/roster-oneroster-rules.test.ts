/**
 * OneRoster 1.2 import rules beyond the mapping: role dates (the district's today), school matching by
 * identifier then sourcedId with the unmatched-org summary, the CRC-32 check, and enabledUser=false.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import mongoose from 'mongoose';
import { addDays, localDateOf } from '../../../src/components/assignments';
import { toActor } from '../../../src/components/auth';
import { District } from '../../../src/components/districts';
import { createPreview, RosterPreview, RosterPreviewRow, RosterProblem } from '../../../src/components/roster';
import { User } from '../../../src/components/users';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { oneRosterZip, orgRow, roleRow, ROLES_HEADER, USERS_HEADER, userRow, type OneRosterFiles } from '../../helpers/zip';
import { apply, applyAndRun, previewIdFrom, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let admin: Awaited<ReturnType<typeof createUser>>;
let adminAgent: Agent;
let dir: string;

beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(path.join(tmpdir(), 'oneroster-rules-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.close();
});

beforeEach(async () => {
  await clearDatabase();
  // The factory's district is in America/Los_Angeles.
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  adminAgent = await signIn(t.app, admin.email);
});

const ORGS = [orgRow('org-d', 'district', 'DISTRICT'), orgRow('org-lin', 'school', 'LIN'), orgRow('org-roo', 'school', 'ROO')];

function datedRole(userSourcedId: string, role: string, org: string, beginDate: string, endDate: string): string[] {
  const row = roleRow(userSourcedId, role, org);
  row[ROLES_HEADER.indexOf('beginDate')] = beginDate;
  row[ROLES_HEADER.indexOf('endDate')] = endDate;
  return row;
}

function zipOf(files: OneRosterFiles): Buffer {
  return oneRosterZip({ orgs: ORGS, ...files });
}

async function everythingStored(): Promise<string> {
  const db = mongoose.connection.db!;
  const parts: string[] = [];
  for (const { name } of await db.listCollections().toArray()) parts.push(JSON.stringify(await db.collection(name).find({}).toArray()));
  return parts.join('\n');
}

const STUDENT_TRACES = /Sofia|Studentname|sofia\.kid|stu-1/;
const problemsOf = (html: string) => [...html.matchAll(/data-line="(\d+)" data-column="([a-z_]*)" data-code="([a-z_]+)"/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);

describe('role dates', () => {
  /** A teacher current today, one whose role ended yesterday, one starting in two days (district dates). */
  function datedExport() {
    const today = localDateOf(new Date(), 'America/Los_Angeles');
    return zipOf({
      users: [
        userRow({ sourcedId: 'now-1', givenName: 'Nora', familyName: 'Now', email: 'nora@test.example', identifier: 'E1' }), // line 2
        userRow({ sourcedId: 'gone-1', givenName: 'Gary', familyName: 'Gone', email: 'gary@test.example', identifier: 'E2' }), // line 3
        userRow({ sourcedId: 'soon-1', givenName: 'Sam', familyName: 'Soon', email: 'sam@test.example', identifier: 'E3' }), // line 4
      ],
      roles: [
        datedRole('now-1', 'teacher', 'org-lin', addDays(today, -30), addDays(today, 30)),
        datedRole('gone-1', 'teacher', 'org-lin', addDays(today, -300), addDays(today, -1)),
        datedRole('gone-1', 'aide', 'org-roo', '', addDays(today, -1)),
        datedRole('soon-1', 'counselor', 'org-roo', addDays(today, 2), ''),
      ],
    });
  }

  test('when roles ended or have not started, then those people are not imported nor changed, and the preview counts the skipped roles in English and Spanish', async () => {
    await createUser(district, { employeeId: 'E2', email: 'gary@test.example', name: 'Gary Gone', schools: [lincoln], jobTitle: 'teacher' });
    const res = await upload(adminAgent, datedExport(), { fileName: 'oneroster.zip' });
    expect(res.status).toBe(303);
    const id = previewIdFrom(res.headers.location);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toMatch(/data-count="rows">1</);
    expect(page.text).toMatch(/data-count="skippedNotCurrent">2</);
    expect(page.text).toMatch(/data-count="rolesNotCurrent">3</);
    expect(page.text).toContain('Roles skipped as not current today (beginDate / endDate in roles.csv)');
    expect(page.text).toMatch(/data-count="create">1</);
    const es = await adminAgent.get(`/admin/roster/previews/${id}?lang=es`);
    expect(es.text).toContain('Roles omitidos por no estar vigentes hoy');
    const preview = await RosterPreview.findById(id).lean();
    expect(preview!.oneRoster).toMatchObject({ skippedNotCurrent: 2, rolesNotCurrent: 3, skippedNonStaff: 0 });
    expect((await RosterPreviewRow.find({ preview: id }).lean()).map((r) => r.after.employeeId)).toEqual(['E1']);

    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    expect(await User.exists({ employeeId: 'E1', active: true })).not.toBeNull();
    expect(await User.exists({ employeeId: 'E3' })).toBeNull();
    // Not in the file as far as the import goes: a partial import leaves them as they were.
    expect(await User.findOne({ employeeId: 'E2' }).lean()).toMatchObject({ active: true, name: 'Gary Gone' });
  });

  test('when "complete roster" is ticked, then someone whose roles all ended is deactivated like anyone missing, behind the typed confirmation', async () => {
    await createUser(district, { employeeId: 'E2', email: 'gary@test.example', schools: [lincoln], jobTitle: 'teacher' });
    const res = await upload(adminAgent, datedExport(), { complete: true });
    const id = previewIdFrom(res.headers.location);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toMatch(/data-count="deactivate">1</);
    // One active person, one deactivation: above 10 %, so the number must be typed.
    expect(page.text).toContain('id="field-confirm"');
    expect((await apply(adminAgent, id)).status).toBe(422);
    expect((await User.findOne({ employeeId: 'E2' }).lean())!.active).toBe(true);
    expect((await applyAndRun(adminAgent, id, { confirm: '1' })).status).toBe(303);
    expect((await User.findOne({ employeeId: 'E2' }).lean())!.active).toBe(false);
  });

  test('when a role ends on the district\'s today but the UTC date is already the next day, then it still counts (the district\'s time zone decides)', async () => {
    const zip = zipOf({
      users: [
        userRow({ sourcedId: 'now-1', givenName: 'Nora', familyName: 'Now', email: 'nora@test.example', identifier: 'E1' }),
        userRow({ sourcedId: 'last-1', givenName: 'Lena', familyName: 'Last', email: 'lena@test.example', identifier: 'E2' }),
      ],
      roles: [roleRow('now-1', 'teacher', 'org-lin'), datedRole('last-1', 'teacher', 'org-roo', '2025-08-01', '2026-06-30')],
    });
    const file = path.join(dir, 'dated.zip');
    writeFileSync(file, zip);
    // 05:00 UTC on July 1 is 22:00 on June 30 in Los Angeles, 07:00 on July 1 in Berlin.
    const now = new Date('2026-07-01T05:00:00Z');
    const actor = toActor(admin);
    const inLosAngeles = await createPreview(actor, { path: file, fileName: 'a.zip', completeRoster: false }, now);
    expect(inLosAngeles).toMatchObject({ ok: true, valid: true });
    expect(await RosterPreview.findById((inLosAngeles as { id: string }).id).lean()).toMatchObject({ counts: { rows: 2 } });
    await District.updateOne({ _id: district._id }, { $set: { timeZone: 'Europe/Berlin' } });
    const inBerlin = await createPreview(actor, { path: file, fileName: 'a.zip', completeRoster: false }, now);
    const berlin = await RosterPreview.findById((inBerlin as { id: string }).id).lean();
    expect(berlin).toMatchObject({ counts: { rows: 1 }, oneRoster: { skippedNotCurrent: 1, rolesNotCurrent: 1 } });
  });

  test('when a role date is not a date, then it is a problem on the person\'s users.csv line naming the roles.csv line, stored without the value', async () => {
    const zip = zipOf({
      users: [
        userRow({ sourcedId: 'now-1', givenName: 'Nora', familyName: 'Now', email: 'nora@test.example', identifier: 'E1' }), // line 2
        userRow({ sourcedId: 'bad-1', givenName: 'Bea', familyName: 'Bad', email: 'bea@test.example', identifier: 'E2' }), // line 3
      ],
      roles: [roleRow('now-1', 'teacher', 'org-lin'), datedRole('bad-1', 'teacher', 'org-lin', '', '30/06/2026')], // roles.csv line 3
    });
    const res = await upload(adminAgent, zip);
    expect(res.status).toBe(422);
    expect(problemsOf(res.text)).toEqual(['3:role:role_date_invalid']);
    expect(res.text).toContain('roles.csv line 3: “30/06/2026” in beginDate or endDate is not a date in the form YYYY-MM-DD.');
    const problems = await RosterProblem.find().lean();
    expect(problems.map((p) => [p.line, p.problems])).toEqual([[3, [{ column: 'role', code: 'role_date_invalid', other: '3' }]]]);
    const preview = await RosterPreview.findOne().lean();
    expect(preview).toMatchObject({ state: 'invalid', counts: { rows: 2, errors: 1 } });
    const csvRes = await adminAgent.get(`/admin/roster/previews/${preview!._id}/problems.csv`);
    expect(csvRes.text).toContain('roles.csv line 3: beginDate or endDate is not a date in the form YYYY-MM-DD.');
  });
});

describe('school matching', () => {
  const GUID = '8f14e45f-ceea-467f-a0e6-8a2b1c3d4e5f';
  function sisOrgsExport() {
    return oneRosterZip({
      orgs: [
        orgRow('org-d', 'district', ''),
        // The state school number as sourcedId, identifier left empty: matched by sourcedId.
        orgRow('ROO', 'school', '', 'Roosevelt Middle School'),
        // Same name as our Lincoln Elementary, but no identifier and a GUID: never matched by name.
        orgRow(GUID, 'school', '', 'Lincoln Elementary'),
        orgRow('org-x', 'school', '1234', 'Jefferson High'),
      ],
      users: [
        userRow({ sourcedId: 't1', givenName: 'Rita', familyName: 'Roo', email: 'rita@test.example', identifier: 'E1' }), // line 2
        userRow({ sourcedId: 't2', givenName: 'Lia', familyName: 'One', email: 'lia1@test.example', identifier: 'E2' }), // line 3
        userRow({ sourcedId: 'stu-1', givenName: 'Sofia', familyName: 'Studentname', email: 'sofia.kid@students.example' }), // line 4
        userRow({ sourcedId: 't3', givenName: 'Lia', familyName: 'Two', email: 'lia2@test.example', identifier: 'E3' }), // line 5
        userRow({ sourcedId: 't4', givenName: 'Jeff', familyName: 'High', email: 'jeff@test.example', identifier: 'E4' }), // line 6
        userRow({ sourcedId: 'p1', givenName: 'Pia', familyName: 'Lost', email: 'pia@test.example', identifier: 'E5' }), // line 7
      ],
      roles: [
        roleRow('t1', 'teacher', 'ROO'),
        roleRow('stu-1', 'student', GUID),
        roleRow('t2', 'teacher', GUID),
        roleRow('t3', 'aide', GUID),
        roleRow('t3', 'aide', 'ROO', 'secondary'),
        roleRow('t4', 'teacher', 'org-x'),
        roleRow('p1', 'principal', 'org-missing'),
      ],
    });
  }

  test('when orgs leave identifier empty, then sourcedId equal to a school code matches; every org matching no school is listed once with its people and the fix, and the people stay problems', async () => {
    const res = await upload(adminAgent, sisOrgsExport());
    expect(res.status).toBe(422);
    expect(problemsOf(res.text)).toEqual(['3:school_codes:school_unknown', '5:school_codes:school_unknown', '6:school_codes:school_unknown', '7:school_codes:school_unknown']);
    expect(res.text).toContain('Schools in the file that match no school of this district');
    const listed = [...res.text.matchAll(/data-org="([^"]+)" data-reason="([a-z_]+)">[\s\S]*?data-people>(\d+)</g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
    expect(listed).toEqual([`${GUID}:no_identifier:2`, 'org-missing:not_in_orgs:1', 'org-x:unknown_code:1']);
    expect(res.text).toContain('Fill identifier in orgs.csv with the school’s code from Schools.');
    expect(res.text).toContain('Give the school the code “1234” in Schools, or fill identifier in orgs.csv with the school’s code.');
    expect(res.text).toContain('roles.csv names this org but orgs.csv does not list it');
    const preview = await RosterPreview.findOne().lean();
    expect(preview!.oneRoster).toMatchObject({ unmatchedOrgCount: 3 });
    expect(preview!.oneRoster!.unmatchedOrgs![0]).toEqual({ sourcedId: GUID, name: 'Lincoln Elementary', identifier: '', reason: 'no_identifier', people: 2 });
    expect(await everythingStored()).not.toMatch(STUDENT_TRACES);
    const es = await adminAgent.get(`/admin/roster/previews/${preview!._id}?lang=es`);
    expect(es.text).toContain('Escuelas del archivo que no corresponden a ninguna escuela de este distrito');
    expect(es.text).toContain('Asigne a la escuela el código “1234” en Escuelas');
  });

  test('when the school gets the suggested code and the org list is fixed, then the same people import with their schools', async () => {
    const jefferson = await createSchool(district, { code: '1234', name: 'Jefferson High' });
    const res = await upload(
      adminAgent,
      oneRosterZip({
        orgs: [orgRow('ROO', 'school', '', 'Roosevelt'), orgRow('org-x', 'school', '1234', 'Jefferson High'), orgRow('org-lin', 'school', 'lin')],
        users: [
          userRow({ sourcedId: 't1', givenName: 'Rita', familyName: 'Roo', email: 'rita@test.example', identifier: 'E1' }),
          userRow({ sourcedId: 't4', givenName: 'Jeff', familyName: 'High', email: 'jeff@test.example', identifier: 'E4' }),
        ],
        roles: [roleRow('t1', 'teacher', 'ROO'), roleRow('t1', 'aide', 'org-lin', 'secondary'), roleRow('t4', 'teacher', 'org-x')],
      }),
    );
    expect(res.status).toBe(303);
    const id = previewIdFrom(res.headers.location);
    expect((await adminAgent.get(`/admin/roster/previews/${id}`)).text).not.toContain('match no school');
    await applyAndRun(adminAgent, id);
    const people = await User.find({ district: district._id, role: 'staff' }).sort({ employeeId: 1 }).lean();
    expect(people.map((p) => [p.employeeId, p.schools.map(String).sort()])).toEqual([
      ['E1', [String(lincoln._id), String(roosevelt._id)].sort()],
      ['E4', [String(jefferson._id)]],
    ]);
  });
});

describe('damaged entries (CRC-32)', () => {
  const users = [USERS_HEADER, userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E100' })].map((r) => r.join(',')).join('\r\n') + '\r\n';
  // One byte changed, same length: the sizes agree and the data inflates; only the checksum can tell.
  const changed = users.replace('tina@test.example', 'tina@test.exbmple');

  test.each([
    ['stored', { name: 'users.csv', data: users, method: 'store' as const, body: Buffer.from(changed) }],
    ['deflated', { name: 'users.csv', data: users, body: deflateRawSync(Buffer.from(changed)) }],
  ])('when a %s entry does not match its CRC-32, then 422 naming the entry and nothing stored', async (_label, entry) => {
    const res = await upload(adminAgent, zipOf({ roles: [roleRow('t1', 'teacher', 'org-lin')], extra: [entry] }), { fileName: 'oneroster.zip' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain('A file inside the zip is damaged: its contents do not match its checksum (CRC-32). Export the file again from your system. (in users.csv)');
    expect(await RosterPreview.countDocuments()).toBe(0);
    expect(await RosterPreviewRow.countDocuments()).toBe(0);
    expect(await RosterProblem.countDocuments()).toBe(0);
    expect(await User.exists({ employeeId: 'E100' })).toBeNull();
  });
});

describe('enabledUser=false', () => {
  test('when an existing person is disabled in users.csv, then a partial import neither changes nor deactivates them, and they are counted', async () => {
    await createUser(district, { employeeId: 'E9', email: 'dora@test.example', name: 'Dora Old', schools: [lincoln], jobTitle: 'teacher' });
    const res = await upload(
      adminAgent,
      zipOf({
        users: [
          userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E1' }),
          userRow({ sourcedId: 'd1', givenName: 'Dora', familyName: 'Renamed', email: 'dora@test.example', identifier: 'E9', enabledUser: 'false' }),
        ],
        roles: [roleRow('t1', 'teacher', 'org-lin'), roleRow('d1', 'teacher', 'org-roo')],
      }),
    );
    const id = previewIdFrom(res.headers.location);
    expect((await adminAgent.get(`/admin/roster/previews/${id}`)).text).toMatch(/data-count="skippedDisabled">1</);
    await applyAndRun(adminAgent, id);
    expect(await User.findOne({ employeeId: 'E9' }).lean()).toMatchObject({ active: true, name: 'Dora Old', schools: [lincoln._id] });
  });
});
