import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { emptySummary, isZip, MAX_ENTRY_BYTES, readOneRosterFile, type OneRosterContext } from '../../../src/components/roster/oneroster-file';
import { RosterFileProblem, type FileRow } from '../../../src/components/roster/roster-file';
import { buildZip, bulkManifest, oneRosterZip, orgRow, roleRow, ROLES_HEADER, USERS_HEADER, userRow } from '../../helpers/zip';

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

async function read(content: Buffer, maxRows = 1000, context: OneRosterContext = {}) {
  const summary = emptySummary();
  const rows: FileRow[] = [];
  for await (const row of readOneRosterFile(file(content), maxRows, summary, context)) rows.push(row);
  return { rows, summary };
}

/** A roles.csv row with its dates. */
function datedRole(userSourcedId: string, role: string, org: string, beginDate: string, endDate: string): string[] {
  const row = roleRow(userSourcedId, role, org);
  row[ROLES_HEADER.indexOf('beginDate')] = beginDate;
  row[ROLES_HEADER.indexOf('endDate')] = endDate;
  return row;
}

function csvText(rows: string[][]): string {
  return rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
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

describe('role dates', () => {
  const today = '2026-11-27';
  const users = [
    userRow({ sourcedId: 't-now', givenName: 'Now', familyName: 'Teach', email: 'now@test.example', identifier: 'E1' }), // line 2
    userRow({ sourcedId: 't-gone', givenName: 'Gone', familyName: 'Teach', email: 'gone@test.example', identifier: 'E2' }), // line 3
    userRow({ sourcedId: 't-later', givenName: 'Later', familyName: 'Teach', email: 'later@test.example', identifier: 'E3' }), // line 4
    userRow({ sourcedId: 't-moved', givenName: 'Moved', familyName: 'Teach', email: 'moved@test.example', identifier: 'E4' }), // line 5
    userRow({ sourcedId: 't-bad', givenName: 'Bad', familyName: 'Date', email: 'bad@test.example', identifier: 'E5' }), // line 6
  ];

  test('when roles ended or have not started, then they do not count: people with no current role are skipped, roles are counted, and a date that is not a date is a problem on the person\'s users.csv line', async () => {
    const zip = oneRosterZip({
      orgs,
      users,
      roles: [
        datedRole('t-now', 'teacher', 'o-lin', '2026-08-01', '2027-06-30'), // roles.csv line 2
        datedRole('t-gone', 'teacher', 'o-lin', '2025-08-01', '2026-06-30'),
        datedRole('t-later', 'teacher', 'o-lin', '2026-12-01', ''),
        datedRole('t-moved', 'teacher', 'o-lin', '', '2026-06-30'),
        datedRole('t-moved', 'counselor', 'o-roo', '2026-07-01', ''),
        datedRole('t-bad', 'teacher', 'o-lin', '06/30/2026', ''), // roles.csv line 7
      ],
    });
    const { rows, summary } = await read(zip, 1000, { today });
    expect(rows.slice(1)).toEqual([
      { cells: ['E1', 'now@test.example', 'Now Teach', 'staff', 'teacher', 'LIN'], line: 2 },
      { cells: ['E4', 'moved@test.example', 'Moved Teach', 'staff', 'counselor', 'ROO'], line: 5 },
      { cells: ['E5', 'bad@test.example', 'Bad Date', 'staff', 'teacher', 'LIN'], line: 6, problems: [{ line: 6, column: 'role', code: 'role_date_invalid', value: '06/30/2026', other: '7' }] },
    ]);
    expect(summary).toMatchObject({ skippedNotCurrent: 2, rolesNotCurrent: 3, skippedNonStaff: 0 });
  });

  test('when the same file is read on the last day of a role, then the role still counts (endDate is inclusive)', async () => {
    const zip = oneRosterZip({ orgs, users: users.slice(1, 2), roles: [datedRole('t-gone', 'teacher', 'o-lin', '', '2026-06-30')] });
    expect((await read(zip, 1000, { today: '2026-06-30' })).rows).toHaveLength(2);
    expect((await read(zip, 1000, { today: '2026-07-01' })).rows).toHaveLength(1);
  });

  test('when a student role has dates outside today, then the user is still never imported', async () => {
    const zip = oneRosterZip({
      orgs,
      users: [userRow({ sourcedId: 'sa', givenName: 'Stu', familyName: 'Aide', email: 'sa@kids.example', identifier: 'SA1' })],
      roles: [datedRole('sa', 'student', 'o-lin', '2020-08-01', '2024-06-30'), roleRow('sa', 'aide', 'o-lin')],
    });
    const { rows, summary } = await read(zip, 1000, { today });
    expect(rows).toHaveLength(1);
    expect(summary.skippedNonStaff).toBe(1);
  });
});

describe('reading roles.csv once', () => {
  test('when student roles come before and after staff roles of the same users, then roles.csv is opened once and those users are skipped', async () => {
    const open = jest.spyOn(yauzl.ZipFile.prototype, 'openReadStreamPromise');
    try {
      const zip = oneRosterZip({
        orgs,
        users: [
          userRow({ sourcedId: 'sa', givenName: 'Stu', familyName: 'Aide', email: 'sa@kids.example' }),
          userRow({ sourcedId: 'as', givenName: 'Aide', familyName: 'Stu', email: 'as@kids.example' }),
          userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E100' }),
        ],
        roles: [
          roleRow('s-only', 'student', 'o-lin'),
          roleRow('sa', 'student', 'o-lin'),
          roleRow('t1', 'teacher', 'o-lin'),
          roleRow('sa', 'aide', 'o-lin'),
          roleRow('as', 'aide', 'o-roo'),
          roleRow('as', 'student', 'o-roo'),
        ],
      });
      const { rows, summary } = await read(zip);
      expect(rows.map((r) => r.cells[0])).toEqual(['employee_id', 'E100']);
      expect(summary.skippedNonStaff).toBe(2);
      const opened = open.mock.calls.map(([entry]) => (entry as { fileName: string }).fileName);
      expect(opened.filter((name) => name === 'roles.csv')).toHaveLength(1);
      expect(opened.sort()).toEqual(['manifest.csv', 'orgs.csv', 'roles.csv', 'users.csv']);
    } finally {
      open.mockRestore();
    }
  });
});

describe('school matching', () => {
  test('when orgs have no identifier but their sourcedId is a school code, then they match; orgs matching no school are listed once with the people they affect', async () => {
    const sisOrgs = [orgRow('LIN', 'school', '', 'Lincoln Elementary'), orgRow('guid-roo', 'school', '', 'ROO'), orgRow('org-x', 'school', 'XYZ', 'Other School'), orgRow('o-d', 'district', '')];
    const zip = oneRosterZip({
      orgs: sisOrgs,
      users: [
        userRow({ sourcedId: 't1', givenName: 'A', familyName: 'One', email: 'a1@test.example', identifier: 'E1' }),
        userRow({ sourcedId: 't2', givenName: 'A', familyName: 'Two', email: 'a2@test.example', identifier: 'E2' }),
        userRow({ sourcedId: 't3', givenName: 'A', familyName: 'Three', email: 'a3@test.example', identifier: 'E3' }),
        userRow({ sourcedId: 's1', givenName: 'Kid', familyName: 'One', email: 'kid@kids.example' }),
      ],
      roles: [
        roleRow('t1', 'teacher', 'LIN'),
        roleRow('t2', 'teacher', 'guid-roo'),
        roleRow('t2', 'aide', 'org-x', 'secondary'),
        roleRow('t3', 'teacher', 'guid-roo'),
        roleRow('t3', 'counselor', 'org-gone', 'secondary'),
        roleRow('s1', 'student', 'guid-roo'),
      ],
    });
    const { rows, summary } = await read(zip, 1000, { schoolCodes: new Set(['LIN', 'ROO']) });
    expect(rows.slice(1).map((r) => r.cells[5])).toEqual(['LIN', 'orgs.csv:guid-roo:no-identifier;XYZ', 'orgs.csv:guid-roo:no-identifier;orgs.csv?org-gone']);
    expect(summary.unmatchedOrgCount).toBe(3);
    expect(summary.unmatchedOrgs).toEqual([
      { sourcedId: 'guid-roo', name: 'ROO', identifier: '', reason: 'no_identifier', people: 2 },
      { sourcedId: 'org-gone', name: '', identifier: '', reason: 'not_in_orgs', people: 1 },
      { sourcedId: 'org-x', name: 'Other School', identifier: 'XYZ', reason: 'unknown_code', people: 1 },
    ]);
  });
});

describe('CRC-32', () => {
  const users = csvText([USERS_HEADER, userRow({ sourcedId: 't1', givenName: 'Tina', familyName: 'Teach', email: 'tina@test.example', identifier: 'E100' })]);
  const roles = [roleRow('t1', 'teacher', 'o-lin')];
  // One byte changed, same length: the sizes agree, only the checksum can tell.
  const damaged = Buffer.from(users.replace('tina@test.example', 'tina@test.exbmple'), 'utf8');

  test('when a stored entry has a changed byte, then zip_crc naming the entry', async () => {
    const zip = oneRosterZip({ orgs, roles, extra: [{ name: 'users.csv', data: users, method: 'store', body: damaged }] });
    expect(await refusal(zip)).toMatchObject({ code: 'zip_crc', file: 'users.csv', names: ['users.csv'] });
  });

  test('when a deflated entry inflates to other bytes than it was written from, then zip_crc naming the entry', async () => {
    const zip = oneRosterZip({ orgs, users: [userRow({ sourcedId: 't1', givenName: 'T', familyName: 'T', email: 't@test.example' })], extra: [{ name: 'roles.csv', data: csvText([ROLES_HEADER, ...roles]), body: deflateRawSync(Buffer.from(csvText([ROLES_HEADER, roleRow('t1', 'teacher', 'o-roo')]))) }] });
    expect(await refusal(zip)).toMatchObject({ code: 'zip_crc', file: 'roles.csv' });
  });

  test('when the same entries are intact, then they are read', async () => {
    const { rows } = await read(oneRosterZip({ orgs, roles, extra: [{ name: 'users.csv', data: users, method: 'store' }] }));
    expect(rows[1].cells[1]).toBe('tina@test.example');
  });
});
