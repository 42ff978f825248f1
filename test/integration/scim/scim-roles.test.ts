import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { hashPassword } from '../../../src/components/auth';
import { AuditEvent } from '../../../src/components/audit';
import { ScimSettings } from '../../../src/components/scim/scim-settings.model';
import { prepareTrainingContent } from '../../../src/components/training';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createRegion, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment } from '../assignments/compliance-fixtures';
import { ENTERPRISE, PATCH_OP, USER_SCHEMA, entraUser, expectScimError, scimClient, scimDistrict } from './scim.helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(); // the repository's modules/: a demoted principal's own training page
});
afterAll(async () => {
  await t.close();
});

/** The district admin turns "Provisioning may make people principals" on or off on /admin/scim. */
async function setPrincipals(admin: Agent, value: unknown) {
  const csrf = await csrfFor(admin, '/admin/scim');
  return admin.post('/admin/scim/principals').type('form').send({ _csrf: csrf, principals: value });
}

/** What Entra sends with the mapping SingleAppRoleAssignment([appRoleAssignments]) → roles[primary eq "True"].value. */
function withRole(body: Record<string, unknown>, role: string) {
  return { ...body, roles: [{ primary: true, type: 'WindowsAzureActiveDirectoryRole', value: role }] };
}

/** SCIM sets no password: the admin sets one (here directly) so the person can sign in for the test. */
async function signInProvisioned(id: string, email: string): Promise<Agent> {
  await User.updateOne({ _id: id }, { $set: { passwordHash: await hashPassword(TEST_PASSWORD) } });
  return signIn(t.app, email);
}

describe('principals from the roles attribute', () => {
  test('when Entra creates a person with the app role "principal" and the district allows it, then they are principal of their school only, GET returns the role and the audit log says so in both languages', async () => {
    const { district, lincoln, roosevelt, admin, token } = await scimDistrict(t.app);
    await createAssignment(district, { roles: ['staff', 'principal'] });
    const scim = scimClient(t.app, token);
    const on = await setPrincipals(admin, 'on');
    expect(on.status).toBe(303);
    expect(on.headers.location).toBe('/admin/scim#principals-heading');
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.principals_setting_changed' }).lean()).toMatchObject({ details: { enabled: true, ignored: 0 } });

    const created = await scim.post('/Users', withRole(entraUser({ userName: 'P.Lee@District.example', employeeNumber: 'P-100', title: 'Principal' }), 'principal'));

    expect(created.status).toBe(201);
    expect(created.body.roles).toEqual([{ value: 'principal', primary: true }]);
    const id = created.body.id as string;
    const stored = await User.findById(id).lean();
    expect(stored).toMatchObject({ role: 'principal', email: 'p.lee@district.example' });
    expect(stored!.jobTitle).toBeUndefined();
    expect(stored!.schools.map(String)).toEqual([String(lincoln._id)]);
    expect(await ComplianceRow.findOne({ user: id }).lean()).toMatchObject({ role: 'principal' });
    const event = await AuditEvent.findOne({ district: district._id, action: 'scim.user_created', 'target.id': id }).lean();
    expect(event!.details).toEqual({ via: 'scim', fields: ['email', 'name', 'employeeId', 'role', 'schools', 'active', 'preferredLanguage'], role: 'principal' });
    expect(event!.actor).toBeUndefined();

    const read = await scim.get(`/Users/${id}`);
    expect(read.body.roles).toEqual([{ value: 'principal', primary: true }]);

    const principal = await signInProvisioned(id, 'p.lee@district.example');
    expect((await principal.get(`/school/${lincoln._id}`)).status).toBe(200);
    expect((await principal.get(`/school/${roosevelt._id}`)).status).toBe(404);

    const log = await admin.get('/admin/audit?action=scim.user_created');
    expect(log.status).toBe(200);
    expect(log.text).toContain('Added by automatic provisioning (SCIM) as Principal, with: email, name, employee id, role, schools, active, and preferred language.');
    const spanish = await admin.get('/admin/audit?action=scim.user_created&lang=es');
    expect(spanish.text).toContain('Agregada por aprovisionamiento automático (SCIM) como Director(a), con:');
  });

  test('when Entra replaces the primary role with "staff", then the principal is demoted (audited as a role change by provisioning) and sees only their own training', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    await setPrincipals(admin, 'on');
    const person = await createUser(district, { role: 'principal', schools: [lincoln] });
    const agent = await signIn(t.app, person.email);
    expect((await agent.get(`/school/${lincoln._id}`)).status).toBe(200);

    const res = await scim.patch(`/Users/${person._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'staff' }] });

    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual([{ value: 'staff', primary: true }]);
    expect(await User.findById(person._id).lean()).toMatchObject({ role: 'staff', jobTitle: 'other' });
    const change = await AuditEvent.findOne({ district: district._id, action: 'user.role_changed', 'target.id': String(person._id) }).lean();
    expect(change!.details).toEqual({ from: 'principal', to: 'staff', via: 'scim' });
    expect(change!.actor).toBeUndefined();
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.user_updated', 'target.id': String(person._id) }).lean()).toMatchObject({ details: { fields: ['role', 'jobTitle'] } });
    // Their open session follows at its next request: the school page is a principal's; their training is theirs.
    expect((await agent.get(`/school/${lincoln._id}`)).status).toBe(403);
    expect((await agent.get('/training')).status).toBe(200);
    const log = await admin.get('/admin/audit?action=user.role_changed');
    expect(log.text).toContain('Changed the role from Principal to Staff. By automatic provisioning (SCIM).');
    expect((await admin.get('/admin/audit?action=user.role_changed&lang=es')).text).toContain('Mediante el aprovisionamiento automático (SCIM).');

    // Re-sending the same role changes and audits nothing.
    expect((await scim.patch(`/Users/${person._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'Staff' }] })).status).toBe(200);
    expect(await AuditEvent.countDocuments({ district: district._id, 'target.id': String(person._id) })).toBe(2);
  });

  test('when roles arrive by PATCH path, pathless value, remove and PUT, with OneRoster names and Spanish labels in any case, then each is applied', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    await setPrincipals(admin, 'on');
    const person = await createUser(district, { schools: [lincoln], jobTitle: 'teacher' });
    const id = String(person._id);
    const roleNow = async () => (await User.findById(id).lean())!.role;

    expect((await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'roles', value: [{ value: 'siteAdministrator' }] }] })).status).toBe(200);
    expect(await roleNow()).toBe('principal');
    expect((await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'roles' }] })).status).toBe(200);
    expect(await roleNow()).toBe('staff');
    expect((await User.findById(id).lean())!.jobTitle).toBe('other');
    const pathless = await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { roles: [{ value: 'staff', primary: 'False' }, { value: 'DIRECTOR(A)', primary: 'True' }] } }] });
    expect(pathless.status).toBe(200);
    expect(await roleNow()).toBe('principal');
    const put = await scim.put(`/Users/${id}`, { schemas: [USER_SCHEMA], userName: person.email, displayName: person.name, title: 'Bus driver', roles: [{ value: 'Staff' }] });
    expect(put.status).toBe(200);
    expect(await User.findById(id).lean()).toMatchObject({ role: 'staff', jobTitle: 'bus_driver' });
    // PUT without roles keeps the role (attributes left out are kept).
    expect((await scim.put(`/Users/${id}`, { schemas: [USER_SCHEMA], userName: person.email, displayName: 'Renamed' })).status).toBe(200);
    expect(await roleNow()).toBe('staff');
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'user.role_changed', 'target.id': id })).toBe(4);
  });

  test("when a principal's school code (department) changes, then what they see moves with it and their compliance row follows", async () => {
    const { district, lincoln, roosevelt, admin, token } = await scimDistrict(t.app);
    await createAssignment(district, { roles: ['staff', 'principal'] });
    const scim = scimClient(t.app, token);
    await setPrincipals(admin, 'on');
    const id = (await scim.post('/Users', withRole(entraUser({ userName: 'mover@district.example', employeeNumber: 'P-200' }), 'principal'))).body.id as string;
    const agent = await signInProvisioned(id, 'mover@district.example');
    expect((await agent.get(`/school/${lincoln._id}`)).status).toBe(200);

    const res = await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: `${ENTERPRISE}:department`, value: 'ROO' }] });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roles: [{ value: 'principal', primary: true }], [ENTERPRISE]: { department: 'ROO' } });
    expect((await agent.get(`/school/${roosevelt._id}`)).status).toBe(200);
    expect((await agent.get(`/school/${lincoln._id}`)).status).toBe(404);
    const row = await ComplianceRow.findOne({ user: id }).lean();
    expect(row!.schools.map(String)).toEqual([String(roosevelt._id)]);
  });
});

describe('the district setting', () => {
  test('when the setting is off (the default), then a principal role is accepted, the person stays or is created as staff, and /admin/scim counts the requests', async () => {
    const { district, lincoln, admin, adminUser, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const staff = await createUser(district, { schools: [lincoln] });
    const rosterPrincipal = await createUser(district, { role: 'principal', schools: [lincoln] });
    expect((await admin.get('/admin/scim')).text).toContain('Provisioning does not make people principals');

    const created = await scim.post('/Users', withRole(entraUser(), 'principal'));
    const patched = await scim.patch(`/Users/${staff._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'principal' }] });
    // Roles are not applied at all while off: a principal made in the app or by the roster is not demoted either.
    const kept = await scim.patch(`/Users/${rosterPrincipal._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles', value: [{ value: 'staff' }] }] });

    expect(created.status).toBe(201);
    expect(created.body.roles).toEqual([{ value: 'staff', primary: true }]);
    expect(patched.status).toBe(200);
    expect(kept.status).toBe(200);
    expect(await User.findById(created.body.id).lean()).toMatchObject({ role: 'staff', jobTitle: 'front_office' });
    expect((await User.findById(staff._id).lean())!.role).toBe('staff');
    expect((await User.findById(rosterPrincipal._id).lean())!.role).toBe('principal');
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'user.role_changed' })).toBe(0);
    expect(await ScimSettings.findOne({ district: district._id }).lean()).toMatchObject({ principalsAllowed: false, principalRequestsIgnored: 2 });
    expect((await admin.get('/admin/scim')).text).toContain('2 requests asked to make someone a principal while this was off');

    // Turning it on is audited with the count, and the count starts again.
    expect((await setPrincipals(admin, 'on')).status).toBe(303);
    const event = await AuditEvent.findOne({ district: district._id, action: 'scim.principals_setting_changed' }).lean();
    expect(event).toMatchObject({ details: { enabled: true, ignored: 2 } });
    expect(String(event!.actor)).toBe(String(adminUser._id));
    const after = await admin.get('/admin/scim');
    expect(after.text).toContain('Provisioning makes people principals.');
    expect(after.text).not.toContain('asked to make someone a principal');
    const log = await admin.get('/admin/audit?action=scim.principals_setting_changed');
    expect(log.text).toContain('Allowed automatic provisioning (SCIM) to make people principals of their schools. Until then, 2 requests for a principal role had been applied as staff.');
    // Saving the same choice again changes nothing and writes no event.
    expect((await setPrincipals(admin, 'on')).status).toBe(303);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.principals_setting_changed' })).toBe(1);
  });

  test('when the form is sent with no or an unknown choice, then 422 with the error summary, and the setting is unchanged', async () => {
    const { district, admin } = await scimDistrict(t.app);

    for (const value of ['maybe', '', ['on', 'off'], undefined]) {
      const res = await setPrincipals(admin, value);
      expect(res.status).toBe(422);
      expect(res.text).toContain('id="error-summary"');
      expect(res.text).toContain('href="#field-principals"');
      expect(res.text).toContain('Choose whether provisioning may make people principals.');
      expect(res.text).toContain('id="field-principals"');
    }
    expect(await ScimSettings.exists({ district: district._id })).toBeNull();
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'scim.principals_setting_changed' })).toBe(0);
  });

  test('when a principal posts the setting, then 403 and nothing is stored', async () => {
    const { district, lincoln } = await scimDistrict(t.app);
    const principal = await createUser(district, { role: 'principal', schools: [lincoln] });
    const agent = await signIn(t.app, principal.email);
    const csrf = await csrfFor(agent, '/account');
    expect((await agent.post('/admin/scim/principals').type('form').send({ _csrf: csrf, principals: 'on' })).status).toBe(403);
    expect(await ScimSettings.exists({ district: district._id })).toBeNull();
  });
});

describe('refusals', () => {
  test('when a district administrator role is sent, then 400 mutability whatever the setting, and nothing is created or changed', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const staff = await createUser(district, { schools: [lincoln], name: 'Kept Name' });
    const before = await User.countDocuments({ district: district._id });

    for (const allowed of ['off', 'on']) {
      if (allowed === 'on') await setPrincipals(admin, 'on');
      for (const value of ['admin', 'district_admin', 'District Administrator', 'districtAdministrator', 'Administrador(a) del distrito']) {
        const res = await scim.post('/Users', withRole(entraUser({ userName: `x-${allowed}@district.example`, employeeNumber: `X-${allowed}` }), value));
        expectScimError(res, 400, 'mutability');
        expect(res.body.detail).toMatch(/never grants/);
      }
      expectScimError(await scim.patch(`/Users/${staff._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'New' }, { op: 'Replace', path: 'roles[primary eq "True"].value', value: 'Admin' }] }), 400, 'mutability');
      expectScimError(await scim.put(`/Users/${staff._id}`, { schemas: [USER_SCHEMA], userName: staff.email, displayName: 'New', roles: [{ value: 'principal' }, { value: 'systemAdministrator' }] }), 400, 'mutability');
    }

    expect(await User.countDocuments({ district: district._id })).toBe(before);
    expect(await User.findById(staff._id).lean()).toMatchObject({ role: 'staff', name: 'Kept Name' });
    expect(await AuditEvent.countDocuments({ district: district._id, 'target.kind': 'user' })).toBe(0);
  });

  test('when a region administrator role is sent for someone who is not one, then 400 mutability whatever the setting; for a region administrator, their other fields change and their role never', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    const staff = await createUser(district, { schools: [lincoln], name: 'Kept Name' });
    const region = await createRegion(district);
    const overseer = await createUser(district, { role: 'region_admin', regions: [region], name: 'Region Person' });
    const before = await User.countDocuments({ district: district._id });
    for (const allowed of ['off', 'on']) {
      if (allowed === 'on') await setPrincipals(admin, 'on');
      for (const value of ['region_admin', 'Region administrator']) {
        const res = await scim.post('/Users', withRole(entraUser({ userName: `r-${allowed}@district.example`, employeeNumber: `R-${allowed}` }), value));
        expectScimError(res, 400, 'mutability');
        expect(res.body.detail).toMatch(/Region administrators are made in the app only/);
      }
      expectScimError(await scim.patch(`/Users/${staff._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'region_admin' }] }), 400, 'mutability');
    }
    expect(await User.countDocuments({ district: district._id })).toBe(before);
    expect(await User.findById(staff._id).lean()).toMatchObject({ role: 'staff', name: 'Kept Name' });
    // The region administrator: a demotion and the value sent back as read both leave the role; the name changes.
    const demoted = await scim.patch(`/Users/${overseer._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'displayName', value: 'Renamed Person' }, { op: 'Replace', path: 'roles[primary eq "True"].value', value: 'staff' }] });
    expect(demoted.status).toBe(200);
    expect((await scim.patch(`/Users/${overseer._id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'region_admin' }] })).status).toBe(200);
    const stored = await User.findById(overseer._id).lean().orFail();
    expect([stored.role, stored.name, (stored.regions ?? []).map(String)]).toEqual(['region_admin', 'Renamed Person', [String(region._id)]]);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'user.role_changed' })).toBe(0);
  });

  test('when roles has an odd shape or an operator, then 400 invalidValue (or invalidPath), never 500, and nothing changes', async () => {
    const { district, lincoln, admin, token } = await scimDistrict(t.app);
    const scim = scimClient(t.app, token);
    await setPrincipals(admin, 'on');
    const staff = await createUser(district, { schools: [lincoln] });
    const patch = (operation: Record<string, unknown>) => scim.patch(`/Users/${staff._id}`, { schemas: [PATCH_OP], Operations: [operation] });

    const shapes: unknown[] = ['principal', { value: 'principal' }, [[{ value: 'principal' }]], [{ value: { $ne: null } }], [{ value: ['principal'] }], [{ value: 'principal', primary: { $gt: '' } }], [{ display: 'principal' }], ['principal'], [{ value: 'principle' }], [{ value: 'student' }], { $ne: null }, 42, true];
    for (const roles of shapes) {
      expectScimError(await scim.post('/Users', { ...entraUser({ userName: 'odd@district.example', employeeNumber: 'O-1' }), roles }), 400, 'invalidValue');
      expectScimError(await patch({ op: 'replace', path: 'roles', value: roles }), 400, 'invalidValue');
    }
    for (const value of [['principal'], { value: 'principal' }, { $ne: null }, 1]) {
      expectScimError(await patch({ op: 'replace', path: 'roles[primary eq "True"].value', value }), 400, 'invalidValue');
    }
    expectScimError(await patch({ op: 'replace', path: 'roles[type eq "x"].value', value: 'principal' }), 400, 'invalidPath');
    expectScimError(await scim.post('/Users', { ...entraUser({ userName: 'odd@district.example', employeeNumber: 'O-1' }), roles: Array.from({ length: 21 }, () => ({ value: 'staff' })) }), 400, 'invalidValue');

    expect(await User.exists({ district: district._id, email: 'odd@district.example' })).toBeNull();
    expect((await User.findById(staff._id).lean())!.role).toBe('staff');
    expect(await AuditEvent.countDocuments({ district: district._id, 'target.kind': 'user' })).toBe(0);
  });
});

describe('discovery', () => {
  test('when a client reads the User schema, then it lists roles (multi-valued value/primary)', async () => {
    const { token } = await scimDistrict(t.app);
    const res = await scimClient(t.app, token).get(`/Schemas/${USER_SCHEMA}`);
    expect(res.status).toBe(200);
    const roles = res.body.attributes.find((a: { name: string }) => a.name === 'roles');
    expect(roles).toMatchObject({ type: 'complex', multiValued: true, mutability: 'readWrite' });
    expect(roles.subAttributes.map((a: { name: string }) => a.name)).toEqual(['value', 'primary']);
  });
});
