import { AuditEvent, recordAudit, sealAllAuditEvents, verifyAuditChain } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let other: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let adminId: string;

const actorFor = (userId: string, districtId: string) => ({ userId, districtId, role: 'district_admin' as const, schoolIds: [], name: 'A', email: 'a@x', language: 'en' as const, sessionEpoch: 0 });

/** The text of the page's table, tags removed and spaces collapsed (entities kept: the page escapes). */
const tableText = (html: string) => (/<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ name: 'Words Unified' });
  other = await createDistrict({ name: 'Other Unified' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  await createSchool(other, { code: 'LIN', name: 'Foreign Lincoln' });
  const a = await createUser(district, { role: 'district_admin', email: 'admin@words.example', name: 'Ada Admin' });
  adminId = String(a._id);
  const done = await createUser(district, { email: 'done@words.example', schools: [lincoln], jobTitle: 'teacher' });
  await createUser(district, { email: 'todo@words.example', schools: [lincoln], jobTitle: 'teacher' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2025-09-30' } });
  await complete(done, 'foundations', 1, new Date('2025-09-15T18:00:00Z'), 95);
  admin = await signIn(t.app, 'admin@words.example');
});

afterAll(async () => {
  await t.close();
});

beforeEach(async () => {
  await AuditEvent.deleteMany({});
});

describe('GET /admin/audit: details in words', () => {
  test('when the admin exports, changes a role and saves settings, then the log says each in a sentence, in English and in Spanish, and the stored events are unchanged', async () => {
    // An export with filters (school and module), a role change, a settings change — through the real routes.
    const exported = await admin.get(`/reports/compliance.csv?school=${String(lincoln._id)}&module=foundations`);
    expect(exported.status).toBe(200);
    const person = await createUser(district, { email: 'promote@words.example', name: 'Pat Promote', schools: [lincoln], jobTitle: 'teacher' });
    const role = await admin
      .post(`/admin/users/${String(person._id)}`)
      .type('form')
      .send({ _csrf: await csrfFor(admin), name: 'Pat Promote', email: 'promote@words.example', employeeId: '', role: 'principal', jobTitle: '', schools: String(lincoln._id), preferredLanguage: 'en', startDate: '' });
    expect(role.status).toBe(303);
    expect((await User.findById(person._id).lean())?.role).toBe('principal');
    const settings = await admin
      .post('/admin/settings')
      .type('form')
      .send({ _csrf: await csrfFor(admin, '/admin/settings'), jurisdiction: 'California', timeZone: 'America/Chicago', policyReference: '', contact_region_operations_name: 'Region Operations Center', contact_region_operations_phone: '(213) 555-0199' });
    expect(settings.status).toBe(303);

    const stored = await AuditEvent.find({ district: district._id }).sort({ at: 1 }).lean();
    expect(stored.map((e) => e.action)).toEqual(['compliance.exported', 'user.role_changed', 'settings.updated']);
    expect(stored[0].details).toEqual({ format: 'csv', filters: { school: 'LIN', region: null, module: 'foundations', status: null, jobTitle: null }, rowCount: 2, complete: true });
    await sealAllAuditEvents();
    const sealed = await AuditEvent.find({ district: district._id }).sort({ seq: 1 }).lean();

    const english = await admin.get('/admin/audit');
    expect(english.status).toBe(200);
    const en = tableText(english.text);
    expect(en).toContain('Exported the compliance report as CSV — 2 rows, filters: school Lincoln Elementary (LIN) and module “Foundations (EN)”.');
    expect(en).toContain('Changed the role from Staff to Principal.');
    expect(en).toContain('Changed the time zone and the contact “Region operations”.');
    expect(en).not.toContain('Foreign Lincoln');
    // The stored values stay one click away, as they were.
    expect(english.text).toContain('<summary>Stored values</summary>');
    expect(en).toMatch(/rowCount 2/);

    const spanish = await admin.get('/admin/audit?lang=es');
    await admin.get('/admin/audit?lang=en');
    const es = tableText(spanish.text);
    expect(es).toContain('Exportó el informe de cumplimiento en CSV — 2 filas, filtros: escuela Lincoln Elementary (LIN) y módulo “Foundations (ES)”.');
    expect(es).toContain('Cambió el rol de Personal a Director(a).');
    expect(es).toContain('Cambió la zona horaria y el contacto “');
    expect(spanish.text).toContain('<summary>Valores guardados</summary>');
    for (const text of [en, es]) expect(text).not.toMatch(/undefined|\[object /);

    // Display only: the events and their chain are exactly as they were.
    expect(await AuditEvent.find({ district: district._id }).sort({ seq: 1 }).lean()).toEqual(sealed);
    expect((await verifyAuditChain(String(district._id))).problems).toEqual([]);
  });

  test("when details name a school of another district, an escaped name, an old shape or an unknown action, then the page resolves only the district's own, escapes, and falls back to key=value", async () => {
    const actor = actorFor(adminId, String(district._id));
    const evil = await createSchool(district, { code: 'EVL', name: 'Evil <img src=x> School' });
    const foreign = await createSchool(other, { code: 'FOR', name: 'Foreign School' });
    await recordAudit(actor, { action: 'session.created', target: { kind: 'facilitated_session', id: '64b000000000000000000001' }, details: { school: String(evil._id), moduleSlug: 'foundations', moduleVersion: 1, sessionDate: '2026-11-20' } });
    await recordAudit(actor, { action: 'session.discarded', target: { kind: 'facilitated_session', id: '64b000000000000000000002' }, details: { school: String(foreign._id), moduleSlug: 'foundations', moduleVersion: 1, attendees: 3 } });
    // compliance.rebuilt once stored the rebuild's counts; user.updated is no longer recorded.
    await recordAudit(actor, { action: 'compliance.rebuilt', target: { kind: 'district', id: String(district._id) }, details: { people: 10, rows: 30 } });
    await recordAudit(actor, { action: 'user.updated', target: { kind: 'user', id: adminId }, details: { fields: ['name'], nested: { a: 1 } } });

    const res = await admin.get('/admin/audit');
    expect(res.status).toBe(200);
    const text = tableText(res.text);
    expect(res.text).toContain('Evil &lt;img src=x&gt; School');
    expect(res.text).not.toContain('<img src=x>');
    expect(text).toContain('Started a group session of “Foundations (EN)” (version 1) at Evil &lt;img src=x&gt; School for November 20, 2026.');
    expect(text).toContain('Discarded the group session of “Foundations (EN)” (version 1) at a school not found in the district with 3 people marked present; nothing was recorded.');
    expect(text).not.toContain('Foreign School');
    expect(text).toContain('people 10 rows 30');
    expect(text).toContain('fields name nested a=1');
    expect(text).not.toMatch(/undefined|\[object /);
  });
});

/** The sentences and facts of the page's table, without the "Stored values" disclosures (which show details as stored). */
const wordsText = (html: string) => tableText(html.replace(/<details[\s\S]*?<\/details>/g, ''));

describe('GET /admin/audit: web addresses and older event shapes', () => {
  test('when LRS events name addresses, then the page prints them as typed, without a lone trailing slash on a bare origin, in English and in Spanish; credentials and queries never show', async () => {
    const actor = actorFor(adminId, String(district._id));
    // What the xAPI settings form stores for "https://LRS.District.example" (it appends the "/" it sends to).
    await recordAudit(actor, { action: 'xapi.settings_updated', target: { kind: 'district', id: String(district._id) }, details: { endpoint: 'https://LRS.District.example/', authKey: 'k', actorId: 'internal_id', enabled: true, secretChanged: true } });
    await recordAudit(actor, { action: 'xapi.test_sent', target: { kind: 'district', id: String(district._id) }, details: { endpoint: 'https://lrs.district.example/xapi/', status: 204, ok: true } });
    await recordAudit(actor, { action: 'xapi.iri_base_changed', target: { kind: 'district', id: String(district._id) }, details: { from: 'https://training.example.org/', to: 'https://ids.district.example/lrs' } });
    await recordAudit(actor, { action: 'xapi.test_sent', target: { kind: 'district', id: String(district._id) }, details: { endpoint: 'https://user:pw@lrs.other.example/?token=abc#x', status: 401, ok: false } });
    await recordAudit(actor, { action: 'lti.platform_created', target: { kind: 'lti_platform', id: '64b0000000000000000000f1' }, details: { name: 'Canvas', issuer: 'https://canvas.district.example', requireBrowserBinding: true, gradePassback: false } });

    const en = wordsText((await admin.get('/admin/audit')).text);
    expect(en).toContain('Sending to the learning record store is on, to https://LRS.District.example.');
    expect(en).toContain('Sent a test statement to https://lrs.district.example/xapi/: accepted (HTTP 204).');
    expect(en).toContain('from https://training.example.org to https://ids.district.example/lrs:');
    expect(en).toContain('Sent a test statement to https://lrs.other.example: refused (HTTP 401).');
    expect(en).toContain('(issuer https://canvas.district.example)');
    expect(en).not.toMatch(/https:\/\/[a-z.]*example\/[ .:)]/i);
    expect(en).not.toContain('pw@');
    expect(en).not.toContain('token=abc');
    expect(en).not.toContain('Stored values');

    await admin.get('/admin/audit?lang=es');
    const es = wordsText((await admin.get('/admin/audit')).text);
    await admin.get('/admin/audit?lang=en');
    expect(es).toContain('El envío al almacén de registros de aprendizaje está activado, a https://LRS.District.example.');
    expect(es).toContain('Envió una declaración de prueba a https://lrs.district.example/xapi/: aceptada (HTTP 204).');
    expect(es).toContain('de https://training.example.org a https://ids.district.example/lrs:');
    expect(es).toContain('(emisor https://canvas.district.example)');
    expect(es).not.toMatch(/https:\/\/[a-z.]*example\/[ .:)]/i);
  });

  test('when an assignment event holds only the module, roles and job titles (databases seeded before every rule was recorded), then the page still reads it as words with those rules, in both languages', async () => {
    const actor = actorFor(adminId, String(district._id));
    await recordAudit(actor, { action: 'assignment.created', target: { kind: 'assignment', id: '64b0000000000000000000a1' }, details: { moduleSlug: 'foundations', roles: ['staff', 'principal'], jobTitles: [] } });

    const en = wordsText((await admin.get('/admin/audit')).text);
    expect(en).toContain('Assigned the module “Foundations (EN)”:');
    expect(en).toContain('Roles Staff and Principal');
    expect(en).toContain('Job titles all job titles');
    expect(en).not.toMatch(/Due|Repeats|Versions that count|moduleSlug|undefined/);

    await admin.get('/admin/audit?lang=es');
    const es = wordsText((await admin.get('/admin/audit')).text);
    await admin.get('/admin/audit?lang=en');
    expect(es).toContain('Asignó el módulo');
    expect(es).toContain('todos los puestos');
    expect(es).not.toMatch(/moduleSlug|undefined/);
  });
});
