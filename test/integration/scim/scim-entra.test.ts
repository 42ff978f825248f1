import { Types } from 'mongoose';
import { countsBySchool } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createUser } from '../../helpers/factories';
import { signIn } from '../../helpers/session';
import { createAssignment } from '../assignments/compliance-fixtures';
import { ENTERPRISE, PATCH_OP, SCIM_TYPE, entraUser, scimClient, scimDistrict } from './scim.helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function peopleAt(districtId: Types.ObjectId, schoolId: Types.ObjectId): Promise<number> {
  return (await countsBySchool(String(districtId), {}, new Date())).get(String(schoolId))?.all.total ?? 0;
}

describe("Microsoft Entra ID's provisioning sequence", () => {
  test('when Entra matches, creates, updates and disables a person, then each answer is what Entra expects and the stored person, audit log and compliance counts follow', async () => {
    const { district, lincoln, roosevelt, token } = await scimDistrict(t.app);
    await createUser(district, { schools: [lincoln] });
    await createAssignment(district, { roles: ['staff'] });
    const scim = scimClient(t.app, token);
    expect(await peopleAt(district._id, lincoln._id)).toBe(1);

    // 1. Entra looks the person up by userName first: an empty ListResponse, not a 404.
    const lookup = await scim.get('/Users?filter=' + encodeURIComponent('userName eq "Julia.Garcia@District.example"'));
    expect(lookup.status).toBe(200);
    expect(lookup.headers['content-type']).toContain(SCIM_TYPE);
    expect(lookup.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    // 2. Create.
    const created = await scim.post('/Users', entraUser());
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toContain(SCIM_TYPE);
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`${t.config.baseUrl}/scim/v2/Users/${id}`);
    expect(created.body).toMatchObject({
      userName: 'julia.garcia@district.example',
      externalId: 'E-1001',
      displayName: 'Julia Garcia',
      active: true,
      title: 'front_office',
      preferredLanguage: 'es',
      [ENTERPRISE]: { employeeNumber: 'E-1001', department: 'LIN' },
      meta: { resourceType: 'User', location: `${t.config.baseUrl}/scim/v2/Users/${id}` },
    });
    expect(created.body.phoneNumbers).toBeUndefined();
    const stored = await User.findById(id).lean();
    expect(stored).toMatchObject({ email: 'julia.garcia@district.example', name: 'Julia Garcia', employeeId: 'E-1001', role: 'staff', jobTitle: 'front_office', active: true, preferredLanguage: 'es' });
    expect(stored!.schools.map(String)).toEqual([String(lincoln._id)]);
    // Least data: nothing else Entra sent (phone, address, manager) is kept.
    expect(Object.keys((await User.collection.findOne({ _id: new Types.ObjectId(id) }))!).sort()).toEqual(['__v', '_id', 'active', 'createdAt', 'district', 'email', 'employeeId', 'failedSignIns', 'jobTitle', 'name', 'preferredLanguage', 'role', 'schools', 'sessionEpoch', 'updatedAt']);
    expect(await peopleAt(district._id, lincoln._id)).toBe(2);
    const createdEvent = await AuditEvent.findOne({ district: district._id, action: 'scim.user_created' }).lean();
    expect(createdEvent).toMatchObject({ target: { kind: 'user', id }, details: { via: 'scim' } });
    expect(createdEvent!.actor).toBeUndefined();

    // 3. The lookup now finds the person (Entra's next cycle matches this way).
    const found = await scim.get('/Users?filter=' + encodeURIComponent('userName eq "julia.garcia@district.example"'));
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);

    // 4. Entra's PATCH: "Replace" operations with paths, including ones we do not keep.
    const patched = await scim.patch(`/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'julia.garcia@district.example' },
        { op: 'Replace', path: 'name.familyName', value: 'Garcia-Lopez' },
        { op: 'Replace', path: 'title', value: 'Teacher' },
        { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'ROO' },
        { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0199' },
      ],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, displayName: 'Julia Garcia-Lopez', title: 'teacher', active: true, [ENTERPRISE]: { department: 'ROO' } });
    const moved = await User.findById(id).lean();
    expect(moved).toMatchObject({ name: 'Julia Garcia-Lopez', jobTitle: 'teacher', active: true });
    expect(moved!.schools.map(String)).toEqual([String(roosevelt._id)]);
    expect(await peopleAt(district._id, lincoln._id)).toBe(1);
    expect(await peopleAt(district._id, roosevelt._id)).toBe(1);
    const updatedEvent = await AuditEvent.findOne({ district: district._id, action: 'scim.user_updated' }).lean();
    expect(updatedEvent!.details).toEqual({ via: 'scim', fields: ['name', 'jobTitle', 'schools'] });
    expect(JSON.stringify(updatedEvent)).not.toContain('Garcia-Lopez');

    // 5. Unassigned in Entra: "active" as the string "False".
    const disabled = await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(disabled.status).toBe(200);
    expect(disabled.body.active).toBe(false);
    expect((await User.findById(id).lean())!.active).toBe(false);
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.user_deactivated' }).lean()).toMatchObject({ target: { id }, details: { fields: ['active'] } });
    expect(await ComplianceRow.exists({ user: id })).toBeNull();
    expect(await peopleAt(district._id, roosevelt._id)).toBe(0);

    // 6. Entra reads the person back.
    const read = await scim.get(`/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, active: false, userName: 'julia.garcia@district.example' });
  });

  test('when Entra sends a PATCH without a path (an object value, keys with dots and the extension URN), then every known attribute is applied', async () => {
    const { district, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const id = (await scim.post('/Users', entraUser({ userName: 'p.nguyen@district.example', employeeNumber: 'E-2002' }))).body.id;

    const res = await scim.patch(`/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { 'name.givenName': 'Phuong', displayName: 'Phuong Nguyen', active: 'True', [ENTERPRISE]: { department: 'LIN;ROO' }, preferredLanguage: 'en-US' } }],
    });

    expect(res.status).toBe(200);
    const stored = await User.findById(id).lean();
    expect(stored).toMatchObject({ district: district._id, name: 'Phuong Nguyen', preferredLanguage: 'en', active: true });
    expect(stored!.schools).toHaveLength(2);
  });

  test('when a signed-in person is deactivated by Entra, then their open session ends at its next request', async () => {
    const { district, lincoln, token } = await scimDistrict(t.app);
    const person = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, person.email);
    expect((await agent.get('/account')).status).toBe(200);

    const res = await scimClient(t.app, token).patch(`/Users/${person._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: false }] });

    expect(res.status).toBe(200);
    const after = await agent.get('/account');
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
  });
});

describe("Okta's style (PUT) and DELETE", () => {
  test('when Okta replaces a person with PUT and then deactivates with PUT active false, then the stored person follows and attributes left out are kept', async () => {
    const { district, roosevelt, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const id = (await scim.post('/Users', entraUser({ userName: 'okta.user@district.example', employeeNumber: 'E-3003' }))).body.id;
    const put = (active: boolean) =>
      scim.put(`/Users/${id}`, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id,
        userName: 'okta.user@district.example',
        name: { givenName: 'Okta', familyName: 'Person' },
        emails: [{ primary: true, value: 'okta.user@district.example', type: 'work' }],
        active,
        [ENTERPRISE]: { department: 'ROO' },
      });

    const replaced = await put(true);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ displayName: 'Okta Person', active: true, externalId: 'E-3003', title: 'front_office' });
    const stored = await User.findById(id).lean();
    expect(stored).toMatchObject({ name: 'Okta Person', employeeId: 'E-3003', jobTitle: 'front_office', preferredLanguage: 'es' });
    expect(stored!.schools.map(String)).toEqual([String(roosevelt._id)]);

    const deactivated = await put(false);
    expect(deactivated.status).toBe(200);
    expect((await User.findById(id).lean())!.active).toBe(false);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.user_deactivated', 'target.id': id })).toBe(1);
  });

  test('when a client sends DELETE, then the person is deactivated (never deleted) and the answer is 204; a second DELETE changes nothing', async () => {
    const { district, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const id = (await scim.post('/Users', entraUser({ userName: 'leaver@district.example', employeeNumber: 'E-4004' }))).body.id;

    const res = await scim.delete(`/Users/${id}`);
    const again = await scim.delete(`/Users/${id}`);

    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(again.status).toBe(204);
    expect(await User.findById(id).lean()).toMatchObject({ active: false, email: 'leaver@district.example' });
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.user_deactivated' })).toBe(1);
  });
});

describe('discovery', () => {
  test('when a client reads ServiceProviderConfig, ResourceTypes and Schemas, then they describe patch and filter support, no bulk/sort/etag/changePassword, bearer tokens and the User type only', async () => {
    const { token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);

    const config = await scim.get('/ServiceProviderConfig');
    const types = await scim.get('/ResourceTypes');
    const schemas = await scim.get('/Schemas');

    expect(config.status).toBe(200);
    expect(config.headers['content-type']).toContain(SCIM_TYPE);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 100 },
      bulk: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      changePassword: { supported: false },
      authenticationSchemes: [{ type: 'oauthbearertoken' }],
    });
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User']);
    expect(schemas.body.Resources.map((r: { id: string }) => r.id)).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE]);
    expect((await scim.get(`/Schemas/${ENTERPRISE}`)).body.name).toBe('EnterpriseUser');
  });
});
