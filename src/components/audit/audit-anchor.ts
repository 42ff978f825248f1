/**
 * Anchoring the audit chain outside the database (docs/audit.md). The chain (audit-chain.ts) shows any change
 * to a sealed event — unless someone with write access to the database rebuilds the whole chain after
 * changing it, or removes the newest events. Both are caught by a copy of the head kept where they cannot
 * reach: each day the head has moved, it is emailed to the addresses the district chose (its counsel, an
 * archive mailbox). Anyone can later check a kept fingerprint on /admin/audit/fingerprints: is event #n still in
 * the log with that fingerprint?
 *
 * A runner in every app process looks every 15 minutes. One anchor per district and local day (a unique
 * index: two processes never both send it); a failed send is tried again on later passes, at most
 * MAX_ANCHOR_ATTEMPTS times. Sending an anchor writes no audit event, so a quiet log stays quiet.
 */
import ejs from 'ejs';
import type { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { logger } from '../../shared/logger';
import { cleanMailError, getMailer } from '../../shared/mailer';
import { startPollingRunner } from '../../shared/polling-runner';
import { translator } from '../../shared/i18n';
import { localDateOf } from '../assignments/zoned-date';
import { District } from '../districts';
import { auditChainHead, sealAllAuditEvents } from './audit-chain';
import { AuditAnchor } from './audit-anchor.model';
import { AuditEvent } from './audit.model';
import { recordAudit } from './audit.service';

export const MAX_ANCHOR_RECIPIENTS = 5;
export const MAX_ANCHOR_ATTEMPTS = 5;
const DEFAULT_POLL_MS = 15 * 60_000;
const log = logger.child({ component: 'audit-anchor' });

export async function getAnchorRecipients(districtId: string): Promise<string[]> {
  const district = await District.findById(districtId, { 'settings.auditAnchorEmails': 1 }).lean();
  return district?.settings?.auditAnchorEmails ?? [];
}

/** Replaces the district's recipients (already validated). Audited with their number, not the addresses. */
export async function setAnchorRecipients(actor: Actor, emails: readonly string[], requestId?: string): Promise<void> {
  await District.updateOne({ _id: actor.districtId }, { $set: { 'settings.auditAnchorEmails': [...emails] } });
  await recordAudit(actor, { action: 'audit.anchor_recipients_changed', target: { kind: 'district', id: actor.districtId }, details: { recipients: emails.length }, requestId });
}

export async function recentAnchors(districtId: string, limit = 10) {
  return AuditAnchor.find({ district: districtId }, { day: 1, seq: 1, hash: 1, recipients: 1, status: 1, sentAt: 1 }).sort({ day: -1 }).limit(limit).lean();
}

export type FingerprintCheck = 'matches' | 'different' | 'missing';

/** Is sealed event #seq still in the district's chain with this fingerprint? */
export async function checkFingerprint(districtId: string, seq: number, hash: string): Promise<FingerprintCheck> {
  const event = await AuditEvent.findOne({ district: districtId, seq }, { hash: 1 }).lean();
  if (!event) return 'missing';
  return event.hash === hash.toLowerCase() ? 'matches' : 'different';
}

type Head = { seq: number; hash: string; at: Date };

function anchorMessage(districtName: string, head: Head, baseUrl: string): { subject: string; text: string; html: string } {
  const verifyUrl = `${baseUrl}/admin/audit/fingerprints`;
  const vars = { district: districtName, seq: head.seq, at: head.at.toISOString(), hash: head.hash, url: verifyUrl };
  const [en, es] = [translator('en'), translator('es')];
  const paragraphs = [en, es].flatMap((t) => [t('audit.anchor.email.intro', vars), t('audit.anchor.email.head', vars), t('audit.anchor.email.fingerprint', vars), t('audit.anchor.email.keep', vars)]);
  return {
    subject: `${en('audit.anchor.email.subject', vars)} / ${es('audit.anchor.email.subject', vars)}`,
    text: paragraphs.join('\n\n'),
    html: paragraphs.map((p) => `<p>${ejs.escapeXML(p)}</p>`).join('\n'),
  };
}

/** Sends the anchor's email to every recipient; the record says sent or failed (tried again later). */
async function deliver(anchorId: unknown, districtName: string, emails: readonly string[], head: Head, now: Date): Promise<boolean> {
  const mailer = getMailer();
  const message = anchorMessage(districtName, head, mailer.baseUrl);
  try {
    for (const to of emails) await mailer.send({ to, language: 'en', ...message });
    await AuditAnchor.updateOne({ _id: anchorId }, { $set: { status: 'sent', sentAt: now }, $unset: { lastError: 1 } });
    return true;
  } catch (err) {
    const lastError = cleanMailError(err);
    log.warn({ anchor: String(anchorId), lastError }, 'audit anchor email failed; trying again later');
    await AuditAnchor.updateOne({ _id: anchorId }, { $set: { status: 'failed', lastError } });
    return false;
  }
}

/**
 * One pass: for every district with recipients, today's anchor if the head moved since the last one sent,
 * or another try of today's failed one. Returns how many were sent.
 */
export async function runAuditAnchors(now = new Date()): Promise<number> {
  if (getMailer().mode === 'disabled') return 0;
  // Districts are few (one per customer): read them all rather than rely on an array-emptiness query.
  const districts = await District.find({}, { name: 1, timeZone: 1, 'settings.auditAnchorEmails': 1 }).lean<
    { _id: Types.ObjectId; name: string; timeZone: string; settings?: { auditAnchorEmails?: string[] } }[]
  >();
  // The fingerprint covers everything written before it is sent (the sealer runs every few seconds anyway;
  // sealing is safe in several processes at once). Also: the pass at start-up finds a sealed head.
  if (districts.some((d) => (d.settings?.auditAnchorEmails ?? []).length > 0)) await sealAllAuditEvents();
  let sent = 0;
  for (const district of districts) {
    const emails = district.settings?.auditAnchorEmails ?? [];
    if (emails.length === 0) continue;
    const day = localDateOf(now, district.timeZone);
    const today = await AuditAnchor.findOne({ district: district._id, day }).lean();
    if (today) {
      if (today.status === 'sent' || (today.attempts ?? 0) >= MAX_ANCHOR_ATTEMPTS) continue;
      // Another try; the conditional update lets one process at a time make it.
      const claimed = await AuditAnchor.findOneAndUpdate({ _id: today._id, attempts: today.attempts, status: { $ne: 'sent' } }, { $inc: { attempts: 1 } }, { lean: true });
      if (claimed && (await deliver(today._id, district.name, emails, { seq: today.seq, hash: today.hash, at: today.headAt }, now))) sent += 1;
      continue;
    }
    const head = await auditChainHead(String(district._id));
    if (!head) continue;
    const last = await AuditAnchor.findOne({ district: district._id, status: 'sent' }, { seq: 1, hash: 1 }).sort({ day: -1 }).lean();
    if (last && last.seq === head.seq && last.hash === head.hash) continue;
    let anchor;
    try {
      anchor = await AuditAnchor.create({ district: district._id, day, seq: head.seq, hash: head.hash, headAt: head.at, recipients: emails.length, status: 'queued', attempts: 1, createdAt: now });
    } catch (err) {
      if ((err as { code?: number }).code === 11000) continue; // another process made today's anchor
      throw err;
    }
    if (await deliver(anchor._id, district.name, emails, head, now)) sent += 1;
  }
  return sent;
}

export type AuditAnchorRunner = { stop(): Promise<void> };

export function startAuditAnchorRunner(options: { pollMs?: number } = {}): AuditAnchorRunner {
  const runner = startPollingRunner('audit anchors', options.pollMs ?? DEFAULT_POLL_MS, async () => {
    const sent = await runAuditAnchors();
    if (sent) log.info({ sent }, 'audit anchors emailed');
    return false;
  });
  return { stop: () => runner.stop() };
}
