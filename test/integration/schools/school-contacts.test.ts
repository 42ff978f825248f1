import { AuditEvent } from '../../../src/components/audit';
import { District } from '../../../src/components/districts';
import { Region } from '../../../src/components/regions';
import { School } from '../../../src/components/schools';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent, postForm } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let otherDistrict: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let west: { _id: unknown };
let farRegion: { _id: unknown };
let admin: Agent;
let principal: Agent;
let staff: Agent;

const id = (doc: { _id: unknown }) => String(doc._id);

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict({ settings: { contacts: { principal: { name: 'District principal line', phone: '(213) 555-0100' } } } });
  otherDistrict = await createDistrict();
  west = await Region.create({ district: district._id, code: 'WEST', name: 'Region West', contacts: { region_operations: { name: 'West Operations Desk', phone: '(213) 555-0150' } } });
  farRegion = await Region.create({ district: otherDistrict._id, code: 'FAR', name: 'Far Region' });
  lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN' });
  roosevelt = await createSchool(district, { name: 'Roosevelt Middle', code: 'ROO' });
  await createUser(district, { role: 'district_admin', email: 'admin@contacts.example' });
  await createUser(district, { role: 'principal', schools: [lincoln], email: 'principal@contacts.example' });
  await createUser(district, { role: 'staff', schools: [lincoln], email: 'staff@contacts.example' });
  [admin, principal, staff] = await Promise.all(['admin', 'principal', 'staff'].map((who) => signIn(t.app, `${who}@contacts.example`)));
});
afterAll(async () => t.close());


describe("a school's region (admin)", () => {
  test('when the admin puts a school in a region, then it is stored, listed, filterable and audited with the region codes', async () => {
    const form = await admin.get(`/admin/schools/${id(lincoln)}`);
    expect(form.text).toContain('<option value="">No region</option>');
    expect(form.text).toContain(`<option value="${id(west)}">Region West (WEST)</option>`);
    expect(form.text).not.toContain('Far Region');
    const res = await postForm(admin, `/admin/schools/${id(lincoln)}`, { code: 'LIN', name: 'Lincoln Elementary', region: id(west) });
    expect(res.status).toBe(303);
    expect(String((await School.findById(lincoln._id).lean())!.region)).toBe(id(west));
    const event = await AuditEvent.findOne({ action: 'school.region_changed', 'target.id': id(lincoln) }).lean().orFail();
    expect(event.details).toEqual({ from: null, to: 'WEST' });
    // No rename: no school.updated event.
    expect(await AuditEvent.exists({ action: 'school.updated', 'target.id': id(lincoln) })).toBeNull();

    const list = await admin.get('/admin/schools');
    expect(list.text).toMatch(/Lincoln Elementary<\/a><\/th>\s*<td>LIN<\/td>\s*<td>Region West<\/td>/);
    const filtered = await admin.get(`/admin/schools?region=${id(west)}`);
    expect(filtered.text).toContain('Lincoln Elementary');
    expect(filtered.text).not.toContain('Roosevelt Middle');
  });

  test("when the region is another district's or not an id, then 422 with the entered values and nothing changes", async () => {
    for (const region of [id(farRegion), 'not-an-id']) {
      const res = await postForm(admin, `/admin/schools/${id(roosevelt)}`, { code: 'ROO', name: 'Roosevelt Renamed', region });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Choose a region from the list.');
      expect(res.text).toContain('value="Roosevelt Renamed"');
    }
    const stored = await School.findById(roosevelt._id).lean();
    expect(stored).toMatchObject({ name: 'Roosevelt Middle' });
    expect(stored!.region).toBeUndefined();
  });

  test('when a school is added in a region, then it is stored there', async () => {
    const res = await postForm(admin, '/admin/schools', { code: 'NEW', name: 'New School', region: id(west) });
    expect(res.status).toBe(303);
    const created = await School.findOne({ district: district._id, code: 'NEW' }).lean().orFail();
    expect(String(created.region)).toBe(id(west));
    expect((await AuditEvent.findOne({ action: 'school.created', 'target.id': id(created) }).lean())!.details).toEqual({ code: 'NEW', region: 'WEST' });
  });
});

describe("a school's own contacts on the admin's school page", () => {
  test('when the admin saves contacts, then they are stored and audited old → new, and the form shows what empty ones fall back to', async () => {
    const page = await admin.get(`/admin/schools/${id(lincoln)}`);
    expect(page.text).toContain(`action="/admin/schools/${id(lincoln)}/contacts"`);
    // Empty here: the region's, else the district's.
    expect(page.text).toContain('Left empty: “West Operations Desk”, (213) 555-0150 (from the region).');
    expect(page.text).toContain('Left empty: “District principal line”, (213) 555-0100 (from the district settings).');
    const res = await postForm(admin, `/admin/schools/${id(lincoln)}/contacts`, { contact_principal_name: 'Ms. Ana Ruiz', contact_principal_name_es: 'la Sra. Ana Ruiz', contact_principal_phone: '(213) 555-0101' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/schools/${id(lincoln)}#contacts-heading`);
    const stored = await School.findById(lincoln._id).lean();
    expect(stored!.contacts).toEqual({ principal: { name: 'Ms. Ana Ruiz', nameEs: 'la Sra. Ana Ruiz', phone: '(213) 555-0101' } });
    const event = await AuditEvent.findOne({ action: 'school.contacts_updated', 'target.id': id(lincoln) }).lean().orFail();
    expect(event.details).toEqual({ changes: [{ key: 'principal', from: null, to: { name: 'Ms. Ana Ruiz', nameEs: 'la Sra. Ana Ruiz', phone: '(213) 555-0101' } }] });
    expect((await admin.get(`/admin/schools/${id(lincoln)}`)).text).toContain('value="Ms. Ana Ruiz"');
  });

  test('when the contacts are invalid, then 422 on the school page with the errors and the entered values, and nothing changes', async () => {
    const res = await postForm(admin, `/admin/schools/${id(lincoln)}/contacts`, { contact_principal_name: 'Someone Else', contact_school_police_phone: '(213) 555-0300' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter a name or title for this phone number.');
    expect(res.text).toContain('value="Someone Else"');
    expect(res.text).toContain('value="(213) 555-0300"');
    // The school form above keeps the stored values.
    expect(res.text).toContain('value="Lincoln Elementary"');
    expect((await School.findById(lincoln._id).lean())!.contacts?.principal?.name).toBe('Ms. Ana Ruiz');
  });

  test("when the school is another district's, then 404 and nothing is stored", async () => {
    const far = await createSchool(otherDistrict, { name: 'Far School' });
    expect((await postForm(admin, `/admin/schools/${id(far)}/contacts`, { contact_principal_name: 'Hijack' })).status).toBe(404);
    expect((await School.findById(far._id).lean())!.contacts).toEqual({});
  });
});

describe("a principal's own school contacts (/school/:id/contacts)", () => {
  test('when the principal opens and saves their school’s contacts, then they are stored and audited; region and district are untouched', async () => {
    const page = await principal.get(`/school/${id(lincoln)}/contacts`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('School contacts: Lincoln Elementary');
    expect(page.text).toContain('value="Ms. Ana Ruiz"');
    expect((await principal.get(`/school/${id(lincoln)}`)).text).toContain(`href="/school/${id(lincoln)}/contacts"`);

    const res = await postForm(principal, `/school/${id(lincoln)}/contacts`, {
      contact_principal_name: 'Mr. Luis Vega',
      contact_principal_phone: '(213) 555-0177',
      contact_school_police_name: 'Lincoln campus safety',
      contact_school_police_phone: '(213) 555-0188',
      // Not this form's to change: ignored.
      region: id(farRegion),
      district: id(otherDistrict),
    });
    expect(res.status).toBe(303);
    const stored = await School.findById(lincoln._id).lean();
    expect(stored!.contacts).toEqual({ principal: { name: 'Mr. Luis Vega', phone: '(213) 555-0177' }, school_police: { name: 'Lincoln campus safety', phone: '(213) 555-0188' } });
    expect(String(stored!.region)).toBe(id(west));
    expect((await Region.findById(west._id).lean())!.contacts).toEqual({ region_operations: { name: 'West Operations Desk', phone: '(213) 555-0150' } });
    expect(((await District.findById(district._id).lean())!.settings!.contacts as unknown as Record<string, { name: string }>).principal.name).toBe('District principal line');
    const events = await AuditEvent.find({ action: 'school.contacts_updated', 'target.id': id(lincoln) }).sort({ at: -1 }).lean();
    expect(events[0].details).toEqual({
      changes: [
        { key: 'principal', from: { name: 'Ms. Ana Ruiz', nameEs: 'la Sra. Ana Ruiz', phone: '(213) 555-0101' }, to: { name: 'Mr. Luis Vega', phone: '(213) 555-0177' } },
        { key: 'school_police', from: null, to: { name: 'Lincoln campus safety', phone: '(213) 555-0188' } },
      ],
    });
  });

  test('when nothing changed, then nothing is audited', async () => {
    const before = await AuditEvent.countDocuments({ action: 'school.contacts_updated' });
    const res = await postForm(principal, `/school/${id(lincoln)}/contacts`, { contact_principal_name: 'Mr. Luis Vega', contact_principal_phone: '(213) 555-0177', contact_school_police_name: 'Lincoln campus safety', contact_school_police_phone: '(213) 555-0188' });
    expect(res.status).toBe(303);
    expect(await AuditEvent.countDocuments({ action: 'school.contacts_updated' })).toBe(before);
  });

  test('when the input is invalid, then 422 with the error summary and the entered values', async () => {
    const res = await postForm(principal, `/school/${id(lincoln)}/contacts`, { contact_principal_name: 'Mr. Luis Vega', contact_principal_phone: 'call the office' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('class="error-summary"');
    expect(res.text).toContain('href="#field-contact_principal_phone"');
    expect(res.text).toContain('value="call the office"');
    expect((await School.findById(lincoln._id).lean())!.contacts?.principal?.phone).toBe('(213) 555-0177');
  });

  test('when the principal opens or posts another school’s contacts, then 404 and nothing is stored', async () => {
    expect((await principal.get(`/school/${id(roosevelt)}/contacts`)).status).toBe(404);
    expect((await postForm(principal, `/school/${id(roosevelt)}/contacts`, { contact_principal_name: 'Not mine' })).status).toBe(404);
    expect((await School.findById(roosevelt._id).lean())!.contacts).toEqual({});
  });

  test('when staff open or post their school’s contacts, then 403 and nothing is stored', async () => {
    expect((await staff.get(`/school/${id(lincoln)}/contacts`)).status).toBe(403);
    expect((await postForm(staff, `/school/${id(lincoln)}/contacts`, { contact_principal_name: 'Staff pick' })).status).toBe(403);
    expect((await School.findById(lincoln._id).lean())!.contacts?.principal?.name).toBe('Mr. Luis Vega');
  });

  test('when the principal tries the region or district pages, then 403', async () => {
    expect((await principal.get(`/admin/regions/${id(west)}`)).status).toBe(403);
    expect((await postForm(principal, `/admin/regions/${id(west)}`, { code: 'WEST', name: 'Mine' })).status).toBe(403);
    expect((await postForm(principal, '/admin/settings', { jurisdiction: 'X', timeZone: 'UTC' })).status).toBe(403);
    expect((await postForm(principal, `/admin/schools/${id(lincoln)}/contacts`, { contact_principal_name: 'x' })).status).toBe(403);
  });

  test('when the page is read in Spanish, then it is in Spanish', async () => {
    const res = await principal.get(`/school/${id(lincoln)}/contacts?lang=es`);
    await principal.get('/account?lang=en');
    expect(res.text).toContain('Contactos de la escuela: Lincoln Elementary');
    expect(res.text).toContain('Si queda vacío: “West Operations Desk”, (213) 555-0150 (de la región).');
  });
});

describe('the audit log reads the changes as sentences', () => {
  test('when the admin reads the log, then contact changes, region moves and region edits read in English and in Spanish', async () => {
    const english = await admin.get('/admin/audit');
    expect(english.status).toBe(200);
    expect(english.text).toContain("Changed 2 of the school&#39;s own contacts (old → new):");
    expect(english.text).toContain('<dt>Site administrator</dt><dd>“Ms. Ana Ruiz” / “la Sra. Ana Ruiz”, (213) 555-0101 → “Mr. Luis Vega”, (213) 555-0177</dd>');
    expect(english.text).toContain('<dt>School police dispatch</dt><dd>not set → “Lincoln campus safety”, (213) 555-0188</dd>');
    expect(english.text).toContain('Moved the school from no region to WEST.');
    expect(english.text).toContain('Added the school with code NEW in region WEST.');
    const spanish = await admin.get('/admin/audit?lang=es');
    await admin.get('/account?lang=en');
    expect(spanish.text).toContain('Cambió 2 de los contactos propios de la escuela (antes → ahora):');
    expect(spanish.text).toContain('<dt>Dirección del plantel</dt>');
    expect(spanish.text).toContain('sin definir → “Lincoln campus safety”, (213) 555-0188');
    expect(spanish.text).toContain('Pasó la escuela de ninguna región a WEST.');
  });
});
