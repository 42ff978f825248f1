import { runQueuedComplianceJobs } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { User } from '../../../src/components/users';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { oneRosterZip, orgRow, roleRow, userRow } from '../../helpers/zip';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { applyAndRun, csv, previewIdFrom, upload } from './roster.helpers';

/**
 * People at several schools through the roster (CSV and OneRoster): all their schools, in the file's order (the
 * first is their default "Working at" and where district totals count them), and a school taken off is only that.
 */
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;

const id = (doc: { _id: unknown }) => String(doc._id);

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  const admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  adminAgent = await signIn(t.app, admin.email);
  await createAssignment(district, { moduleSlug: 'foundations' });
});

async function importFile(content: string | Buffer, options: { fileName?: string; complete?: boolean } = {}): Promise<void> {
  const res = await upload(adminAgent, content, options);
  expect(res.status).toBe(303);
  expect((await applyAndRun(adminAgent, previewIdFrom(res.headers.location))).status).toBe(303);
  await runQueuedComplianceJobs();
}

const substitute = async () => (await User.findOne({ district: district._id, email: 'sam.sub@test.example' }).lean())!;
const schoolsOf = async () => (await substitute()).schools.map(String);
const rowOf = async () => (await ComplianceRow.find({ user: (await substitute())._id }).lean()).map((r) => ({ schools: r.schools.map(String), primarySchool: String(r.primarySchool) }));
const teacherRow = ['T1', 'tia@test.example', 'Tia Teacher', 'staff', 'teacher', 'LIN', '', ''];

describe('CSV roster', () => {
  test('when a row lists two school codes, then the person gets both, in the file’s order, and is on both schools’ compliance rows', async () => {
    await importFile(csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'ROO;LIN', '', ''], teacherRow]));
    expect(await schoolsOf()).toEqual([id(roosevelt), id(lincoln)]);
    expect(await rowOf()).toEqual([{ schools: [id(roosevelt), id(lincoln)], primarySchool: id(roosevelt) }]);
  });

  test('when a complete roster then lists only one of the two schools, then the person stays active with that school, and the other school no longer lists them', async () => {
    await importFile(csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'LIN;ROO', '', ''], teacherRow]));
    expect(await schoolsOf()).toEqual([id(lincoln), id(roosevelt)]);
    await importFile(csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'ROO', '', ''], teacherRow]), { complete: true });
    const after = await substitute();
    expect(after.active).toBe(true);
    expect(after.schools.map(String)).toEqual([id(roosevelt)]);
    expect(await rowOf()).toEqual([{ schools: [id(roosevelt)], primarySchool: id(roosevelt) }]);
    const principal = await createUser(district, { role: 'principal', email: 'p.lin@test.example', schools: [lincoln] });
    const lin = await (await signIn(t.app, principal.email)).get(`/school/${id(lincoln)}`);
    expect(lin.status).toBe(200);
    expect(lin.text).toContain('Tia Teacher');
    expect(lin.text).not.toContain('Sam Substitute');
  });

  test('when only the order of the codes changes, then it is an update (the first school changes), and the same file again changes nothing', async () => {
    await importFile(csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'LIN;ROO', '', '']]));
    const reordered = await upload(adminAgent, csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'ROO;LIN', '', '']]));
    const page = await adminAgent.get(reordered.headers.location);
    expect(page.text).toMatch(/data-count="update">1</);
    expect((await applyAndRun(adminAgent, previewIdFrom(reordered.headers.location))).status).toBe(303);
    await runQueuedComplianceJobs();
    expect(await schoolsOf()).toEqual([id(roosevelt), id(lincoln)]);
    expect((await rowOf())[0].primarySchool).toBe(id(roosevelt));
    const same = await upload(adminAgent, csv([['S1', 'sam.sub@test.example', 'Sam Substitute', 'staff', 'substitute teacher', 'ROO;LIN', '', '']]));
    expect((await adminAgent.get(same.headers.location)).text).toMatch(/data-count="update">0</);
  });
});

describe('OneRoster', () => {
  const orgs = [orgRow('org-lin', 'school', 'LIN'), orgRow('org-roo', 'school', 'ROO')];
  const users = [userRow({ sourcedId: 'sub-1', givenName: 'Sam', familyName: 'Substitute', email: 'sam.sub@test.example', identifier: 'S1' })];

  test('when a person has roles at two schools, then they get both (primary role’s first); when the secondary role goes, they keep the primary school and stay active', async () => {
    await importFile(oneRosterZip({ orgs, users, roles: [roleRow('sub-1', 'aide', 'org-lin', 'secondary'), roleRow('sub-1', 'teacher', 'org-roo', 'primary')] }), { fileName: 'oneroster.zip' });
    expect(await schoolsOf()).toEqual([id(roosevelt), id(lincoln)]);
    expect((await rowOf())[0].primarySchool).toBe(id(roosevelt));
    await importFile(oneRosterZip({ orgs, users, roles: [roleRow('sub-1', 'teacher', 'org-roo', 'primary')] }), { fileName: 'oneroster.zip', complete: true });
    const after = await substitute();
    expect(after.active).toBe(true);
    expect(after.schools.map(String)).toEqual([id(roosevelt)]);
    expect(await rowOf()).toEqual([{ schools: [id(roosevelt)], primarySchool: id(roosevelt) }]);
  });
});
