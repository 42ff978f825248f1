import { jobTitleLookup, normaliseHeader, parseHeader, validateRow, ROSTER_COLUMNS, type RosterColumn, type RowContext } from '../../../src/components/roster/roster-row';
import { actionFor, changedFields, snapshotOf, targetOf } from '../../../src/components/roster/roster-diff';

const ctx: RowContext = {
  schoolsByCode: new Map([
    ['LIN', { id: 'a'.repeat(24), active: true }],
    ['ROO', { id: 'b'.repeat(24), active: true }],
    ['OLD', { id: 'c'.repeat(24), active: false }],
  ]),
  jobTitlesByName: jobTitleLookup([{ front_office: 'Front office', bus_driver: 'Bus driver' }, { front_office: 'Oficina principal' }]),
};
const columns = [...ROSTER_COLUMNS] as RosterColumn[];
const good = ['E1', 'Ana@Example.org', 'Ana Ruiz', 'staff', 'teacher', 'LIN', 'es', '2026-08-17'];

function codes(cells: string[]) {
  return validateRow(cells, columns, 7, ctx).errors.map((e) => `${e.column}:${e.code}`);
}

describe('parseHeader', () => {
  test('when names differ in case, spacing or dashes and come in any order, then they map to the columns', () => {
    const result = parseHeader(['School Codes', 'EMPLOYEE ID', 'e-mail'.replace('e-mail', 'Email'), 'Name', 'role', 'Job-Title']);
    expect(result).toEqual({ ok: true, columns: ['school_codes', 'employee_id', 'email', 'name', 'role', 'job_title'] });
    expect(normaliseHeader('\uFEFFemployee_id')).toBe('employee_id');
  });

  test('when an unknown column is present, then it is named and nothing else is checked', () => {
    expect(parseHeader([...good.map((_, i) => ROSTER_COLUMNS[i]), 'Date of birth'])).toEqual({ ok: false, code: 'unknown_columns', names: ['Date of birth'] });
  });

  test('when a required column is missing or repeated, then the header is refused', () => {
    expect(parseHeader(['employee_id', 'email', 'name', 'role', 'school_codes'])).toEqual({ ok: false, code: 'missing_columns', names: ['job_title'] });
    expect(parseHeader(['employee_id', 'email', 'Email', 'name', 'role', 'job_title', 'school_codes'])).toEqual({ ok: false, code: 'duplicate_columns', names: ['email'] });
  });
});

describe('validateRow', () => {
  test('when every value is valid, then the row is normalised (email lower-cased, schools as ids)', () => {
    const { row, errors } = validateRow(good, columns, 7, ctx);
    expect(errors).toEqual([]);
    expect(row).toEqual({ line: 7, employeeId: 'E1', email: 'ana@example.org', name: 'Ana Ruiz', role: 'staff', jobTitle: 'teacher', schoolIds: ['a'.repeat(24)], language: 'es', startDate: '2026-08-17' });
  });

  test('when job titles are given as English or Spanish labels, then they are accepted', () => {
    expect(validateRow(['E1', 'a@x.org', 'A', 'Staff', 'front office', 'lin', '', ''], columns, 2, ctx).row?.jobTitle).toBe('front_office');
    expect(validateRow(['E1', 'a@x.org', 'A', 'staff', 'Oficina principal', 'LIN', '', ''], columns, 2, ctx).row?.jobTitle).toBe('front_office');
    expect(validateRow(['E1', 'a@x.org', 'A', 'staff', 'BUS_DRIVER', 'LIN', '', ''], columns, 2, ctx).row?.jobTitle).toBe('bus_driver');
  });

  test('when several school codes are separated by ";", then each is resolved once, in the file’s order (the first is the person’s first school)', () => {
    expect(validateRow(['E1', 'a@x.org', 'A', 'principal', '', ' roo ; LIN;LIN;', '', ''], columns, 2, ctx).row).toMatchObject({ role: 'principal', jobTitle: null, schoolIds: ['b'.repeat(24), 'a'.repeat(24)] });
  });

  test('when optional values are blank, then they are null (keep what is stored)', () => {
    expect(validateRow(['E1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', ''], columns, 2, ctx).row).toMatchObject({ language: null, startDate: null });
  });

  test.each([
    [['', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', ''], ['employee_id:required']],
    [['E 1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', ''], ['employee_id:employee_id_invalid']],
    [['{"$ne":1}', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', ''], ['employee_id:employee_id_invalid']],
    [['E1', 'a@', 'A', 'staff', 'teacher', 'LIN', '', ''], ['email:email_invalid']],
    [['E1', 'a@x.org', '', 'staff', 'teacher', 'LIN', '', ''], ['name:required']],
    [['E1', 'a@x.org', 'A', 'teacher', 'teacher', 'LIN', '', ''], ['role:role_invalid']],
    [['E1', 'a@x.org', 'A', 'District Admin', '', 'LIN', '', ''], ['role:role_admin']],
    [['E1', 'a@x.org', 'A', 'region_admin', '', 'LIN', '', ''], ['role:role_region_admin']],
    [['E1', 'a@x.org', 'A', 'Region Administrator', '', 'LIN', '', ''], ['role:role_region_admin']],
    [['E1', 'a@x.org', 'A', 'staff', '', 'LIN', '', ''], ['job_title:job_title_required']],
    [['E1', 'a@x.org', 'A', 'staff', 'astronaut', 'LIN', '', ''], ['job_title:job_title_unknown']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', '', '', ''], ['school_codes:school_required']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN;XYZ', '', ''], ['school_codes:school_unknown']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', 'OLD', '', ''], ['school_codes:school_inactive']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', 'fr', ''], ['language:language_invalid']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', '2026-02-30'], ['start_date:start_date_invalid']],
    [['E1', 'a@x.org', 'A', 'staff', 'teacher', 'LIN', '', '17/08/2026'], ['start_date:start_date_invalid']],
    [['E1', 'a@x.org', 'A'.repeat(201), 'staff', 'teacher', 'LIN', '', ''], ['name:name_too_long']],
    [['E1', 'a@x.org', 'A'], [':column_count']],
  ])('when the row is %j, then it reports %j', (cells, expected) => {
    expect(codes(cells)).toEqual(expected);
    expect(validateRow(cells, columns, 7, ctx).row).toBeUndefined();
  });

  test('when a row has several problems, then all are reported with the same line', () => {
    const { errors } = validateRow(['', 'bad', '', 'boss', '', 'XYZ', 'xx', 'soon'], columns, 12, ctx);
    expect(errors.map((e) => e.column).sort()).toEqual(['email', 'employee_id', 'language', 'name', 'role', 'school_codes', 'start_date'].sort());
    expect(errors.every((e) => e.line === 12)).toBe(true);
  });

  test('when values look like formulas, then they are kept as text', () => {
    expect(validateRow(['E1', 'a@x.org', '=1+2', 'staff', 'teacher', 'LIN', '', ''], columns, 2, ctx).row?.name).toBe('=1+2');
  });
});

describe('roster diff', () => {
  const stored = { _id: 'x', employeeId: 'E1', email: 'ana@example.org', name: 'Ana Ruiz', role: 'staff', jobTitle: 'teacher', schools: ['a'.repeat(24)], preferredLanguage: 'es', startDate: new Date('2026-08-17T00:00:00Z'), active: true };

  test('when the row matches the stored person, then nothing changes', () => {
    const before = snapshotOf(stored);
    const after = targetOf(validateRow(good, columns, 2, ctx).row!, before);
    expect(changedFields(before, after)).toEqual([]);
    expect(actionFor(before, [])).toBeNull();
  });

  test('when blank language and start date, then the stored ones are kept', () => {
    const before = snapshotOf(stored);
    const after = targetOf(validateRow(['E1', 'ana@example.org', 'Ana Ruiz', 'staff', 'teacher', 'LIN', '', ''], columns, 2, ctx).row!, before);
    expect(after).toMatchObject({ preferredLanguage: 'es', startDate: '2026-08-17' });
  });

  test('when the school and job title differ, then exactly those fields change; inactive people are reactivated', () => {
    const before = snapshotOf(stored);
    const after = targetOf(validateRow(['E1', 'ana@example.org', 'Ana Ruiz', 'staff', 'bus driver', 'ROO', '', ''], columns, 2, ctx).row!, before);
    expect(changedFields(before, after)).toEqual(['jobTitle', 'schools']);
    expect(actionFor(before, ['jobTitle'])).toBe('update');
    expect(actionFor({ ...before, active: false }, [])).toBe('reactivate');
    expect(actionFor(null, [])).toBe('create');
  });
});
