import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emptySummary, isZip, MAX_ENTRY_BYTES, readOneRosterFile } from '../../../src/components/roster/oneroster-file';
import { RosterFileProblem } from '../../../src/components/roster/roster-file';
import { buildZip, bulkManifest, oneRosterZip, orgRow, roleRow, userRow } from '../../helpers/zip';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'oneroster-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: Buffer): string {
  const p = path.join(dir, `f${++n}.zip`);
  writeFileSync(p, content);
  return p;
}

async function read(content: Buffer, maxRows = 1000) {
  const summary = emptySummary();
  const rows: { cells: string[]; line: number }[] = [];
  for await (const row of readOneRosterFile(file(content), maxRows, summary)) rows.push(row);
  return { rows, summary };
}

async function refusal(content: Buffer): Promise<RosterFileProblem> {
  try {
    await read(content);
  } catch (err) {
    if (err instanceof RosterFileProblem) return err;
    throw err;
  }
  throw new Error('the file was accepted');
}

const orgs = [orgRow('o-d', 'district', 'DIST'), orgRow('o-lin', 'school', 'LIN'), orgRow('o-roo', 'school', 'ROO')];

describe('reading a OneRoster 1.2 zip', () => {
  test('when it lists staff, students and administrators, then only staff become rows, with users.csv line numbers, and students are only counted', async () => {
    const zip = oneRosterZip({
      orgs,
      users: [
        userRow({ sourcedId: 's1', givenName: 'Student', familyName: 'One', email: 'student1@kids.example', identifier: 'ST1' }),
        userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E100' }),
        userRow({ sourcedId: 'p1', givenName: 'Pat', familyName: 'Lead', preferredGivenName: 'Patty', email: 'pat@test.example', userMasterIdentifier: 'M200' }),
        userRow({ sourcedId: 'g1', givenName: 'Guard', familyName: 'Ian', email: 'parent@home.example' }),
        userRow({ sourcedId: 'a1', givenName: 'Ad', familyName: 'Min', email: 'admin@test.example' }),
        userRow({ sourcedId: 'x1', givenName: 'Old', familyName: 'Aide', email: 'old@test.example', enabledUser: 'false' }),
      ],
      roles: [
        roleRow('s1', 'student', 'o-lin'),
        roleRow('t1', 'teacher', 'o-lin'),
        roleRow('t1', 'aide', 'o-roo', 'secondary'),
        roleRow('p1', 'principal', 'o-roo'),
        roleRow('g1', 'guardian', 'o-lin'),
        roleRow('a1', 'districtAdministrator', 'o-d'),
        roleRow('x1', 'aide', 'o-lin'),
      ],
    });
    const { rows, summary } = await read(zip);
    expect(rows).toEqual([
      { cells: ['employee_id', 'email', 'name', 'role', 'job_title', 'school_codes'], line: 1 },
      { cells: ['E100', 'tina@test.example', 'Tina Teach', 'staff', 'teacher', 'LIN;ROO'], line: 3 },
      { cells: ['M200', 'pat@test.example', 'Patty Lead', 'principal', '', 'ROO'], line: 4 },
    ]);
    expect(summary).toEqual({ principals: 1, skippedNonStaff: 2, skippedAdmins: 1, skippedDisabled: 1, skippedNotCurrent: 0, rolesNotCurrent: 0, unmatchedOrgs: [], unmatchedOrgCount: 0 });
    expect(JSON.stringify(rows)).not.toMatch(/student|ST1|kids|parent|Guard/i);
  });

  test('when a student role comes before the same user\'s aide role in roles.csv, then the user is still skipped', async () => {
    const zip = oneRosterZip({
      orgs,
      users: [userRow({ sourcedId: 'sa', givenName: 'Stu', familyName: 'Aide', email: 'sa@kids.example', identifier: 'SA1' })],
      roles: [roleRow('sa', 'student', 'o-lin'), roleRow('sa', 'aide', 'o-lin')],
    });
    const { rows, summary } = await read(zip);
    expect(rows).toHaveLength(1);
    expect(summary.skippedNonStaff).toBe(1);
  });

  test('when column names differ in case and other files are present, then they are read and the others ignored', async () => {
    const zip = oneRosterZip({
      orgs,
      users: [userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E100' })],
      roles: [roleRow('t1', 'counselor', 'o-lin')],
      extra: [
        { name: 'classes.csv', data: 'not,even,read\n' },
        { name: 'demographics.csv', data: 'sourcedId,birthDate\ns1,2015-01-01\n' },
        { name: 'roles.csv', data: 'SOURCEDID,STATUS,DATELASTMODIFIED,USERSOURCEDID,ROLETYPE,ROLE,BEGINDATE,ENDDATE,ORGSOURCEDID\nr1,,,t1,primary,counselor,,,o-lin\n' },
      ],
    });
    const { rows } = await read(zip);
    expect(rows[1].cells).toEqual(['E100', 'tina@test.example', 'Tina Teach', 'staff', 'counselor', 'LIN']);
  });

  test('when the upload begins with PK, then it is a zip; a CSV is not', async () => {
    expect(await isZip(file(oneRosterZip({ orgs })))).toBe(true);
    expect(await isZip(file(Buffer.from('employee_id,email\n')))).toBe(false);
  });
});

describe('refusing a zip', () => {
  test('when there is no manifest.csv at the root (an .xlsx), then it is the spreadsheet refusal', async () => {
    const xlsx = buildZip([
      { name: '[Content_Types].xml', data: '<Types/>' },
      { name: 'xl/workbook.xml', data: '<workbook/>' },
      { name: 'sub/manifest.csv', data: 'propertyName,value\noneroster.version,1.2\n' },
    ]);
    expect((await refusal(xlsx)).code).toBe('spreadsheet');
  });

  test('when the zip has no readable directory (truncated, or garbage after PK), then zip_unreadable', async () => {
    const good = oneRosterZip({ orgs });
    expect((await refusal(good.subarray(0, good.length - 30))).code).toBe('zip_unreadable');
    expect((await refusal(Buffer.from('PK this is not a zip at all'))).code).toBe('zip_unreadable');
  });

  test('when an entry of a OneRoster zip is damaged (its deflated data is garbage), then zip_malformed naming it', async () => {
    const zip = oneRosterZip({ orgs, extra: [{ name: 'roles.csv', data: 'sourcedId\n', body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01]) }] });
    expect(await refusal(zip)).toMatchObject({ code: 'zip_malformed', file: 'roles.csv' });
  });

  test.each(['../users.csv', '/etc/passwd', 'a/../../b.csv', 'C:/x.csv', 'dir\\..\\..\\x.csv'])('when an entry is named %s, then zip_unsafe_path', async (name) => {
    const problem = await refusal(oneRosterZip({ orgs, extra: [{ name, data: 'x' }] }));
    expect(problem.code).toBe('zip_unsafe_path');
  });

  test('when an entry is encrypted, then zip_encrypted naming it', async () => {
    const problem = await refusal(oneRosterZip({ orgs, extra: [{ name: 'users.csv', data: 'sourcedId\n', encrypted: true }] }));
    expect(problem).toMatchObject({ code: 'zip_encrypted', file: 'users.csv' });
  });

  test('when there are more than 50 entries, then zip_too_many_entries', async () => {
    const extra = Array.from({ length: 50 }, (_, i) => ({ name: `extra-${i}.csv`, data: 'a\n' }));
    expect(await refusal(oneRosterZip({ orgs, extra }))).toMatchObject({ code: 'zip_too_many_entries', names: ['54'] });
  });

  test('when an entry declares more than the limit, then zip_entry_too_large without inflating it', async () => {
    const problem = await refusal(oneRosterZip({ orgs, extra: [{ name: 'enrollments.csv', data: 'a', declaredSize: MAX_ENTRY_BYTES + 1 }] }));
    expect(problem).toMatchObject({ code: 'zip_entry_too_large', file: 'enrollments.csv' });
  });

  test('when an entry inflates past the size it declares (a zip bomb that lies), then it is refused while reading', async () => {
    const bomb = Buffer.alloc(4 * 1024 * 1024, 0x41);
    const problem = await refusal(oneRosterZip({ orgs, extra: [{ name: 'users.csv', data: Buffer.concat([Buffer.from('sourcedId,enabledUser,givenName,familyName\n'), bomb]), declaredSize: 1000 }] }));
    expect(problem).toMatchObject({ code: 'zip_entry_too_large', file: 'users.csv' });
  });

  test('when the manifest says 1.1, delta or users absent, then the matching refusal', async () => {
    expect(await refusal(oneRosterZip({ orgs, manifest: bulkManifest({ 'oneroster.version': '1.1' }) }))).toMatchObject({ code: 'oneroster_version', names: ['1.1'] });
    expect(await refusal(oneRosterZip({ orgs, manifest: bulkManifest({ 'file.users': 'delta' }) }))).toMatchObject({ code: 'oneroster_delta', names: ['users.csv'] });
    expect(await refusal(oneRosterZip({ orgs, manifest: bulkManifest({ 'file.users': 'absent' }) }))).toMatchObject({ code: 'oneroster_missing_file', names: ['users.csv'] });
  });

  test('when roles.csv is listed as bulk but missing from the zip, then oneroster_missing_file', async () => {
    const zip = buildZip([
      { name: 'manifest.csv', data: 'propertyName,value\noneroster.version,1.2\nfile.orgs,bulk\nfile.users,bulk\nfile.roles,bulk\n' },
      { name: 'orgs.csv', data: 'sourcedId,type,identifier\n' },
      { name: 'users.csv', data: 'sourcedId,enabledUser,givenName,familyName\n' },
    ]);
    expect(await refusal(zip)).toMatchObject({ code: 'oneroster_missing_file', names: ['roles.csv'] });
  });

  test('when users.csv lacks a required column, then oneroster_columns naming it and the file', async () => {
    const zip = oneRosterZip({ orgs, extra: [{ name: 'users.csv', data: 'sourcedId,givenName,familyName\nt1,A,B\n' }] });
    expect(await refusal(zip)).toMatchObject({ code: 'oneroster_columns', names: ['enabledUser'], file: 'users.csv' });
  });

  test('when users.csv is not UTF-8, then not_utf8 in users.csv', async () => {
    const zip = oneRosterZip({ orgs, extra: [{ name: 'users.csv', data: Buffer.from([0x73, 0x6f, 0xff, 0xfe, 0x0a]) }] });
    expect(await refusal(zip)).toMatchObject({ code: 'not_utf8', file: 'users.csv' });
  });

  test('when there are more staff than the row limit, then too_many_rows', async () => {
    const users = Array.from({ length: 3 }, (_, i) => userRow({ sourcedId: `t${i}`, givenName: 'T', familyName: String(i), email: `t${i}@test.example` }));
    const roles = users.map((u) => roleRow(u[0], 'teacher', 'o-lin'));
    const summary = emptySummary();
    const p = file(oneRosterZip({ orgs, users, roles }));
    await expect(async () => {
      for await (const row of readOneRosterFile(p, 2, summary)) void row;
    }).rejects.toMatchObject({ code: 'too_many_rows' });
  });
});
