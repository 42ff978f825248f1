import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { AuditAnchor, AuditEvent, recordAudit, runAuditAnchors, sealAllAuditEvents } from '../../../src/components/audit';
import { District } from '../../../src/components/districts';
import { startSmtpCapture, type SmtpCapture } from '../reminders/smtp-capture';

let smtp: SmtpCapture;
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
let adminId: string;
const DAY = 86_400_000;

async function saveRecipients(emails: string) {
  return admin.post('/admin/audit/anchor').type('form').send({ _csrf: await csrfFor(admin, '/admin/audit/fingerprints'), emails });
}

async function someEvents(count: number) {
  for (let i = 0; i < count; i++) {
    await recordAudit({ userId: adminId, districtId: String(district._id) } as never, { action: 'school.updated', target: { kind: 'school', id: `s${i}` } });
  }
  await sealAllAuditEvents();
}

async function head() {
  return AuditEvent.findOne({ district: district._id, seq: { $exists: true } }).sort({ seq: -1 }).lean().orFail();
}

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'Training <training@anchor.example>', BASE_URL: 'https://training.anchor.example' });
  district = await createDistrict({ name: 'Anchor Unified', timeZone: 'America/Los_Angeles' });
  const user = await createUser(district, { role: 'district_admin', email: 'admin@anchor.example' });
  adminId = String(user._id);
  await createUser(district, { role: 'principal', email: 'principal@anchor.example' });
  admin = await signIn(t.app, 'admin@anchor.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

describe('choosing where the fingerprint is emailed', () => {
  test('when the addresses are invalid or too many, then 422 with the entered text and nothing is saved', async () => {
    const bad = await saveRecipients('counsel@anchor.example, not-an-address');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter valid email addresses');
    expect(bad.text).toContain('counsel@anchor.example, not-an-address</textarea>');
    const many = await saveRecipients('a@x.example b@x.example c@x.example d@x.example e@x.example f@x.example');
    expect(many.status).toBe(422);
    expect(many.text).toContain('at most 5 addresses');
    expect((await District.findById(district._id).lean())!.settings!.auditAnchorEmails).toEqual([]);
  });

  test('when an admin saves two addresses (with a duplicate), then they are stored once each, audited with their number only', async () => {
    const res = await saveRecipients('Counsel@Anchor.example\narchive@anchor.example, counsel@anchor.example');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/audit/fingerprints?saved=anchor#anchor-heading');
    expect((await District.findById(district._id).lean())!.settings!.auditAnchorEmails).toEqual(['counsel@anchor.example', 'archive@anchor.example']);
    const event = await AuditEvent.findOne({ action: 'audit.anchor_recipients_changed' }).lean();
    expect(event!.details).toEqual({ recipients: 2 });
    const page = await admin.get('/admin/audit/fingerprints?saved=anchor');
    expect(page.text).toContain('emailed to 2 addresses');
    expect(page.text).toContain('counsel@anchor.example\narchive@anchor.example</textarea>');
  });

  test('when a principal posts the form, then 403 and nothing changes', async () => {
    const principal = await signIn(t.app, 'principal@anchor.example');
    const res = await principal.post('/admin/audit/anchor').type('form').send({ _csrf: await csrfFor(principal), emails: 'me@evil.example' });
    expect(res.status).toBe(403);
    expect((await District.findById(district._id).lean())!.settings!.auditAnchorEmails).not.toContain('me@evil.example');
  });
});

describe('the daily email', () => {
  test('when the log has sealed events, then each address gets the head once that day, and the page lists it', async () => {
    await someEvents(3);
    const latest = await head();
    const now = new Date();
    expect(await runAuditAnchors(now)).toBe(1);
    await smtp.waitForMessages(2);
    expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(['archive@anchor.example', 'counsel@anchor.example']);
    const mail = smtp.messages[0];
    expect(mail.subject).toContain('Anchor Unified');
    expect(mail.text).toContain(`#${latest.seq}`);
    expect(mail.text).toContain(latest.hash!);
    expect(mail.text).toContain('https://training.anchor.example/admin/audit/fingerprints');
    expect(mail.text).toContain('Huella (SHA-256)'); // the Spanish copy in the same message
    // Only the head: never an event's content.
    expect(mail.text).not.toContain('school.updated');
    expect(await AuditAnchor.findOne({ district: district._id }).lean()).toMatchObject({ seq: latest.seq, hash: latest.hash, status: 'sent', recipients: 2 });
    // Again the same day (another process, a later pass): nothing more.
    expect(await runAuditAnchors(new Date(now.getTime() + 60_000))).toBe(0);
    expect(smtp.messages).toHaveLength(2);
    // Sending wrote no audit event (a quiet log stays quiet).
    expect((await head()).seq).toBe(latest.seq);
    const page = await admin.get('/admin/audit/fingerprints');
    expect(page.text).toContain(`#${latest.seq}`);
    expect(page.text).toMatch(/<td>Sent<\/td>/);
  });

  test('when the next day the log has not changed, then nothing is sent; when it has, the new head is', async () => {
    const tomorrow = new Date(Date.now() + DAY);
    expect(await runAuditAnchors(tomorrow)).toBe(0);
    const before = await head();
    // Written but not sealed yet: the pass seals it first, so the fingerprint covers it.
    await recordAudit({ userId: adminId, districtId: String(district._id) } as never, { action: 'school.updated', target: { kind: 'school', id: 'late' } });
    const dayAfter = new Date(Date.now() + 2 * DAY);
    expect(await runAuditAnchors(dayAfter)).toBe(1);
    const latest = await head();
    expect(latest.seq).toBe(before.seq! + 1);
    expect(latest.target).toMatchObject({ id: 'late' });
    await smtp.waitForMessages(4);
    expect(smtp.messages.slice(2).every((m) => m.text.includes(latest.hash!))).toBe(true);
  });

  test('when the mail server refuses, then the anchor is marked failed and a later pass sends it', async () => {
    await someEvents(1);
    const later = new Date(Date.now() + 3 * DAY);
    smtp.refuse = true;
    expect(await runAuditAnchors(later)).toBe(0);
    const failed = await AuditAnchor.findOne({ district: district._id }).sort({ day: -1 }).lean();
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed!.lastError).toBeTruthy();
    smtp.refuse = false;
    expect(await runAuditAnchors(new Date(later.getTime() + 15 * 60_000))).toBe(1);
    expect(await AuditAnchor.findById(failed!._id).lean()).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('checking a kept fingerprint', () => {
  test('when the fingerprint matches the event, then the page says nothing up to it was changed', async () => {
    const latest = await head();
    const res = await admin.get(`/admin/audit/fingerprints?seq=${latest.seq}&hash=${latest.hash!.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`Event #${latest.seq} is in the log with this fingerprint`);
  });

  test('when the event was rewritten (the chain rebuilt), then the kept fingerprint no longer matches', async () => {
    const latest = await head();
    const kept = latest.hash!;
    await AuditEvent.updateOne({ _id: latest._id }, { $set: { hash: 'f'.repeat(64) } });
    const res = await admin.get(`/admin/audit/fingerprints?seq=${latest.seq}&hash=${kept}`);
    expect(res.text).toContain('with a different fingerprint');
    await AuditEvent.updateOne({ _id: latest._id }, { $set: { hash: kept } });
  });

  test('when the event was removed, then the page says so', async () => {
    const res = await admin.get(`/admin/audit/fingerprints?seq=999999&hash=${'a'.repeat(64)}`);
    expect(res.text).toContain('There is no event #999999');
  });

  test('when the number or fingerprint is malformed, then 422 with the entered values and a reason for each', async () => {
    const res = await admin.get('/admin/audit/fingerprints?seq=abc&hash=12%3Cscript%3E');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter the event number');
    expect(res.text).toContain('Enter the whole fingerprint');
    expect(res.text).toContain('value="12&lt;script&gt;"');
    expect(res.text).not.toContain('<script>');
  });

  test('when a fingerprint of another district is checked, then it does not match here', async () => {
    const other = await createDistrict();
    await recordAudit({ userId: adminId, districtId: String(other._id) } as never, { action: 'school.updated', target: { kind: 'school', id: 'x' } });
    await sealAllAuditEvents();
    const theirs = await AuditEvent.findOne({ district: other._id, seq: 1 }).lean().orFail();
    const ours = await AuditEvent.findOne({ district: district._id, seq: 1 }).lean().orFail();
    expect(theirs.hash).not.toBe(ours.hash);
    const res = await admin.get(`/admin/audit/fingerprints?seq=1&hash=${theirs.hash}`);
    expect(res.text).toContain('with a different fingerprint');
  });
});

describe('stopping the emails', () => {
  test('when the addresses are cleared, then the page says so and no more fingerprints are sent', async () => {
    const res = await saveRecipients('');
    expect(res.status).toBe(303);
    expect((await District.findById(district._id).lean())!.settings!.auditAnchorEmails).toEqual([]);
    expect((await admin.get('/admin/audit/fingerprints?saved=anchor')).text).toContain('no longer emailed');
    await someEvents(1);
    const sent = smtp.messages.length;
    expect(await runAuditAnchors(new Date(Date.now() + 10 * DAY))).toBe(0);
    expect(smtp.messages).toHaveLength(sent);
  });
});
