import request from 'supertest';
import { Types } from 'mongoose';
import { Completion } from '../../../src/components/completions';
import { AuditEvent, recordAudit, sealAllAuditEvents, sealPendingAuditEvents, verifyAuditChain } from '../../../src/components/audit';
import { GENESIS_HASH, stableJson } from '../../../src/components/audit/audit-chain';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let other: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
let adminId: string;

const actorFor = (userId: string, districtId: string) => ({ userId, districtId, role: 'district_admin' as const, schoolIds: [], name: 'A', email: 'a@x', language: 'en' as const, sessionEpoch: 0 });

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict({ name: 'Audit Unified' });
  other = await createDistrict({ name: 'Other Unified' });
  const school = await createSchool(district, { code: 'LIN', name: 'Lincoln' });
  const a = await createUser(district, { role: 'district_admin', email: 'admin@audit.example', name: 'Ada <b>Admin</b>' });
  adminId = String(a._id);
  await createUser(district, { role: 'principal', email: 'principal@audit.example', schools: [school] });
  await createUser(district, { email: 'staff@audit.example', schools: [school] });
  admin = await signIn(t.app, 'admin@audit.example');
});

afterAll(async () => {
  await t.close();
});

beforeEach(async () => {
  await AuditEvent.deleteMany({});
});

async function writeEvents(n: number, districtId = String(district._id)): Promise<void> {
  for (let i = 0; i < n; i++) {
    await recordAudit(actorFor(adminId, districtId), { action: 'compliance.exported', target: { kind: 'district', id: districtId }, details: { format: 'csv', rowCount: i, filters: { school: null, module: 'foundations' }, at: new Date(Date.UTC(2026, 0, 1 + i)) } });
  }
}

describe('audit chain', () => {
  test('when events are sealed, then each district gets 1, 2, 3 … chained by hash, and the check passes', async () => {
    await writeEvents(5);
    await writeEvents(2, String(other._id));
    expect(await sealAllAuditEvents()).toBe(7);
    const ours = await AuditEvent.find({ district: district._id }).sort({ seq: 1 }).lean();
    expect(ours.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(ours[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < ours.length; i++) expect(ours[i].prevHash).toBe(ours[i - 1].hash);
    expect((await AuditEvent.find({ district: other._id }).sort({ seq: 1 }).lean()).map((e) => e.seq)).toEqual([1, 2]);
    const report = await verifyAuditChain(String(district._id));
    expect(report).toMatchObject({ checked: 5, pending: 0, problems: [] });
    expect(report.head?.seq).toBe(5);
    // Later events continue the chain.
    await writeEvents(1);
    await sealAllAuditEvents();
    expect((await verifyAuditChain(String(district._id))).checked).toBe(6);
  });

  test('when two sealers run at once, then no number is given twice and the chain stays whole', async () => {
    await writeEvents(40);
    await Promise.all([sealAllAuditEvents(), sealAllAuditEvents(), sealPendingAuditEvents(7)]);
    await sealAllAuditEvents();
    const seqs = (await AuditEvent.find({ district: district._id }).sort({ seq: 1 }).lean()).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await verifyAuditChain(String(district._id))).problems).toEqual([]);
  });

  test('when another sealer is chaining the same events, then sealing everything returns only once all are sealed', async () => {
    await writeEvents(300);
    for (let round = 0; round < 5; round++) {
      await writeEvents(60);
      // The runner (or another process) starts on the same events a moment earlier.
      const other = sealPendingAuditEvents();
      await sealAllAuditEvents();
      expect(await AuditEvent.countDocuments({ seq: null })).toBe(0);
      await other;
    }
    expect((await verifyAuditChain(String(district._id))).problems).toEqual([]);
    // 600 events sealed twice over: ~4 s alone, several times that when the machine's other suites run.
  }, 60_000);

  test('when a sealed event is changed, removed or its link rewritten, then the check says where', async () => {
    await writeEvents(6);
    await sealAllAuditEvents();
    await AuditEvent.collection.updateOne({ district: district._id, seq: 2 }, { $set: { 'details.rowCount': 999 } });
    await AuditEvent.collection.deleteOne({ district: district._id, seq: 4 });
    const report = await verifyAuditChain(String(district._id));
    expect(report.problems).toEqual([
      { kind: 'altered', seq: 2, eventId: expect.any(String) },
      { kind: 'gap', seq: 4, eventId: null },
      { kind: 'link', seq: 5, eventId: expect.any(String) },
    ]);
    const page = await admin.get('/admin/audit/verify');
    expect(page.status).toBe(200);
    expect(page.text).toContain('The chain is broken in 3 places');
    expect(page.text).toContain('Event #2 was changed after it was sealed.');
    expect(page.text).toContain('Event #4 is missing');
  });

  test('canonical form: key order and dates do not change the text; values do', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(stableJson({ b: 1, a: { d: at, c: [1, 'x'] } })).toBe(stableJson({ a: { c: [1, 'x'], d: new Date(at) }, b: 1 }));
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: 2 }));
    expect(stableJson({ a: undefined, b: null })).toBe('{"b":null}');
  });
});

describe('GET /admin/audit', () => {
  test("when the admin opens the log, then the district's events newest first with who, what and the seal number; other districts' events never", async () => {
    await writeEvents(3);
    await writeEvents(2, String(other._id));
    await sealAllAuditEvents();
    await writeEvents(1);
    const res = await admin.get('/admin/audit');
    expect(res.status).toBe(200);
    expect(res.text).toContain('4 events');
    expect(res.text).toContain('Compliance report exported');
    expect(res.text).toContain('Ada &lt;b&gt;Admin&lt;/b&gt;');
    expect(res.text).not.toContain('<b>Admin</b>');
    expect(res.text).toMatch(/<td class="num">pending<\/td>[\s\S]*<td class="num">3<\/td>[\s\S]*<td class="num">2<\/td>/);
    expect(res.text).toContain('Latest sealed event: #3');
    const filtered = await admin.get('/admin/audit?action=user.created');
    expect(filtered.text).toContain('0 events');
    expect((await admin.get('/admin/audit?action=%7B%22%24gt%22%3A%22%22%7D')).status).toBe(400);
    const spanish = await admin.get('/admin/audit?lang=es');
    await admin.get('/admin/audit?lang=en');
    expect(spanish.text).toContain('Registro de auditoría');
    // The time ends in "p.m." / "a.m.": in brackets, so no "p.m.." before the next sentence.
    expect(spanish.text).toMatch(/Último evento sellado: n\.º 3 \(\d{1,2} \S+ \d{4}, [^)]*\)\. Su huella:/);
    expect(spanish.text).not.toMatch(/m\.\./);
  });

  test('when events concern a person or a school, then the log names them (escaped) from the district\'s records; another district\'s ids are never resolved', async () => {
    const person = await createUser(district, { email: 'named@audit.example', name: 'Nia <i>Named</i>' });
    const school = await createSchool(district, { code: 'NAM', name: 'Named School' });
    const foreign = await createUser(other, { email: 'foreign@audit.example', name: 'Foreign Person' });
    const actor = actorFor(adminId, String(district._id));
    await recordAudit(actor, { action: 'user.updated', target: { kind: 'user', id: String(person._id) } });
    await recordAudit(actor, { action: 'school.updated', target: { kind: 'school', id: String(school._id) } });
    await recordAudit(actor, { action: 'user.updated', target: { kind: 'user', id: String(foreign._id) } });
    await recordAudit(actor, { action: 'user.updated', target: { kind: 'user', id: 'not-an-id' } });
    // A completion is named by the person who holds it; another district's completion is not resolved.
    const completionOf = (user: { _id: Types.ObjectId; district: Types.ObjectId }, code: string) =>
      Completion.create({ user: user._id, district: user.district, moduleSlug: 'foundations', moduleVersion: 1, attempt: new Types.ObjectId(), score: 90, completedAt: new Date(), certificateCode: code });
    const held = await completionOf(person, 'AUDITNAMEDCODE1');
    const foreignCompletion = await completionOf(foreign, 'AUDITNAMEDCODE2');
    await recordAudit(actor, { action: 'training.completed', target: { kind: 'completion', id: String(held._id) } });
    await recordAudit(actor, { action: 'training.completed', target: { kind: 'completion', id: String(foreignCompletion._id) } });
    const res = await admin.get('/admin/audit');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Person: Nia &lt;i&gt;Named&lt;/i&gt;');
    expect(res.text).toContain('School: Named School');
    expect(res.text).not.toContain('Foreign Person');
    expect(res.text).toContain(`<code>${String(foreign._id)}</code>`);
    expect(res.text).toContain('Completion: Nia &lt;i&gt;Named&lt;/i&gt;');
    expect(res.text).toContain(`<code>${String(foreignCompletion._id)}</code>`);
    expect(res.text).not.toMatch(/Completion: Foreign/);
    const spanish = await admin.get('/admin/audit?lang=es');
    await admin.get('/admin/audit?lang=en');
    expect(spanish.text).toContain('Persona: Nia &lt;i&gt;Named&lt;/i&gt;');
  });

  test('when principals or staff ask, then 403; anonymous go to sign-in', async () => {
    const principal = await signIn(t.app, 'principal@audit.example');
    expect((await principal.get('/admin/audit')).status).toBe(403);
    expect((await principal.get('/admin/audit/verify')).status).toBe(403);
    const staff = await signIn(t.app, 'staff@audit.example');
    expect((await staff.get('/admin/audit')).status).toBe(403);
    expect((await request(t.app).get('/admin/audit')).status).toBe(303);
  });

  test('when an intact log is checked, then it says so with the count', async () => {
    await writeEvents(4);
    await sealAllAuditEvents();
    const res = await admin.get('/admin/audit/verify');
    expect(res.text).toContain('The chain is intact: 4 sealed events checked');
  });
});
