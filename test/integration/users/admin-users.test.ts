import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { signIn as signInService } from '../../../src/components/auth';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFor, signIn, type Agent, postForm } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let otherDistrict: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let elsewhere: Awaited<ReturnType<typeof createSchool>>;
let admin: Awaited<ReturnType<typeof createUser>>;
let adminAgent: Agent;
let principalAgent: Agent;
let staffAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  otherDistrict = await createDistrict();
  lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN' });
  roosevelt = await createSchool(district, { name: 'Roosevelt Middle', code: 'ROO' });
  elsewhere = await createSchool(otherDistrict, { name: 'Elsewhere High', code: 'ELS' });
  admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', name: 'Ada Admin' });
  const principal = await createUser(district, { role: 'principal', schools: [lincoln], email: 'principal@test.example' });
  const staff = await createUser(district, { role: 'staff', schools: [lincoln], email: 'staff@test.example' });
  adminAgent = await signIn(t.app, admin.email);
  principalAgent = await signIn(t.app, principal.email);
  staffAgent = await signIn(t.app, staff.email);
});
afterAll(async () => {
  await t.close();
});

const validPerson = (overrides: Record<string, unknown> = {}) => ({
  name: 'Rosa Martínez',
  email: `rosa.${Math.random().toString(36).slice(2)}@test.example`,
  employeeId: '',
  role: 'staff',
  jobTitle: 'custodian',
  schools: String(lincoln._id),
  preferredLanguage: 'es',
  startDate: '2026-08-14',
  ...overrides,
});


describe('GET /admin/users', () => {
  test('when anonymous, then it goes to sign-in', async () => {
    const res = await request(t.app).get('/admin/users');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
  });

  test.each([['principal'], ['staff']])('when signed in as %s, then 403', async (role) => {
    const res = await (role === 'principal' ? principalAgent : staffAgent).get('/admin/users');
    expect(res.status).toBe(403);
    expect(res.text).toContain('You do not have access');
  });

  test('when an admin lists, then only people of their own district appear, with their schools', async () => {
    await createUser(otherDistrict, { name: 'Outside Person', schools: [elsewhere] });
    await createUser(district, { name: 'Inside Person', schools: [roosevelt] });
    const res = await adminAgent.get('/admin/users');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Inside Person');
    expect(res.text).not.toContain('Outside Person');
    expect(res.text).toContain('Roosevelt Middle');
    expect(res.text).toContain('<th scope="col">');
  });

  test('when searching by name, email or employee id, then matches are found and regex characters are literal', async () => {
    await createUser(district, { name: 'Zoe Searchable', email: 'zoe.s@test.example', employeeId: 'EMP-7788', schools: [lincoln] });
    for (const q of ['searchable', 'zoe.s@', 'EMP-7788']) {
      const res = await adminAgent.get('/admin/users').query({ q });
      expect(res.text).toContain('Zoe Searchable');
    }
    const res = await adminAgent.get('/admin/users').query({ q: '.*' });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('Zoe Searchable');
  });

  test('when filtering by school, role and status, then only matching people appear', async () => {
    await createUser(district, { name: 'Filter Roosevelt Driver', jobTitle: 'bus_driver', schools: [roosevelt] });
    await createUser(district, { name: 'Filter Lincoln Gone', schools: [lincoln], active: false });
    const bySchool = await adminAgent.get('/admin/users').query({ school: String(roosevelt._id), role: 'staff' });
    expect(bySchool.text).toContain('Filter Roosevelt Driver');
    expect(bySchool.text).not.toContain('Filter Lincoln Gone');
    const inactive = await adminAgent.get('/admin/users').query({ active: 'false' });
    expect(inactive.text).toContain('Filter Lincoln Gone');
    expect(inactive.text).not.toContain('Filter Roosevelt Driver');
    const admins = await adminAgent.get('/admin/users').query({ role: 'district_admin' });
    expect(admins.text).toContain('Ada Admin');
    expect(admins.text).not.toContain('Filter Roosevelt Driver');
  });

  test('when there are more people than a page, then it paginates', async () => {
    const school = await createSchool(district, { name: 'Paging School' });
    for (let i = 0; i < 27; i++) await createUser(district, { name: `Pager ${String(i).padStart(2, '0')}`, schools: [school] });
    const first = await adminAgent.get('/admin/users').query({ school: String(school._id) });
    expect(first.text).toContain('27 people');
    expect(first.text).toContain('Pager 00');
    expect(first.text).not.toContain('Pager 26');
    expect(first.text).toContain(`page=2`);
    const second = await adminAgent.get('/admin/users').query({ school: String(school._id), page: '2' });
    expect(second.text).toContain('Pager 26');
    expect(second.text).not.toContain('Pager 00');
  });

  test('when the query has operators or arrays, then they are ignored rather than used', async () => {
    const res = await adminAgent.get('/admin/users?role[$ne]=x&school[]=a&active=maybe&page=-3&q[$regex]=.');
    expect(res.status).toBe(200);
  });
});

describe('POST /admin/users', () => {
  test('when anonymous, then 401 or 403 and nothing is created', async () => {
    const res = await request(t.app).post('/admin/users').type('form').send(validPerson({ email: 'anon@test.example' }));
    expect([401, 403]).toContain(res.status);
    expect(await User.exists({ email: 'anon@test.example' })).toBeNull();
  });

  test('when a principal posts, then 403 and nothing is created', async () => {
    const res = await postForm(principalAgent, '/admin/users', validPerson({ email: 'byprincipal@test.example' }));
    expect(res.status).toBe(403);
    expect(await User.exists({ email: 'byprincipal@test.example' })).toBeNull();
  });

  test('when the input is valid, then the person is created in the admin\'s district and it is audited', async () => {
    const body = validPerson({ employeeId: 'HR-123', password: 'a-long-initial-password' });
    const res = await postForm(adminAgent, '/admin/users', body);
    expect(res.status).toBe(303);
    const created = await User.findOne({ email: body.email }).select('+passwordHash').lean().orFail();
    expect(res.headers.location).toBe(`/admin/users/${created._id}`);
    expect(created.district.toString()).toBe(String(district._id));
    expect(created).toMatchObject({ name: 'Rosa Martínez', role: 'staff', jobTitle: 'custodian', employeeId: 'HR-123', preferredLanguage: 'es', active: true });
    expect(created.schools.map(String)).toEqual([String(lincoln._id)]);
    expect(created.startDate!.toISOString()).toBe('2026-08-14T00:00:00.000Z');
    expect(created.passwordHash).toMatch(/^\$argon2id\$/);
    const audit = await AuditEvent.findOne({ action: 'user.created', 'target.id': String(created._id) }).lean();
    expect(audit?.actor?.toString()).toBe(String(admin._id));
    const page = await adminAgent.get(res.headers.location);
    expect(page.text).toContain('Person added.');
    expect((await signInService(body.email as string, 'a-long-initial-password')).ok).toBe(true);
  });

  test('when fields are missing or wrong, then 422 with every error and the entered values', async () => {
    const res = await postForm(adminAgent, '/admin/users', { name: '', email: 'not-an-email', role: 'staff', jobTitle: '', schools: '', startDate: '2026-13-45', password: 'short' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter the person&#39;s full name.');
    expect(res.text).toContain('Enter a valid email address');
    expect(res.text).toContain('Staff need a job title');
    expect(res.text).toContain('Staff need at least one school');
    expect(res.text).toContain('Enter the start date as a date');
    expect(res.text).toContain('at least 12 characters');
    expect(res.text).toContain('value="not-an-email"');
    expect(res.text).not.toContain('value="short"');
    expect(res.text).toContain('aria-invalid="true"');
    expect(await User.exists({ email: 'not-an-email' })).toBeNull();
  });

  test('when a principal has no school, then 422', async () => {
    const body = validPerson({ role: 'principal', jobTitle: '', schools: undefined });
    const res = await postForm(adminAgent, '/admin/users', body);
    expect(res.status).toBe(422);
    expect(res.text).toContain('A principal needs at least one school.');
  });

  test('when the email is already used in the district, then it is a form error, not an error page', async () => {
    const res = await postForm(adminAgent, '/admin/users', validPerson({ email: 'STAFF@test.example' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('already uses that email address');
    expect(res.text).toContain('value="STAFF@test.example"');
    expect(await User.countDocuments({ email: 'staff@test.example' })).toBe(1);
  });

  test('when the same email exists only in another district, then it can be created here', async () => {
    await createUser(otherDistrict, { email: 'shared.name@test.example', schools: [elsewhere] });
    const res = await postForm(adminAgent, '/admin/users', validPerson({ email: 'shared.name@test.example' }));
    expect(res.status).toBe(303);
  });

  test('when a school of another district is chosen, then 422 and nothing is created', async () => {
    const body = validPerson({ schools: [String(lincoln._id), String(elsewhere._id)] });
    const res = await postForm(adminAgent, '/admin/users', body);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose schools from the list.');
    expect(await User.exists({ email: body.email })).toBeNull();
  });

  test('when the body carries operators or __proto__, then they change nothing', async () => {
    const csrf = await csrfFor(adminAgent);
    const res = await adminAgent
      .post('/admin/users')
      .set('X-CSRF-Token', csrf)
      .set('Accept', 'text/html')
      .send(JSON.parse(`{"name":"Proto Person","email":{"$gt":""},"role":"staff","__proto__":{"role":"district_admin","isAdmin":true}}`));
    expect(res.status).toBe(422);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(await User.exists({ name: 'Proto Person' })).toBeNull();
  });

  test('when a name contains markup, then every page shows it escaped', async () => {
    const body = validPerson({ name: '<script>alert(1)</script> Evil' });
    const res = await postForm(adminAgent, '/admin/users', body);
    expect(res.status).toBe(303);
    const list = await adminAgent.get('/admin/users').query({ q: 'Evil' });
    const edit = await adminAgent.get(res.headers.location);
    for (const page of [list, edit]) {
      expect(page.text).not.toContain('<script>alert(1)</script>');
      expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Evil');
    }
    await postForm(adminAgent, `${res.headers.location}/password`, { password: 'another-long-password' });
    const person = await signIn(t.app, body.email as string, 'another-long-password');
    const account = await person.get('/account');
    expect(account.text).not.toContain('<script>alert(1)</script>');
    expect(account.text).toContain('&lt;script&gt;');
  });
});

describe('GET /admin/users/:id', () => {
  test('when the person is in another district, then 404', async () => {
    const outsider = await createUser(otherDistrict, { schools: [elsewhere] });
    const res = await adminAgent.get(`/admin/users/${outsider._id}`);
    expect(res.status).toBe(404);
  });

  test('when the id is malformed, then 404', async () => {
    expect((await adminAgent.get('/admin/users/not-an-id')).status).toBe(404);
  });

  test('when a staff member opens it, then 403', async () => {
    expect((await staffAgent.get(`/admin/users/${admin._id}`)).status).toBe(403);
  });

  test('when the admin opens a person, then the form is filled with their record', async () => {
    const person = await createUser(district, { name: 'Keiko Tanaka', jobTitle: 'food_service', schools: [roosevelt], startDate: new Date('2024-01-08T00:00:00Z') });
    const res = await adminAgent.get(`/admin/users/${person._id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('value="Keiko Tanaka"');
    expect(res.text).toContain('value="food_service" selected');
    expect(res.text).toContain(`value="${roosevelt._id}" checked`);
    expect(res.text).toContain('value="2024-01-08"');
  });
});

describe('POST /admin/users/:id', () => {
  test('when role and schools change, then both are saved and each writes an audit event', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const res = await postForm(adminAgent, `/admin/users/${person._id}`, validPerson({ email: person.email, role: 'principal', jobTitle: 'teacher', schools: [String(lincoln._id), String(roosevelt._id)] }));
    expect(res.status).toBe(303);
    const saved = await User.findById(person._id).lean().orFail();
    expect(saved.role).toBe('principal');
    expect(saved.jobTitle).toBeUndefined();
    expect(saved.schools.map(String).sort()).toEqual([String(lincoln._id), String(roosevelt._id)].sort());
    const events = await AuditEvent.find({ 'target.id': String(person._id) }).lean();
    expect(events.map((e) => e.action).sort()).toEqual(['user.role_changed', 'user.schools_changed']);
    expect(events.find((e) => e.action === 'user.role_changed')?.details).toEqual({ from: 'staff', to: 'principal' });
  });

  test('when only the name changes, then no role or school audit is written', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const res = await postForm(adminAgent, `/admin/users/${person._id}`, validPerson({ email: person.email, name: 'New Name', jobTitle: 'teacher' }));
    expect(res.status).toBe(303);
    expect((await User.findById(person._id).lean())!.name).toBe('New Name');
    expect(await AuditEvent.countDocuments({ 'target.id': String(person._id) })).toBe(0);
  });

  test('when the new email belongs to someone else, then 422 and nothing changes', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const res = await postForm(adminAgent, `/admin/users/${person._id}`, validPerson({ email: 'admin@test.example' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('already uses that email');
    expect((await User.findById(person._id).lean())!.email).toBe(person.email);
  });

  test('when the employee id belongs to someone else, then 422', async () => {
    await createUser(district, { employeeId: 'TAKEN-1', schools: [lincoln] });
    const person = await createUser(district, { schools: [lincoln] });
    const res = await postForm(adminAgent, `/admin/users/${person._id}`, validPerson({ email: person.email, employeeId: 'TAKEN-1' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('already has that employee ID');
  });

  test('when the admin tries to change their own role, then 422 and the role stays', async () => {
    const res = await postForm(adminAgent, `/admin/users/${admin._id}`, validPerson({ email: admin.email, name: admin.name, role: 'staff' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('You cannot change your own role');
    expect((await User.findById(admin._id).lean())!.role).toBe('district_admin');
  });

  test('when the person is in another district, then 404 and nothing changes', async () => {
    const outsider = await createUser(otherDistrict, { schools: [elsewhere], name: 'Outside Keep' });
    const res = await postForm(adminAgent, `/admin/users/${outsider._id}`, validPerson({ email: outsider.email, name: 'Hijacked' }));
    expect(res.status).toBe(404);
    expect((await User.findById(outsider._id).lean())!.name).toBe('Outside Keep');
  });

  test('when a principal posts, then 403', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    expect((await postForm(principalAgent, `/admin/users/${person._id}`, validPerson({ email: person.email }))).status).toBe(403);
  });
});

describe('POST /admin/users/:id/deactivate and /reactivate', () => {
  test('when an admin deactivates someone, then they cannot sign in, their session ends, and it is audited; reactivation undoes it', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const personAgent = await signIn(t.app, person.email);
    const res = await postForm(adminAgent, `/admin/users/${person._id}/deactivate`, {});
    expect(res.status).toBe(303);
    expect((await User.findById(person._id).lean())!.active).toBe(false);
    expect((await personAgent.get('/account')).status).toBe(303);
    expect((await signInService(person.email, TEST_PASSWORD)).ok).toBe(false);
    expect(await AuditEvent.exists({ action: 'user.deactivated', 'target.id': String(person._id) })).not.toBeNull();

    const back = await postForm(adminAgent, `/admin/users/${person._id}/reactivate`, {});
    expect(back.status).toBe(303);
    expect((await User.findById(person._id).lean())!.active).toBe(true);
    expect(await AuditEvent.exists({ action: 'user.reactivated', 'target.id': String(person._id) })).not.toBeNull();
  });

  test('when the admin tries to deactivate themselves, then 422 and they stay active', async () => {
    const res = await postForm(adminAgent, `/admin/users/${admin._id}/deactivate`, {});
    expect(res.status).toBe(422);
    expect(res.text).toContain('You cannot deactivate your own account');
    expect((await User.findById(admin._id).lean())!.active).toBe(true);
  });

  test('when the person is in another district, then 404', async () => {
    const outsider = await createUser(otherDistrict, { schools: [elsewhere] });
    expect((await postForm(adminAgent, `/admin/users/${outsider._id}/deactivate`, {})).status).toBe(404);
    expect((await User.findById(outsider._id).lean())!.active).toBe(true);
  });

  test('when staff post it, then 403', async () => {
    expect((await postForm(staffAgent, `/admin/users/${admin._id}/deactivate`, {})).status).toBe(403);
  });
});

describe('POST /admin/users/:id/password', () => {
  test('when the password is long enough, then it is set, the lockout lifted and it is audited', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    await User.updateOne({ _id: person._id }, { $set: { failedSignIns: 5, lockedUntil: new Date(Date.now() + 600_000) } });
    const res = await postForm(adminAgent, `/admin/users/${person._id}/password`, { password: 'brand-new-password-1' });
    expect(res.status).toBe(303);
    expect((await signInService(person.email, 'brand-new-password-1')).ok).toBe(true);
    expect(await AuditEvent.exists({ action: 'user.password_set', 'target.id': String(person._id) })).not.toBeNull();
  });

  test('when an admin resets a password, then the person’s open sessions end and they sign in with the new one', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const personAgent = await signIn(t.app, person.email);
    expect((await personAgent.get('/account')).status).toBe(200);

    await postForm(adminAgent, `/admin/users/${person._id}/password`, { password: 'brand-new-password-2' });

    const ended = await personAgent.get('/account');
    expect(ended.status).toBe(303);
    expect(ended.headers.location).toMatch(/^\/login/);
    const again = await signIn(t.app, person.email, 'brand-new-password-2');
    expect((await again.get('/account')).status).toBe(200);
  });

  test('when the password is too short, then 422 and the old one still works', async () => {
    const person = await createUser(district, { schools: [lincoln] });
    const res = await postForm(adminAgent, `/admin/users/${person._id}/password`, { password: 'short-one' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('at least 12 characters');
    expect((await signInService(person.email, TEST_PASSWORD)).ok).toBe(true);
  });

  test('when the person is in another district, then 404', async () => {
    const outsider = await createUser(otherDistrict, { schools: [elsewhere] });
    expect((await postForm(adminAgent, `/admin/users/${outsider._id}/password`, { password: 'brand-new-password-1' })).status).toBe(404);
  });

  test('when a principal posts, then 403', async () => {
    expect((await postForm(principalAgent, `/admin/users/${admin._id}/password`, { password: 'brand-new-password-1' })).status).toBe(403);
  });
});
