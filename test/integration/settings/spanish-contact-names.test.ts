import { District } from '../../../src/components/districts';
import { forgetDistrictContext, getDistrictContext } from '../../../src/components/settings';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;

const form = (overrides: Record<string, string> = {}) => ({
  jurisdiction: 'California',
  timeZone: 'America/Los_Angeles',
  policyReference: '',
  contact_principal_name: 'Ms. Rivera, Principal',
  contact_principal_name_es: 'la Sra. Rivera, directora',
  contact_region_operations_name: 'Region Operations Center',
  contact_region_operations_phone: '(213) 555-0199',
  ...overrides,
});

async function save(body: Record<string, string>) {
  return admin.post('/admin/settings').type('form').send({ _csrf: await csrfFor(admin, '/admin/settings'), ...body });
}

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  const user = await createUser(district, { role: 'district_admin' });
  admin = await signIn(t.app, user.email);
});
afterAll(async () => t.close());

describe('contacts named in English only', () => {
  test('when a contact has no Spanish wording, then the settings page notes it beside that contact and counts it, in English and in Spanish, and Spanish content keeps the English name', async () => {
    expect((await save(form())).status).toBe(303);

    const page = await admin.get('/admin/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('1 contact has no Spanish wording');
    expect(page.text).toMatch(/id="missing-spanish"[^>]*>[^<]*Region operations\.<\/p>/);
    expect(page.text).toContain('<small class="note-es" id="note-es-region_operations">No Spanish wording: Spanish-language learners will see the English text “Region Operations Center”.</small>');
    expect(page.text).toMatch(/id="field-contact_region_operations_name_es"[^>]*aria-describedby="note-es-region_operations"/);
    // The principal has its Spanish wording; contacts left empty use neutral wording in each language: no note.
    expect(page.text).not.toContain('id="note-es-principal"');
    expect(page.text).not.toContain('id="note-es-counsel_office"');

    const spanish = await admin.get('/admin/settings?lang=es');
    await admin.get('/admin/settings?lang=en');
    expect(spanish.text).toContain('1 contacto no tiene texto en español');
    expect(spanish.text).toContain('Sin texto en español: quienes hacen la capacitación en español verán el texto en inglés “Region Operations Center”.');

    const home = await admin.get('/admin');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<a class="note-es" href="/admin/settings#missing-spanish">1 contact in the district settings has no Spanish wording: Spanish-language learners see the English text.</a>');

    // What Spanish-language learners get: the English name, never a blank; the Spanish wording where there is one.
    const ctx = await getDistrictContext(String(district._id), { isFresh: true });
    expect(ctx.content.es.contacts.region_operations.name).toBe('Region Operations Center');
    expect(ctx.content.es.contacts.principal.name).toBe('la Sra. Rivera, directora');
    expect(ctx.content.en.contacts.principal.name).toBe('Ms. Rivera, Principal');
  });

  test('when invalid input is re-rendered, then the notes follow the entered values', async () => {
    const res = await save(form({ contact_school_police_name: 'Dispatch', contact_school_police_phone: 'call me', contact_region_operations_name_es: 'el Centro de Operaciones Regionales' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="note-es-school_police"');
    expect(res.text).toContain('“Dispatch”');
    expect(res.text).not.toContain('id="note-es-region_operations"');
  });

  test('when every named contact gets its Spanish wording, then no note and no count remain', async () => {
    expect((await save(form({ contact_region_operations_name_es: 'el Centro de Operaciones Regionales' }))).status).toBe(303);
    const page = await admin.get('/admin/settings');
    expect(page.text).not.toContain('missing-spanish');
    expect(page.text).not.toContain('class="note-es"');
    expect((await admin.get('/admin')).text).not.toContain('no Spanish wording');
    const stored = await District.findById(district._id).lean();
    expect((stored?.settings?.contacts as unknown as Record<string, { nameEs?: string }>).region_operations.nameEs).toBe('el Centro de Operaciones Regionales');
  });

  test('when a Spanish wording stored blank (written before the form trimmed), then it counts as missing and learners see the English name', async () => {
    await District.updateOne({ _id: district._id }, { $set: { 'settings.contacts.region_operations.nameEs': '   ' } });
    forgetDistrictContext(String(district._id));
    const ctx = await getDistrictContext(String(district._id), { isFresh: true });
    expect(ctx.content.es.contacts.region_operations.name).toBe('Region Operations Center');
    expect((await admin.get('/admin')).text).toContain('1 contact in the district settings has no Spanish wording');
    const page = await admin.get('/admin/settings');
    expect(page.text).toContain('id="note-es-region_operations"');
  });
});
