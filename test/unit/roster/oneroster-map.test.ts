import { addRole, checkManifest, convertUser, emptyRoles, matchOrg, orgFixOf, roleDatesOf, roleKindOf, schoolCodeOf, type OneRosterUser, type OrgInfo, type UserRoles } from '../../../src/components/roster/oneroster-map';

const orgs = new Map<string, OrgInfo>([
  ['org-lin', { type: 'school', identifier: 'LIN' }],
  ['org-roo', { type: 'school', identifier: 'ROO' }],
  ['org-district', { type: 'district', identifier: 'D1' }],
  ['org-noid', { type: 'school', identifier: '' }],
]);

function user(fields: Partial<OneRosterUser> = {}): OneRosterUser {
  return { sourcedId: 'u1', status: '', enabledUser: 'true', identifier: 'E1', userMasterIdentifier: '', givenName: 'Ana', preferredGivenName: '', familyName: 'Ruiz', email: 'ana@test.example', ...fields };
}

function rolesOf(...list: [role: string, org: string, roleType?: string][]): UserRoles {
  const roles = emptyRoles();
  for (const [role, org, roleType] of list) {
    const mapped = roleKindOf(role);
    if (mapped) addRole(roles, mapped, org, roleType ?? 'primary');
  }
  return roles;
}

describe('OneRoster role mapping', () => {
  test.each([
    ['teacher', 'staff', 'teacher'],
    ['counselor', 'staff', 'counselor'],
    ['aide', 'staff', 'paraeducator'],
    ['proctor', 'staff', 'other'],
    ['Teacher', 'staff', 'teacher'],
  ])('when the role is %s, then the row is %s with job title %s', (role, ourRole, jobTitle) => {
    const result = convertUser(user(), rolesOf([role, 'org-lin']), orgs);
    expect(result).toEqual({ cells: ['E1', 'ana@test.example', 'Ana Ruiz', ourRole, jobTitle, 'LIN'] });
  });

  test.each(['principal', 'siteAdministrator'])('when the role is %s, then the row is a principal of the schools they lead (no job title)', (role) => {
    const result = convertUser(user(), rolesOf(['teacher', 'org-roo'], [role, 'org-lin', 'secondary']), orgs);
    expect(result).toEqual({ cells: ['E1', 'ana@test.example', 'Ana Ruiz', 'principal', '', 'LIN'] });
  });

  test.each(['districtAdministrator', 'systemAdministrator'])('when the only role is %s, then the user is skipped as an administrator', (role) => {
    expect(convertUser(user(), rolesOf([role, 'org-district']), orgs)).toEqual({ skip: 'admin' });
  });

  test.each(['student', 'parent', 'guardian', 'relative', 'ext:coach'])('when the only role is %s, then the user is skipped as non-staff', (role) => {
    expect(convertUser(user(), rolesOf([role, 'org-lin']), orgs)).toEqual({ skip: 'non_staff' });
  });

  test('when a user has no role at all, then they are skipped as non-staff', () => {
    expect(convertUser(user(), undefined, orgs)).toEqual({ skip: 'non_staff' });
  });

  test('when a student also has an aide role, then they are still skipped (a student is never imported)', () => {
    expect(convertUser(user(), rolesOf(['aide', 'org-lin'], ['student', 'org-lin']), orgs)).toEqual({ skip: 'non_staff' });
  });

  test('when a teacher is also a parent, then they are imported as a teacher (nothing about the parent role)', () => {
    expect(convertUser(user(), rolesOf(['parent', 'org-lin'], ['teacher', 'org-lin']), orgs)).toEqual({ cells: ['E1', 'ana@test.example', 'Ana Ruiz', 'staff', 'teacher', 'LIN'] });
  });

  test('when a staff member has roles at two schools, then the primary role gives the job title and both schools are listed', () => {
    const result = convertUser(user(), rolesOf(['aide', 'org-roo', 'secondary'], ['counselor', 'org-lin', 'primary'], ['aide', 'org-district', 'secondary']), orgs);
    expect(result).toEqual({ cells: ['E1', 'ana@test.example', 'Ana Ruiz', 'staff', 'counselor', 'LIN;ROO'] });
  });
});

describe('OneRoster user fields', () => {
  test('when identifier is blank, then the employee id is userMasterIdentifier, else sourcedId', () => {
    const roles = rolesOf(['teacher', 'org-lin']);
    expect((convertUser(user({ identifier: '', userMasterIdentifier: 'M-9' }), roles, orgs) as { cells: string[] }).cells[0]).toBe('M-9');
    expect((convertUser(user({ identifier: ' ', userMasterIdentifier: '', sourcedId: 'src-7' }), roles, orgs) as { cells: string[] }).cells[0]).toBe('src-7');
  });

  test('when a preferred given name is set, then it replaces the given name', () => {
    const result = convertUser(user({ preferredGivenName: 'Annie', givenName: 'Ana' }), rolesOf(['teacher', 'org-lin']), orgs) as { cells: string[] };
    expect(result.cells[2]).toBe('Annie Ruiz');
  });

  test('when enabledUser is false or the status is tobedeleted, then the user is skipped as disabled', () => {
    expect(convertUser(user({ enabledUser: 'FALSE' }), rolesOf(['teacher', 'org-lin']), orgs)).toEqual({ skip: 'disabled' });
    expect(convertUser(user({ status: 'tobedeleted' }), rolesOf(['teacher', 'org-lin']), orgs)).toEqual({ skip: 'disabled' });
  });

  test('when a role points at an org missing from orgs.csv or a school without identifier, then the code can never equal a school code', () => {
    expect(schoolCodeOf(orgs, 'org-x')).toBe('orgs.csv?org-x');
    expect(schoolCodeOf(orgs, 'org-noid')).toBe('orgs.csv:org-noid:no-identifier');
    expect(schoolCodeOf(orgs, 'org-district')).toBeNull();
    for (const code of [schoolCodeOf(orgs, 'org-x'), schoolCodeOf(orgs, 'org-noid')]) expect(code).not.toMatch(/^[A-Z0-9_-]+$/);
  });
});

describe('OneRoster manifest', () => {
  const bulk = new Map([['oneroster.version', '1.2'], ['file.orgs', 'bulk'], ['file.users', 'bulk'], ['file.roles', 'bulk'], ['file.classes', 'absent']]);

  test('when it is a 1.2 bulk manifest with orgs, users and roles, then it is accepted', () => {
    expect(checkManifest(bulk)).toEqual({ ok: true });
  });

  test('when the version is not 1.2, then it is refused naming the version', () => {
    expect(checkManifest(new Map([...bulk, ['oneroster.version', '1.1']]))).toEqual({ ok: false, code: 'oneroster_version', names: ['1.1'] });
    expect(checkManifest(new Map([...bulk].filter(([k]) => k !== 'oneroster.version')))).toMatchObject({ ok: false, code: 'oneroster_version' });
  });

  test('when any file is delta, then it is refused (bulk only)', () => {
    expect(checkManifest(new Map([...bulk, ['file.classes', 'delta']]))).toEqual({ ok: false, code: 'oneroster_delta', names: ['classes.csv'] });
    expect(checkManifest(new Map([...bulk, ['file.academicSessions', 'Delta']]))).toEqual({ ok: false, code: 'oneroster_delta', names: ['academicSessions.csv'] });
    expect(checkManifest(new Map([...bulk, ['File.Users', 'delta']]))).toEqual({ ok: false, code: 'oneroster_delta', names: ['Users.csv'] });
  });

  test('when users is absent (or not listed), then it is refused naming the file', () => {
    expect(checkManifest(new Map([...bulk, ['file.users', 'absent']]))).toEqual({ ok: false, code: 'oneroster_missing_file', names: ['users.csv'] });
    expect(checkManifest(new Map([...bulk].filter(([k]) => k !== 'file.roles')))).toEqual({ ok: false, code: 'oneroster_missing_file', names: ['roles.csv'] });
  });
});

describe('OneRoster role dates', () => {
  const today = '2026-11-27';

  test.each([
    ['', '', 'current'],
    ['2026-08-01', '2027-06-30', 'current'],
    ['2026-11-27', '', 'current'],
    ['', '2026-11-27', 'current'],
    [' 2026-08-01 ', ' 2027-06-30 ', 'current'],
    ['', '2026-06-30', 'not_current'],
    ['', '2026-11-26', 'not_current'],
    ['2026-11-28', '', 'not_current'],
    ['2026-12-01', '2027-06-30', 'not_current'],
  ])('when beginDate is "%s" and endDate "%s" on 2026-11-27, then the role is %s (both bounds inclusive, either blank)', (begin, end, status) => {
    expect(roleDatesOf(begin, end, today)).toEqual({ status });
  });

  test.each(['06/30/2026', '2026-02-30', '2026-6-30', '2026-06-30T00:00:00Z', 'soon'])('when a date is "%s", then it is invalid with its text (never guessed)', (value) => {
    expect(roleDatesOf(value, '', today)).toEqual({ status: 'invalid', value });
    expect(roleDatesOf('', value, today)).toEqual({ status: 'invalid', value });
  });

  test('when every staff role of a user was outside its dates, then the user is skipped as not current (an administrator stays "admin")', () => {
    const roles = emptyRoles();
    roles.notCurrent = true;
    expect(convertUser(user(), roles, orgs)).toEqual({ skip: 'not_current' });
    roles.admin = true;
    expect(convertUser(user(), roles, orgs)).toEqual({ skip: 'admin' });
  });
});

describe('OneRoster school matching', () => {
  const codes = new Set(['LIN', 'ROO', '0042']);
  const sis = new Map<string, OrgInfo>([
    ['org-lin', { type: 'school', identifier: 'lin', name: 'Lincoln Elementary' }],
    ['0042', { type: 'school', identifier: '', name: 'Jefferson High' }],
    ['roo', { type: 'school', identifier: '9999', name: 'Roosevelt Middle' }],
    ['5f1c9a2e-guid', { type: 'school', identifier: '', name: 'LIN' }],
    ['org-x', { type: 'school', identifier: 'XYZ', name: 'Other' }],
    ['org-d', { type: 'district', identifier: '', name: 'District' }],
  ]);

  test('when the identifier is a school code (any case), then it matches', () => {
    expect(matchOrg(sis, 'org-lin', codes)).toEqual({ code: 'lin' });
  });

  test('when identifier is blank or not a code but sourcedId is a school code, then sourcedId matches', () => {
    expect(matchOrg(sis, '0042', codes)).toEqual({ code: '0042' });
    expect(matchOrg(sis, 'roo', codes)).toEqual({ code: 'roo' });
  });

  test('when only the name equals a school code, then nothing matches (never by name)', () => {
    expect(matchOrg(sis, '5f1c9a2e-guid', codes)).toEqual({ unmatched: 'no_identifier', value: 'orgs.csv:5f1c9a2e-guid:no-identifier' });
  });

  test('when nothing matches, then the reason and a value validation reports', () => {
    expect(matchOrg(sis, 'org-x', codes)).toEqual({ unmatched: 'unknown_code', value: 'XYZ' });
    expect(matchOrg(sis, 'org-gone', codes)).toEqual({ unmatched: 'not_in_orgs', value: 'orgs.csv?org-gone' });
    expect(matchOrg(sis, 'org-d', codes)).toBeNull();
  });

  test('when the org of a role is matched by sourcedId, then the person gets that school', () => {
    expect(convertUser(user(), rolesOf(['teacher', '0042']), sis, codes)).toEqual({ cells: ['E1', 'ana@test.example', 'Ana Ruiz', 'staff', 'teacher', '0042'] });
  });

  test('when an org matches no school, then the fix names a code to give the school, or says to fill identifier', () => {
    expect(orgFixOf({ reason: 'unknown_code', identifier: 'xyz', sourcedId: 'org-x' })).toEqual({ key: 'give_code', code: 'XYZ' });
    expect(orgFixOf({ reason: 'no_identifier', identifier: '', sourcedId: '0042' })).toEqual({ key: 'give_code', code: '0042' });
    expect(orgFixOf({ reason: 'no_identifier', identifier: '', sourcedId: '5f1c9a2e-0000-4000-8000-000000000000' })).toEqual({ key: 'fill_identifier' });
    expect(orgFixOf({ reason: 'not_in_orgs', identifier: '', sourcedId: 'org-gone' })).toEqual({ key: 'not_in_orgs' });
  });
});
