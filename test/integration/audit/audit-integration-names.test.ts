import { Types } from 'mongoose';
import { AuditEvent, recordAudit } from '../../../src/components/audit';
import { LtiPlatform } from '../../../src/components/lti';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';

/** The audit log names LMS (LTI) registrations and the provisioning (SCIM) token its events concern (docs/audit.md). */
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let other: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
let adminId: string;

const VALID = {
  name: 'Canvas North',
  issuer: 'https://canvas.instructure.com',
  clientId: '10000000000077',
  authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
  jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
  deploymentIds: '42:abc',
  linkByEmail: 'yes',
};

const actorFor = (userId: string, districtId: string) => ({ userId, districtId, role: 'district_admin' as const, schoolIds: [], name: 'A', email: 'a@x', language: 'en' as const, sessionEpoch: 0 });
/** The table's rows as text, tags removed and spaces collapsed, newest first. */
const rowsOf = (html: string) => [...((/<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? '').matchAll(/<tr>([\s\S]*?)<\/tr>/g))].map((m) => m[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict({ name: 'Names Unified' });
  other = await createDistrict({ name: 'Other Unified' });
  adminId = String((await createUser(district, { role: 'district_admin', email: 'admin@names.example', name: 'Nia Admin' }))._id);
  admin = await signIn(t.app, 'admin@names.example');
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await Promise.all([AuditEvent.deleteMany({}), LtiPlatform.deleteMany({})]);
});

const post = async (path: string, body: Record<string, unknown> = {}, page = '/admin/lti') => admin.post(path).type('form').send({ _csrf: await csrfFor(admin, page), ...body });

describe('LMS (LTI) registrations in the audit log', () => {
  test('when a registration is added, renamed, a person links through it and it is removed, then each event names it (its name now, or the stored one once removed), in words, never as key=value', async () => {
    expect((await post('/admin/lti', VALID)).status).toBe(303);
    const platform = (await LtiPlatform.findOne({ clientId: VALID.clientId }).lean())!;
    const id = String(platform._id);
    // A launch links a person through it (what sso.service records; the launch itself is tested in test/integration/lti).
    await recordAudit(actorFor(adminId, String(district._id)), { action: 'lti.linked', target: { kind: 'user', id: adminId }, details: { issuer: VALID.issuer } });
    expect((await post(`/admin/lti/${id}`, { ...VALID, name: 'Canvas (district)', allowUnbound: 'yes' })).status).toBe(303);

    let rows = rowsOf((await admin.get('/admin/audit')).text);
    expect(rows).toHaveLength(3);
    const [updated, linked, created] = rows;
    expect(updated).toContain('LMS registration: Canvas (district)');
    expect(updated).toContain('Changed the LMS registration “Canvas (district)” (issuer https://canvas.instructure.com). Launches are accepted without the browser check');
    expect(linked).toContain('Linked their account to the LMS registration “Canvas (district)” (https://canvas.instructure.com) at their first launch.');
    // The registration's name now in "concerns"; the name it had then in the sentence.
    expect(created).toContain('LMS registration: Canvas (district)');
    expect(created).toContain('Added the LMS registration “Canvas North” (issuer https://canvas.instructure.com). Launches must come from the browser that started them.');
    for (const row of rows) expect(row).not.toMatch(/requireBrowserBinding=|name=|issuer=/);

    expect((await post(`/admin/lti/${id}/remove`)).status).toBe(303);
    rows = rowsOf((await admin.get('/admin/audit')).text);
    expect(rows).toHaveLength(4);
    // Removed: every event falls back to the name it stored; the launch to the issuer alone.
    expect(rows[0]).toContain('LMS registration: Canvas (district)');
    expect(rows[0]).toContain('Removed the LMS registration “Canvas (district)”');
    expect(rows[2]).toContain('Linked their account to the LMS (https://canvas.instructure.com) at their first launch.');
    expect(rows[3]).toContain('LMS registration: Canvas North');

    // Spanish.
    const es = rowsOf((await admin.get('/admin/audit?lang=es')).text);
    await admin.get('/admin/audit?lang=en');
    expect(es[3]).toContain('Registro del LMS: Canvas North');
    expect(es[3]).toContain('Los inicios deben venir del navegador que los comenzó.');
  });

  test("when an event names another district's registration (its id, its issuer), then nothing of it is shown", async () => {
    const foreign = await LtiPlatform.create({ ...VALID, clientId: 'foreign-1', name: 'Foreign LMS', issuer: 'https://foreign.example', district: other._id, deploymentIds: [], linkByEmail: true });
    const actor = actorFor(adminId, String(district._id));
    await recordAudit(actor, { action: 'lti.platform_updated', target: { kind: 'lti_platform', id: String(foreign._id) }, details: { name: 'Ours then', issuer: 'https://foreign.example' } });
    await recordAudit(actor, { action: 'lti.linked', target: { kind: 'user', id: adminId }, details: { issuer: 'https://foreign.example' } });
    // An id that is not one, and details of another type: no error, no name.
    await AuditEvent.create({ district: district._id, action: 'lti.platform_removed', target: { kind: 'lti_platform', id: 'not-an-id' }, details: { name: 42, issuer: 'x' } });
    const res = await admin.get('/admin/audit');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('Foreign LMS');
    const rows = rowsOf(res.text);
    expect(rows[0]).toContain('LMS registration not-an-id');
    expect(rows[1]).toContain('Linked their account to the LMS (https://foreign.example)');
    expect(rows[2]).toContain('LMS registration: Ours then');
  });

  test('when two registrations of the district share the issuer, then a launch names neither (it cannot tell which)', async () => {
    expect((await post('/admin/lti', VALID)).status).toBe(303);
    expect((await post('/admin/lti', { ...VALID, name: 'Canvas South', clientId: '10000000000078' })).status).toBe(303);
    await recordAudit(actorFor(adminId, String(district._id)), { action: 'lti.linked', target: { kind: 'user', id: adminId }, details: { issuer: VALID.issuer } });
    const [linked] = rowsOf((await admin.get('/admin/audit')).text);
    expect(linked).toContain('Linked their account to the LMS (https://canvas.instructure.com) at their first launch.');
  });
});

describe('the provisioning (SCIM) token in the audit log', () => {
  test('when a token is created, replaced and revoked, then its events say the current token (with its date) or an earlier one, never the district id', async () => {
    expect((await post('/admin/scim/token', {}, '/admin/scim')).status).toBe(200);
    let rows = rowsOf((await admin.get('/admin/audit')).text);
    expect(rows[0]).toMatch(/Provisioning token: the current token, created \w+ \d+, \d{4}/);
    expect(rows[0]).not.toContain(String(district._id));

    expect((await post('/admin/scim/token', { replace: 'yes' }, '/admin/scim')).status).toBe(200);
    rows = rowsOf((await admin.get('/admin/audit')).text);
    expect(rows[0]).toContain('Provisioning token: the current token, created');
    expect(rows[1]).toContain('Provisioning token: an earlier token (since replaced or revoked)');

    expect((await post('/admin/scim/revoke', {}, '/admin/scim')).status).toBe(303);
    rows = rowsOf((await admin.get('/admin/audit')).text);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toContain('Provisioning token: an earlier token (since replaced or revoked)');
    expect(rows.join(' ')).not.toContain(String(district._id));
    const es = rowsOf((await admin.get('/admin/audit?lang=es')).text);
    await admin.get('/admin/audit?lang=en');
    expect(es[0]).toContain('Token de aprovisionamiento: un token anterior');
  });

  test("when an event's token target is not the district's (another district's id), then it is shown as stored, not resolved", async () => {
    await recordAudit(actorFor(adminId, String(district._id)), { action: 'scim.token_revoked', target: { kind: 'scim_token', id: String(new Types.ObjectId()) } });
    const [row] = rowsOf((await admin.get('/admin/audit')).text);
    expect(row).toMatch(/Provisioning token [0-9a-f]{24}/);
    expect(row).not.toContain('current token');
  });
});
