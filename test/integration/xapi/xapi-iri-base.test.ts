import { AuditEvent } from '../../../src/components/audit';
import { XapiFeed, configureXapi } from '../../../src/components/xapi';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import type { TestLrs } from '../../helpers/lrs-server';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { saveLrsSettings, startXapiWorld, type XapiWorld } from './xapi.helpers';

/** POST /admin/xapi/iri-base: the district admin changes the start of the feed's IRIs (docs/xapi.md, "IRIs"). */
let t: TestApp;
let lrs: TestLrs;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;

let world: XapiWorld;

beforeAll(async () => {
  world = await startXapiWorld('admin@iri.example');
  ({ t, lrs, district, admin } = world);
});
afterAll(() => world.close());
beforeEach(async () => {
  lrs.reset();
  await XapiFeed.deleteMany({});
  await AuditEvent.deleteMany({});
});

const saveSettings = () => saveLrsSettings(world);

async function changeBase(agent: Agent, fields: Record<string, string>) {
  return agent.post('/admin/xapi/iri-base').type('form').send({ _csrf: await csrfFor(agent, '/admin/xapi'), ...fields });
}

const feed = async () => (await XapiFeed.findOne({ district: district._id }).lean())!;
const homePageOf = (statement: Record<string, unknown>) => (statement.actor as { account: { homePage: string } }).account.homePage;

describe('POST /admin/xapi/iri-base', () => {
  test('when the admin confirms a new base, then it is stored, audited old → new in words, shown on the page, and the next statements use it', async () => {
    await saveSettings();
    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('Changing it splits every learner');
    expect(page.text).toContain(`<code>${t.config.baseUrl}</code>`);
    expect(page.text).toContain('<legend>Confirm the change</legend>');

    const res = await changeBase(admin, { iriBase: ' https://Training.District.example/lrs/ ', confirmIriBase: 'on' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/xapi#iri-heading');
    expect((await feed()).iriBase).toBe('https://training.district.example/lrs');

    const after = await admin.get('/admin/xapi');
    expect(after.text).toContain('The address the IRIs start from was changed.');
    expect(after.text).toContain('<code>https://training.district.example/lrs</code>');
    expect(after.text).toContain(`https://training.district.example/lrs/districts/${district.slug}/modules/foundations/v1`);

    const events = await AuditEvent.find({ action: 'xapi.iri_base_changed' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0].details).toEqual({ from: t.config.baseUrl, to: 'https://training.district.example/lrs' });
    expect(events[0].target).toMatchObject({ kind: 'district', id: district._id.toString() });
    const log = await admin.get('/admin/audit');
    expect(log.text).toContain('Activity addresses (xAPI IRI base) changed');
    expect(log.text).toContain('to https://training.district.example/lrs: the LRS keeps earlier and later statements apart.');

    const test = await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    expect(test.status).toBe(303);
    expect(lrs.statements).toHaveLength(1);
    expect(homePageOf(lrs.statements[0])).toBe(`https://training.district.example/lrs/districts/${district.slug}`);

    // A later save of the other settings keeps the chosen base.
    await saveSettings();
    expect((await feed()).iriBase).toBe('https://training.district.example/lrs');
  });

  test('when the change is not confirmed, then 422 with the entered address and the error at the checkbox; nothing is stored or audited', async () => {
    await saveSettings();
    const res = await changeBase(admin, { iriBase: 'https://training.district.example' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain('href="#field-confirmIriBase"');
    expect(res.text).toContain('id="error-confirmIriBase"');
    expect(res.text).toContain('value="https://training.district.example"');
    // The settings form keeps the stored settings.
    expect(res.text).toContain(`value="${lrs.endpoint}"`);
    expect((await feed()).iriBase).toBe(t.config.baseUrl);
    expect(await AuditEvent.countDocuments({ action: 'xapi.iri_base_changed' })).toBe(0);
  });

  test('when the address is not absolute, carries a query, a fragment or credentials, or is empty, then 422 with the value and nothing changes', async () => {
    await saveSettings();
    const cases: [string, string][] = [
      ['training.district.example', 'Enter the address as an absolute web address'],
      ['/relative/path', 'Enter the address as an absolute web address'],
      ['https://training.district.example/?x=1', 'Leave user names, passwords, ?… and #… out of the address.'],
      ['https://training.district.example/?', 'Leave user names, passwords, ?… and #… out of the address.'],
      ['https://training.district.example/#top', 'Leave user names, passwords, ?… and #… out of the address.'],
      ['https://me:pw@training.district.example', 'Leave user names, passwords, ?… and #… out of the address.'],
      ['ftp://training.district.example', 'Enter the address as an absolute web address'],
      ['', 'Enter the address the IRIs start from.'],
    ];
    for (const [value, message] of cases) {
      const res = await changeBase(admin, { iriBase: value, confirmIriBase: 'on' });
      expect(res.status).toBe(422);
      expect(res.text).toContain(message);
      expect(res.text).toContain('id="error-iriBase"');
      if (value) expect(res.text).toContain(`value="${value}"`);
    }
    const hostile = await admin.post('/admin/xapi/iri-base').send({ _csrf: await csrfFor(admin, '/admin/xapi'), iriBase: { $gt: '' }, confirmIriBase: ['on', 'on'] });
    expect(hostile.status).toBe(422);
    expect((await feed()).iriBase).toBe(t.config.baseUrl);
    expect(await AuditEvent.countDocuments({ action: 'xapi.iri_base_changed' })).toBe(0);
  });

  test('when the server runs in production, then an http:// base is refused (https only)', async () => {
    await saveSettings();
    configureXapi({ ...t.config, isProduction: true });
    try {
      const res = await changeBase(admin, { iriBase: 'http://training.district.example', confirmIriBase: 'on' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('The address must start with https://.');
      expect((await feed()).iriBase).toBe(t.config.baseUrl);
    } finally {
      configureXapi(t.config);
    }
  });

  test('when it is posted in Spanish without the confirmation, then the errors and the warning are in Spanish', async () => {
    await saveSettings();
    await admin.get('/admin/xapi?lang=es');
    const res = await changeBase(admin, { iriBase: 'https://training.district.example' });
    await admin.get('/admin/xapi?lang=en');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Confirme que entiende que el LRS mantendrá separadas');
    expect(res.text).toContain('Cambiarla divide en dos el historial de cada persona en el LRS.');
  });

  test('when the same base is posted again, then nothing changes and nothing is audited; before any settings are saved, 422 asks to save first', async () => {
    const first = await changeBase(admin, { iriBase: 'https://training.district.example', confirmIriBase: 'on' });
    expect(first.status).toBe(422);
    expect(first.text).toContain('Save the settings before');
    expect(await XapiFeed.countDocuments()).toBe(0);

    await saveSettings();
    const same = await changeBase(admin, { iriBase: `${t.config.baseUrl}/` });
    expect(same.status).toBe(303);
    expect((await admin.get('/admin/xapi')).text).toContain('That is already the address the IRIs start from');
    expect(await AuditEvent.countDocuments({ action: 'xapi.iri_base_changed' })).toBe(0);
  });

  test("when staff, a principal or another district's admin post it, then 403 for the first two and the other district's feed is the only one changed", async () => {
    await saveSettings();
    const school = await createSchool(district);
    await createUser(district, { email: 'staff@iri.example', schools: [school] });
    await createUser(district, { email: 'principal@iri.example', role: 'principal', schools: [school] });
    for (const email of ['staff@iri.example', 'principal@iri.example']) {
      const agent = await signIn(t.app, email);
      const res = await agent.post('/admin/xapi/iri-base').type('form').send({ _csrf: await csrfFor(agent), iriBase: 'https://evil.example', confirmIriBase: 'on' });
      expect(res.status).toBe(403);
    }
    const elsewhere = await createDistrict();
    await createUser(elsewhere, { email: 'admin@elsewhere-iri.example', role: 'district_admin' });
    const other = await signIn(t.app, 'admin@elsewhere-iri.example');
    const res = await changeBase(other, { iriBase: 'https://evil.example', confirmIriBase: 'on' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Save the settings before');
    expect((await feed()).iriBase).toBe(t.config.baseUrl);
    expect(await XapiFeed.countDocuments()).toBe(1);
  });
});
