import { jobTitleLookup } from '../../../src/components/roster/roster-row';
import { scimErrorOf } from './scim.helpers';
import { ENTERPRISE_SCHEMA, jobTitleOf, languageOf, parseActive, parseFilter, readPatch, readResource, resolveDraft } from '../../../src/components/scim/scim-user';

const ctx = { jobTitlesByName: jobTitleLookup([{ front_office: 'Front office', bus_driver: 'Bus driver' }, { bus_driver: 'Chofer de autobús' }]) };
const base = { userName: 'Ana@Example.org', displayName: 'Ana Ruiz', externalId: 'E1', [ENTERPRISE_SCHEMA]: { department: 'LIN' } };


describe('resolveDraft for a new person', () => {
  test('when the required attributes are present, then defaults fill the rest (active, other, English)', () => {
    expect(resolveDraft(readResource(base), undefined, ctx)).toEqual({ email: 'ana@example.org', name: 'Ana Ruiz', active: true, employeeId: 'E1', jobTitle: 'other', schoolCodes: ['LIN'], preferredLanguage: 'en' });
  });

  test('when attribute names differ in case and employeeNumber is sent, then they are read and employeeNumber wins over externalId', () => {
    const changes = resolveDraft(readResource({ USERNAME: 'a@b.org', name: { GivenName: 'Ana', familyName: 'Ruiz Soto' }, externalId: 'nick', [ENTERPRISE_SCHEMA.toUpperCase()]: { EmployeeNumber: 12345, department: 'LIN; ROO;LIN' } }), undefined, ctx);
    expect(changes).toMatchObject({ name: 'Ana Ruiz Soto', employeeId: '12345', schoolCodes: ['LIN', 'ROO'] });
  });

  test('when userName, name, employee id or school is missing or invalid, then 400 invalidValue', () => {
    const { userName: _u, ...noUser } = base;
    expect(scimErrorOf(() => resolveDraft(readResource(noUser), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, displayName: '  ' }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, externalId: undefined }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, externalId: '123 45 6789' }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, [ENTERPRISE_SCHEMA]: {} }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, userName: 'no-at-sign' }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, userName: ['a@b.org'] }), undefined, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => readResource('text'))).toBe('400:invalidSyntax');
  });
});

describe('readPatch', () => {
  const stored = { name: 'Ana Maria Ruiz' };

  test('when Entra sends Replace/Add with paths, then known attributes change and unknown ones (phones, emails, roles) are ignored', () => {
    const draft = readPatch({ Operations: [
      { op: 'Replace', path: 'name.givenName', value: 'Anita' },
      { op: 'Add', path: 'urn:ietf:params:scim:schemas:core:2.0:User:title', value: 'chofer de autobús' },
      { op: 'Replace', path: 'phoneNumbers[type eq "work"].value', value: '555' },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'x@y.org' },
    ] });
    // The stored name split at its first space: "Ana" + "Maria Ruiz".
    expect(resolveDraft(draft, stored, ctx)).toEqual({ name: 'Anita Maria Ruiz', jobTitle: 'bus_driver' });
  });

  test('when a value object has no path, then dotted keys and the extension object are read; later operations win', () => {
    const draft = readPatch({ Operations: [
      { op: 'replace', value: { active: 'False', 'name.familyName': 'Soto', [ENTERPRISE_SCHEMA]: { department: 'ROO' } } },
      { op: 'REPLACE', path: 'active', value: 'True' },
    ] });
    expect(resolveDraft(draft, stored, ctx)).toEqual({ name: 'Ana Soto', active: true, schoolCodes: ['ROO'] });
  });

  test('when remove is used, then optional attributes return to their defaults and required ones are refused', () => {
    expect(resolveDraft(readPatch({ Operations: [{ op: 'Remove', path: 'title' }, { op: 'remove', path: 'preferredLanguage' }] }), stored, ctx)).toEqual({ jobTitle: 'other', preferredLanguage: 'en' });
    expect(scimErrorOf(() => resolveDraft(readPatch({ Operations: [{ op: 'remove', path: 'active' }] }), stored, ctx))).toBe('400:mutability');
    expect(scimErrorOf(() => resolveDraft(readPatch({ Operations: [{ op: 'remove', path: 'externalId' }] }), stored, ctx))).toBe('400:mutability');
    expect(scimErrorOf(() => resolveDraft(readPatch({ Operations: [{ op: 'remove', path: `${ENTERPRISE_SCHEMA}:department` }] }), stored, ctx))).toBe('400:invalidValue');
    expect(scimErrorOf(() => resolveDraft(readPatch({ Operations: [{ op: 'remove', path: 'displayName' }] }), stored, ctx))).toBe('400:invalidValue');
  });

  test('when the PatchOp is malformed, then 400 with the matching scimType', () => {
    expect(scimErrorOf(() => readPatch({}))).toBe('400:invalidSyntax');
    expect(scimErrorOf(() => readPatch({ Operations: [{ op: 'move', path: 'active' }] }))).toBe('400:invalidSyntax');
    expect(scimErrorOf(() => readPatch({ Operations: [{ op: 'replace', path: 5, value: 1 }] }))).toBe('400:invalidPath');
    expect(scimErrorOf(() => readPatch({ Operations: [{ op: 'replace', value: 'x' }] }))).toBe('400:invalidSyntax');
    expect(scimErrorOf(() => readPatch({ Operations: [{ op: 'replace', path: 'a'.repeat(301), value: 'x' }] }))).toBe('400:invalidPath');
  });

  test('when keys are __proto__ or constructor, then they are ignored and no prototype changes', () => {
    const body = JSON.parse('{"Operations":[{"op":"add","value":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}},{"op":"add","path":"__proto__","value":{"polluted":1}}]}');
    expect(readPatch(body).size).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('small rules', () => {
  test('active accepts booleans and "True"/"False" in any case, nothing else', () => {
    expect([true, false, 'True', 'false', ' FALSE '].map(parseActive)).toEqual([true, false, true, false, false]);
    for (const bad of ['yes', 1, null, {}]) expect(scimErrorOf(() => parseActive(bad))).toBe('400:invalidValue');
  });

  test('preferredLanguage es… is Spanish, anything else English; unknown job titles are other', () => {
    expect(['es', 'es-MX', 'ES_us', 'en-US', 'fr', 'espanol'].map(languageOf)).toEqual(['es', 'es', 'es', 'en', 'en', 'en']);
    expect(jobTitleOf('Front Office', ctx.jobTitlesByName)).toBe('front_office');
    expect(jobTitleOf('bus-driver', ctx.jobTitlesByName)).toBe('bus_driver');
    expect(jobTitleOf('Chief Happiness Officer', ctx.jobTitlesByName)).toBe('other');
  });

  test('filters: userName (lower-cased) and externalId eq with escapes; anything else invalidFilter', () => {
    expect(parseFilter('userName eq "Ana@Example.org"')).toEqual({ attribute: 'userName', value: 'ana@example.org' });
    expect(parseFilter('EXTERNALID EQ "E\\"1"')).toEqual({ attribute: 'externalId', value: 'E"1' });
    for (const bad of ['userName ne "a"', 'userName eq "a" and active eq true', 'title eq "x"', '', `userName eq "${'a'.repeat(700)}"`]) {
      expect(scimErrorOf(() => parseFilter(bad))).toBe('400:invalidFilter');
    }
  });
});
