import { scimErrorOf } from './scim.helpers';
import { readPatch, readResource, resolveDraft, roleOfValue } from '../../../src/components/scim/scim-user';

const rolesByName = new Map([['principal', 'principal'], ['director(a)', 'principal'], ['director', 'principal'], ['personal', 'staff'], ['administrador(a) del distrito', 'district_admin']] as const);
const ctx = { jobTitlesByName: new Map(), rolesByName };
const base = { userName: 'ana@example.org', displayName: 'Ana Ruiz', externalId: 'E1', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'LIN' } };


describe('roleOfValue', () => {
  test.each([
    ['principal', 'principal'],
    [' PRINCIPAL ', 'principal'],
    ['siteAdministrator', 'principal'],
    ['site administrator', 'principal'],
    ['Director(a)', 'principal'],
    ['staff', 'staff'],
    ['Personal', 'staff'],
    ['teacher', 'staff'],
    ['User', 'staff'],
    ['msiam_access', 'staff'],
    ['', 'staff'],
    ['admin', 'district_admin'],
    ['District administrator', 'district_admin'],
    ['districtAdministrator', 'district_admin'],
    ['systemAdministrator', 'district_admin'],
    ['Administrador(a) del distrito', 'district_admin'],
    ['region_admin', 'region_admin'],
    ['Region administrator', 'region_admin'],
  ])('when the value is %j, then it names %s', (value, role) => {
    expect(roleOfValue(value, ctx)).toBe(role);
  });

  test.each([['principle'], ['student'], ['parent'], ['$ne']])('when the value is %j, then 400 invalidValue', (value) => {
    expect(scimErrorOf(() => roleOfValue(value, ctx))).toBe('400:invalidValue');
  });
});

describe('roles in a draft', () => {
  test('when primary entries are marked, then only they count; otherwise any principal value makes a principal; [] and remove are staff', () => {
    const role = (roles: unknown) => resolveDraft(readResource({ ...base, roles }), undefined, ctx).role;
    expect(role([{ value: 'principal', primary: false }, { value: 'staff', primary: 'True' }])).toBe('staff');
    expect(role([{ value: 'staff' }, { value: 'principal' }])).toBe('principal');
    expect(role([])).toBe('staff');
    expect(role(null)).toBe('staff');
    expect(resolveDraft(readResource(base), undefined, ctx).role).toBeUndefined();
    // Named only so the service can refuse it (or keep a region administrator's role as it is).
    expect(role([{ value: 'region_admin' }])).toBe('region_admin');
    expect(resolveDraft(readPatch({ Operations: [{ op: 'remove', path: 'roles[primary eq "True"].value' }] }), { name: 'A' }, ctx).role).toBe('staff');
  });

  test('when any entry names a district administrator, then 400 mutability, even beside a primary principal', () => {
    expect(scimErrorOf(() => resolveDraft(readResource({ ...base, roles: [{ value: 'principal', primary: true }, { value: 'admin' }] }), undefined, ctx))).toBe('400:mutability');
  });
});
