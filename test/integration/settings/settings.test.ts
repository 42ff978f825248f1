import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { District } from '../../../src/components/districts';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, postMove, startModule } from '../training/player.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;

const validForm = (overrides: Record<string, string> = {}) => ({
  jurisdiction: 'California',
  timeZone: 'America/Los_Angeles',
  policyReference: 'BUL-6767.4',
  contact_principal_name: 'Ms. Rivera, Principal',
  contact_principal_phone: '(213) 555-0100 ext. 12',
  ...overrides,
});

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict();
  school = await createSchool(district);
  const user = await createUser(district, { role: 'district_admin' });
  admin = await signIn(t.app, user.email);
});
afterAll(async () => t.close());

async function post(agent: Agent, body: Record<string, string>) {
  return agent.post('/admin/settings').type('form').send({ _csrf: await csrfFor(agent, '/admin/settings'), ...body });
}

describe('GET/POST /admin/settings', () => {
  test('when an anonymous visitor opens settings, then they are sent to sign in', async () => {
    const res = await request(t.app).get('/admin/settings');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fsettings');
  });

  test('when staff or a principal open or post settings, then 403 and nothing changes', async () => {
    for (const role of ['staff', 'principal'] as const) {
      const user = await createUser(district, { role, schools: [school] });
      const agent = await signIn(t.app, user.email);
      expect((await agent.get('/admin/settings')).status).toBe(403);
      const csrf = await csrfFor(agent, '/training');
      const res = await agent.post('/admin/settings').type('form').send({ _csrf: csrf, ...validForm({ jurisdiction: 'Hacked' }) });
      expect(res.status).toBe(403);
    }
    expect((await District.findById(district._id).lean())?.jurisdiction).toBe('California');
  });

  test('when an admin opens settings, then every contact of the tree has a labelled name and phone field', async () => {
    const res = await admin.get('/admin/settings');

    expect(res.status).toBe(200);
    for (const key of ['principal', 'counsel_office', 'records_requests']) {
      expect(res.text).toContain(`<label for="field-contact_${key}_name">`);
      expect(res.text).toContain(`<label for="field-contact_${key}_phone">`);
    }
    expect(res.text).toContain('<option value="America/Los_Angeles" selected>');
  });

  test('when the input is invalid, then the form comes back with 422, the errors and the values as entered', async () => {
    const res = await post(admin, validForm({ timeZone: 'Mars/Olympus', contact_counsel_office_phone: '555-0199', contact_principal_phone: 'call me <b>', jurisdiction: '' }));

    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose a time zone from the list.');
    expect(res.text).toContain('Enter a name or title for this phone number.');
    expect(res.text).toContain('Enter a phone number using digits');
    expect(res.text).toContain('Enter the jurisdiction label.');
    expect(res.text).toContain('value="call me &lt;b&gt;"');
    expect(res.text).toContain('aria-describedby="hint-counsel_office error-contact_counsel_office_name"');
    expect((await District.findById(district._id).lean())?.settings?.policyReference).toBe('');
    expect(await AuditEvent.countDocuments({ action: 'settings.updated' })).toBe(0);
  });

  test('when a field is sent as an operator object or an array, then it is a validation error, not a query', async () => {
    const csrf = await csrfFor(admin, '/admin/settings');
    const res = await admin
      .post('/admin/settings')
      .type('form')
      .send(`_csrf=${csrf}&jurisdiction=A&jurisdiction=B&timeZone=UTC&__proto__=x&constructor=y`);

    expect(res.status).toBe(422);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  test('when an admin saves valid settings, then the district is updated, an audit event is written, and training content uses the new values at once', async () => {
    const learner = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, learner.email);
    await startModule(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', await getPlay(agent, 'fixture-basics'));
    const before = await getPlay(agent, 'fixture-basics');
    expect(before.html).toContain('Call your principal or site administrator at');

    const res = await post(admin, validForm({ timeZone: 'America/Chicago', contact_counsel_office_name: 'Office of the General Counsel' }));

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/settings?saved=1');
    const stored = await District.findById(district._id).lean();
    expect(stored?.timeZone).toBe('America/Chicago');
    // The page offers the US zones first, named in the reader's language, and shows the saved one chosen once.
    const settingsPage = (await admin.get('/admin/settings')).text;
    expect(settingsPage).toContain('<optgroup label="United States">');
    expect(settingsPage).toMatch(/<option value="America\/Chicago" selected>Central Time — America\/Chicago<\/option>/);
    expect(settingsPage.match(/value="America\/Chicago" selected/g)).toHaveLength(1);
    expect(settingsPage).toContain('<optgroup label="All time zones">');
    const es = (await admin.get('/admin/settings?lang=es')).text;
    expect(es).toMatch(/<option value="America\/Los_Angeles">hora del Pacífico — America\/Los_Angeles<\/option>/);
    await admin.get('/admin/settings?lang=en');
    expect(stored?.settings?.policyReference).toBe('BUL-6767.4');
    const contacts = stored?.settings?.contacts as unknown as Record<string, { name: string; nameEs?: string; phone: string }>;
    expect(contacts.principal).toMatchObject({ name: 'Ms. Rivera, Principal', phone: '(213) 555-0100 ext. 12' });
    expect(contacts.principal.nameEs).toBeUndefined();
    expect(contacts.counsel_office).toEqual({ name: 'Office of the General Counsel', phone: '' });
    expect(contacts.school_police).toBeUndefined();
    const audit = await AuditEvent.findOne({ action: 'settings.updated' }).lean();
    expect(audit?.district?.toString()).toBe(district._id.toString());
    expect((audit?.details as { changed: string[] }).changed).toEqual(
      expect.arrayContaining(['timeZone', 'policyReference', 'contacts.principal', 'contacts.counsel_office']),
    );

    const after = await getPlay(agent, 'fixture-basics');
    expect(after.html).toContain('Call Ms. Rivera, Principal at (213) 555-0100 ext. 12');
    const spanish = await getPlay(agent, 'fixture-basics', '?lang=es');
    expect(spanish.html).toContain('Llame a Ms. Rivera, Principal al (213) 555-0100 ext. 12');
    const overview = await agent.get('/training/fixture-basics?lang=en');
    expect(overview.text).toContain('Follow BUL-6767.4.');

    const page = await admin.get('/admin/settings?saved=1');
    expect(page.text).toContain('Settings saved.');
    expect(page.text).toContain('value="Ms. Rivera, Principal"');
  });

  test('when a contact has a Spanish name, then Spanish content uses it and English content keeps the English one', async () => {
    const learner = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, learner.email);
    await startModule(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', await getPlay(agent, 'fixture-basics'));

    const res = await post(admin, validForm({ contact_principal_name: 'the site principal', contact_principal_name_es: 'la directora del plantel' }));

    expect(res.status).toBe(303);
    const stored = await District.findById(district._id).lean();
    const contacts = stored?.settings?.contacts as unknown as Record<string, { name: string; nameEs?: string }>;
    expect(contacts.principal).toMatchObject({ name: 'the site principal', nameEs: 'la directora del plantel' });
    const spanish = await getPlay(agent, 'fixture-basics', '?lang=es');
    expect(spanish.html).toContain('Llame a la directora del plantel al');
    expect(spanish.html).not.toContain('the site principal');
    const english = await getPlay(agent, 'fixture-basics', '?lang=en');
    expect(english.html).toContain('Call the site principal at');
    expect((await admin.get('/admin/settings')).text).toContain('value="la directora del plantel"');
  });

  test('when a contact is cleared, then the content falls back to the neutral wording', async () => {
    await post(admin, validForm({ contact_principal_name: '', contact_principal_phone: '' }));

    const stored = await District.findById(district._id).lean();
    expect((stored?.settings?.contacts as unknown as Record<string, unknown>).principal).toBeUndefined();
  });

  test('when a value contains markup, then the content shows it as text', async () => {
    await post(admin, validForm({ contact_principal_name: '<script>alert(1)</script> Office' }));
    const learner = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, learner.email);
    await startModule(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', await getPlay(agent, 'fixture-basics'));

    const page = await getPlay(agent, 'fixture-basics');

    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Office');
    expect(page.html).not.toContain('<script>alert(1)');
  });

  test('when an admin saves a dialable phone, then the learner’s feedback links it with tel: in English and Spanish, and the answer label keeps it as text', async () => {
    const res = await post(admin, validForm({ contact_principal_phone: '(213) 555-0100 ext. 12' }));
    expect(res.status).toBe(303);
    const learner = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, learner.email);
    await startModule(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', await getPlay(agent, 'fixture-basics'));

    const decision = await getPlay(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', decision, 'notify');
    const english = await getPlay(agent, 'fixture-basics', '?lang=en');
    const spanish = await getPlay(agent, 'fixture-basics', '?lang=es');

    expect(decision.html).toContain('<label for="choice-notify">Call Ms. Rivera, Principal at (213) 555-0100 ext. 12</label>');
    expect(decision.html).not.toContain('href="tel:');
    const link = '<a href="tel:+12135550100;ext=12">(213) 555-0100 ext. 12</a>';
    expect(english.html).toContain(`<strong>Your answer:</strong> Call Ms. Rivera, Principal at ${link}</p>`);
    expect(spanish.html).toContain(`Llame a Ms. Rivera, Principal al ${link}</p>`);
  });

  test('when an admin of another district saves, then only their own district changes', async () => {
    const other = await createDistrict({ jurisdiction: 'Texas' });
    const otherAdmin = await signIn(t.app, (await createUser(other, { role: 'district_admin' })).email);
    const before = await District.findById(district._id).lean();

    const res = await post(otherAdmin, validForm({ jurisdiction: 'Nevada', policyReference: 'OTHER-1' }));

    expect(res.status).toBe(303);
    expect((await District.findById(other._id).lean())?.jurisdiction).toBe('Nevada');
    const after = await District.findById(district._id).lean();
    expect(after?.jurisdiction).toBe(before?.jurisdiction);
    expect(after?.settings?.policyReference).toBe(before?.settings?.policyReference);
  });
});
