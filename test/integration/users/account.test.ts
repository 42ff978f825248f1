import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { signIn as signInService } from '../../../src/components/auth';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { postForm, signIn } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  lincoln = await createSchool(district, { name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { name: 'Roosevelt Middle' });
});
afterAll(async () => {
  await t.close();
});


describe('GET /account', () => {
  test('when anonymous, then it goes to sign-in', async () => {
    const res = await request(t.app).get('/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Faccount');
  });

  test.each([
    ['staff', 'front_office'],
    ['principal', undefined],
    ['district_admin', undefined],
  ] as const)('when signed in as %s, then it shows their details and a language form with a CSRF token', async (role, jobTitle) => {
    const user = await createUser(district, { role, jobTitle, schools: role === 'district_admin' ? [] : [lincoln, roosevelt], name: `Account ${role}` });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/account');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`Account ${role}`);
    expect(res.text).toContain(user.email);
    expect(res.text).toMatch(/<form method="post" action="\/account\/language"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/);
    if (role === 'district_admin') expect(res.text).toContain('None (district-wide)');
    else expect(res.text).toContain('Lincoln Elementary, Roosevelt Middle');
    if (jobTitle) expect(res.text).toContain('Front office');
  });

  test('when signed in, then the header shows the role and school names', async () => {
    const user = await createUser(district, { role: 'principal', schools: [roosevelt], name: 'Header Person' });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/account');
    expect(res.text).toMatch(/Signed in as Header Person · Principal · Roosevelt Middle/);
  });
});

describe('POST /account/language', () => {
  test('when Spanish is chosen, then it is stored and pages switch to Spanish', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await postForm(agent, '/account/language', { language: 'es' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
    expect((await User.findById(user._id).lean())!.preferredLanguage).toBe('es');
    const page = await agent.get('/account');
    expect(page.text).toContain('<html lang="es"');
    expect(page.text).toContain('Idioma guardado.');
  });

  test('when the language is not offered, then 422 and nothing changes', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await postForm(agent, '/account/language', { language: 'fr' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose English or Spanish.');
    expect((await User.findById(user._id).lean())!.preferredLanguage).toBe('en');
  });

  test('when the CSRF token is missing, then 403', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await agent.post('/account/language').type('form').send({ language: 'es' });
    expect(res.status).toBe(403);
    expect((await User.findById(user._id).lean())!.preferredLanguage).toBe('en');
  });

  test('when anonymous, then refused', async () => {
    const res = await request(t.app).post('/account/language').type('form').send({ language: 'es' });
    expect([401, 403]).toContain(res.status);
  });
});

describe('the header language switch', () => {
  test('when a signed-in person follows ?lang=es, then it is remembered as their preference for the next sign-in', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/account?lang=es');
    expect(res.text).toContain('<html lang="es"');
    expect((await User.findById(user._id).lean())!.preferredLanguage).toBe('es');
    const fresh = await signIn(t.app, user.email);
    expect((await fresh.get('/account')).text).toContain('<html lang="es"');
  });

  test('when switching, then the link keeps the page and its query', async () => {
    const user = await createUser(district, { role: 'district_admin' });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/admin/users?q=ana&page=2');
    expect(res.text).toContain('href="/admin/users?q=ana&amp;page=2&amp;lang=es"');
  });
});

describe('POST /account/password', () => {
  test('when the current password matches, then the new one works and it is audited', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await postForm(agent, '/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'my-new-long-password', confirmPassword: 'my-new-long-password' });
    expect(res.status).toBe(303);
    expect((await signInService(user.email, 'my-new-long-password')).ok).toBe(true);
    expect(await AuditEvent.exists({ action: 'user.password_changed', 'target.id': String(user._id) })).not.toBeNull();
  });

  test('when the password is changed, then the person’s other sessions end and this one continues', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const here = await signIn(t.app, user.email);
    const elsewhere = await signIn(t.app, user.email);
    expect((await elsewhere.get('/account')).status).toBe(200);

    const res = await postForm(here, '/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'my-new-long-password', confirmPassword: 'my-new-long-password' });

    expect(res.status).toBe(303);
    const page = await here.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Password changed.');
    const ended = await elsewhere.get('/account');
    expect(ended.status).toBe(303);
    expect(ended.headers.location).toMatch(/^\/login/);
    expect((await User.findById(user._id).lean())!.sessionEpoch).toBe(1);
  });

  test('when the current password is wrong, then 422 and the old one still works', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await postForm(agent, '/account/password', { currentPassword: 'wrong-password', newPassword: 'my-new-long-password', confirmPassword: 'my-new-long-password' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('That is not your current password.');
    expect((await signInService(user.email, TEST_PASSWORD)).ok).toBe(true);
  });

  test('when the new password is short or unconfirmed, then 422 listing both', async () => {
    const user = await createUser(district, { schools: [lincoln] });
    const agent = await signIn(t.app, user.email);
    const res = await postForm(agent, '/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'short', confirmPassword: 'other' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('at least 12 characters');
    expect(res.text).toContain('do not match');
  });
});
