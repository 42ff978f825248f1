import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createUser } from '../../helpers/factories';
import { ENTERPRISE, PATCH_OP, SCIM_TYPE, entraUser, expectScimError, scimClient, scimDistrict } from './scim.helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('authentication', () => {
  test('when the token is missing, malformed, unknown or sent another way, then 401 with the same SCIM error, no session cookie and no hint which', async () => {
    const { token } = await scimDistrict(t.app);
    const answers = [
      await request(t.app).get('/scim/v2/Users'),
      await request(t.app).get('/scim/v2/Users').set('Authorization', 'Bearer nonsense'),
      await request(t.app).get('/scim/v2/Users').set('Authorization', `Bearer ${token.slice(0, -2)}xx`),
      await request(t.app).get('/scim/v2/Users').set('Authorization', `Basic ${token}`),
      await request(t.app).get(`/scim/v2/Users?access_token=${token}`),
    ];
    for (const res of answers) {
      expectScimError(res, 401);
      expect(res.body.detail).toBe('Authentication failed');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const ok = await scimClient(t.app, token).get('/Users');
    expect(ok.status).toBe(200);
    expect(ok.headers['set-cookie']).toBeUndefined();
  });
});

describe('scoping and safety', () => {
  test("when a district's token names a person of another district (GET, PATCH, PUT, DELETE), then 404 and the person is unchanged; lists and filters show only the own district", async () => {
    const a = await scimDistrict(t.app);
    const b = await scimDistrict(t.app);
    const other = await createUser(b.district, { schools: [b.lincoln], email: 'shared@district.example' });
    const scim = scimClient(t.app, a.token);

    expectScimError(await scim.get(`/Users/${other._id}`), 404);
    expectScimError(await scim.patch(`/Users/${other._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }), 404);
    expectScimError(await scim.put(`/Users/${other._id}`, entraUser()), 404);
    expectScimError(await scim.delete(`/Users/${other._id}`), 404);
    expectScimError(await scim.get('/Users/not-an-id'), 404);
    expect((await User.findById(other._id).lean())!.active).toBe(true);
    const filtered = await scim.get('/Users?filter=' + encodeURIComponent('userName eq "shared@district.example"'));
    expect(filtered.body.totalResults).toBe(0);
    const all = await scim.get('/Users');
    expect(all.body.Resources.map((r: { id: string }) => r.id)).toEqual([String(a.adminUser._id)]);
  });

  test('when the department holds an unknown or inactive school code, then 400 invalidValue naming the code, and nobody is created or moved', async () => {
    const { district, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);

    const unknown = await scim.post('/Users', entraUser({ department: 'NOPE' }));
    expectScimError(unknown, 400, 'invalidValue');
    expect(unknown.body.detail).toContain('"NOPE"');
    expectScimError(await scim.post('/Users', entraUser({ department: 'OLD' })), 400, 'invalidValue');
    expect(await User.countDocuments({ district: district._id, role: 'staff' })).toBe(0);

    const id = (await scim.post('/Users', entraUser({ department: 'lin' }))).body.id;
    const move = await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: `${ENTERPRISE}:department`, value: 'ROO;NOPE' }] });
    expectScimError(move, 400, 'invalidValue');
    expect((await User.findById(id).lean())!.schools).toHaveLength(1);
  });

  test('when a POST names an email or employee id already in the district, then 409 uniqueness and nothing is written', async () => {
    const { district, lincoln, token } = await scimDistrict(t.app);
    await createUser(district, { schools: [lincoln], email: 'taken@district.example', employeeId: 'E-9' });
    const scim = scimClient(t.app, token);

    expectScimError(await scim.post('/Users', entraUser({ userName: 'TAKEN@district.example' })), 409, 'uniqueness');
    expectScimError(await scim.post('/Users', entraUser({ userName: 'new@district.example', employeeNumber: 'E-9' })), 409, 'uniqueness');
    const id = (await scim.post('/Users', entraUser({ userName: 'free@district.example', employeeNumber: 'E-10' }))).body.id;
    expectScimError(await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'taken@district.example' }] }), 409, 'uniqueness');
    expect(await User.countDocuments({ district: district._id, email: 'taken@district.example' })).toBe(1);
    expect((await User.findById(id).lean())!.email).toBe('free@district.example');
  });

  test('when SCIM tries to deactivate or change a district admin, then 400 mutability and the admin is untouched; a principal keeps their role', async () => {
    const { district, lincoln, adminUser, token } = await scimDistrict(t.app);
    const principal = await createUser(district, { role: 'principal', schools: [lincoln] });
    const scim = scimClient(t.app, token);

    expectScimError(await scim.delete(`/Users/${adminUser._id}`), 400, 'mutability');
    expectScimError(await scim.patch(`/Users/${adminUser._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }), 400, 'mutability');
    expectScimError(await scim.patch(`/Users/${adminUser._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'userName', value: 'attacker@evil.example' }] }), 400, 'mutability');
    // Entra re-sending the admin's current values changes nothing and is not an error.
    expect((await scim.patch(`/Users/${adminUser._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: true }] })).status).toBe(200);
    const admin = await User.findById(adminUser._id).lean();
    expect(admin).toMatchObject({ role: 'district_admin', active: true, email: adminUser.email });

    // Provisioning never grants the district administrator role (docs/scim.md "Principals"): the whole request is refused.
    expectScimError(await scim.patch(`/Users/${principal._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles', value: [{ value: 'district_admin' }] }, { op: 'Replace', path: 'displayName', value: 'Other Name' }] }), 400, 'mutability');
    const res = await scim.patch(`/Users/${principal._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'title', value: 'Teacher' }, { op: 'Replace', path: 'displayName', value: 'New Name' }] });
    expect(res.status).toBe(200);
    const after = await User.findById(principal._id).lean();
    expect(after).toMatchObject({ role: 'principal', name: 'New Name' });
    expect(after!.jobTitle).toBeUndefined();
    expect(await AuditEvent.countDocuments({ district: district._id, 'target.id': String(adminUser._id) })).toBe(0);
  });
});

describe('bad input', () => {
  test('when a filter other than userName/externalId eq is sent, then 400 invalidFilter; externalId eq matches the employee id; paging follows startIndex and count', async () => {
    const { district, lincoln, token } = await scimDistrict(t.app);
    for (let i = 0; i < 3; i++) await createUser(district, { schools: [lincoln], employeeId: `P-${i}` });
    const scim = scimClient(t.app, token);

    for (const filter of ['userName co "a"', 'displayName eq "x"', 'userName eq "a" or userName eq "b"', 'emails[type eq "work"].value eq "x"', 'userName eq x']) {
      expectScimError(await scim.get('/Users?filter=' + encodeURIComponent(filter)), 400, 'invalidFilter');
    }
    expectScimError(await scim.get('/Users?filter=a&filter=b'), 400, 'invalidFilter');
    const byExternal = await scim.get('/Users?filter=' + encodeURIComponent('externalId eq "P-1"'));
    expect(byExternal.body.totalResults).toBe(1);
    expect(byExternal.body.Resources[0].externalId).toBe('P-1');
    const page = await scim.get('/Users?startIndex=2&count=2');
    expect(page.body).toMatchObject({ totalResults: 4, startIndex: 2, itemsPerPage: 2 });
    const countOnly = await scim.get('/Users?count=0');
    expect(countOnly.body).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
  });

  test('when bodies are malformed, of the wrong shape or carry operators and __proto__, then 400 SCIM errors, nothing is stored, and the process keeps answering', async () => {
    const { district, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const id = (await scim.post('/Users', entraUser({ userName: 'keep@district.example', employeeNumber: 'K-1' }))).body.id;

    const malformed = await request(t.app).post('/scim/v2/Users').set('Authorization', `Bearer ${token}`).set('Content-Type', SCIM_TYPE).send('{"userName": ');
    expectScimError(malformed, 400, 'invalidSyntax');
    expectScimError(await request(t.app).post('/scim/v2/Users').set('Authorization', `Bearer ${token}`).set('Content-Type', 'text/plain').send('hello'), 400, 'invalidSyntax');
    expectScimError(await request(t.app).post('/scim/v2/Users').set('Authorization', `Bearer ${token}`).set('Content-Type', SCIM_TYPE).send(JSON.stringify({ userName: 'x'.repeat(70_000) })), 413);
    expectScimError(await scim.post('/Users', [entraUser()]), 400, 'invalidSyntax');
    expectScimError(await scim.post('/Users', { ...entraUser(), userName: { $ne: null } }), 400, 'invalidValue');
    expectScimError(await scim.post('/Users', { ...entraUser(), userName: 'not-an-email' }), 400, 'invalidValue');
    expectScimError(await scim.post('/Users', { ...entraUser({ userName: 'a@district.example' }), [ENTERPRISE]: { department: 'LIN' }, externalId: undefined }), 400, 'invalidValue');
    expectScimError(await scim.post('/Users', { ...entraUser({ userName: 'b@district.example', employeeNumber: '123-45-6789 x' }) }), 400, 'invalidValue');
    const injected = await scim.get('/Users?filter=' + encodeURIComponent('userName eq "{\\"$ne\\": null}"'));
    expect(injected.status).toBe(200);
    expect(injected.body.totalResults).toBe(0);
    const polluted = JSON.parse('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"__proto__","value":{"polluted":true}},{"op":"replace","value":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}]}');
    expect((await scim.patch(`/Users/${id}`, polluted)).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [{ op: 'delete', path: 'active' }] }), 400, 'invalidSyntax');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [] }), 400, 'invalidSyntax');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }), 400, 'invalidValue');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [{ op: 'replace', path: 'displayName', value: ['x'] }] }), 400, 'invalidValue');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [{ op: 'remove', path: 'userName' }] }), 400, 'invalidValue');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: [{ op: 'remove' }] }), 400, 'noTarget');
    expectScimError(await scim.patch(`/Users/${id}`, { Operations: Array.from({ length: 101 }, () => ({ op: 'replace', path: 'active', value: true })) }), 400, 'tooMany');

    const stored = await User.findById(id).lean();
    expect(stored).toMatchObject({ email: 'keep@district.example', active: true, employeeId: 'K-1' });
    expect(await User.countDocuments({ district: district._id, role: 'staff' })).toBe(1);
    expect((await scim.get('/ServiceProviderConfig')).status).toBe(200);
  });

  test('when a client asks for Groups or an unknown path, then a clean SCIM 501 or 404, never the HTML app', async () => {
    const { token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);

    expectScimError(await scim.get('/Groups?excludedAttributes=members'), 501);
    expectScimError(await scim.post('/Groups', { displayName: 'Teachers' }), 501);
    expectScimError(await scim.get('/Groups/abc'), 501);
    expectScimError(await scim.get('/Nope'), 404);
    expectScimError(await scim.get('/Schemas/urn:nope'), 404);
  });
});
