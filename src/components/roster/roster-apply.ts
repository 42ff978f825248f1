/**
 * Roster import, the apply: only from a stored preview of the actor's district, once, before it expires.
 * Everything is checked before anything is written (the preview is refused as stale if any person it
 * touches changed since); then the changes are written a batch at a time with bulkWrite, each write
 * idempotent and keyed by the person (or, for new people, by district + employee id). A process that dies
 * mid-way leaves the preview "applying" with a lapsed lease: applying it again checks and writes the rest.
 */
import { Types, type AnyBulkWriteOperation } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { logger } from '../../shared/logger';
import { AuditEvent, recordAudit } from '../audit';
import { forgetSessionActors } from '../auth';
import { enqueueComplianceJob } from '../assignments';
import { User } from '../users';
import { sameSnapshot, snapshotOf, type StoredPerson } from './roster-diff';
import { RosterPreview, RosterPreviewRow, type RosterPreviewRecord, type RosterPreviewRowRecord, type Snapshot } from './roster.model';
import { BATCH_SIZE, PERSON_FIELDS, SUMMARY_KEEP_MS, getPreview, needsDeactivationConfirm, type Context } from './roster.service';

/** How long an apply holds its preview without a heartbeat (one per batch) before another attempt may resume it. */
export const APPLY_LEASE_MS = 2 * 60 * 1000;

export type ApplyRefusal = 'already_applied' | 'invalid' | 'expired' | 'stale' | 'busy';
export type ApplyOutcome = { ok: true } | { ok: false; refused: ApplyRefusal; status: number } | { ok: false; errors: Record<string, string> };

async function* rowBatches(previewId: Types.ObjectId): AsyncGenerator<RosterPreviewRowRecord[]> {
  let afterSeq = 0;
  for (;;) {
    const batch = await RosterPreviewRow.find({ preview: previewId, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(BATCH_SIZE).lean<RosterPreviewRowRecord[]>();
    if (batch.length === 0) return;
    yield batch;
    afterSeq = batch[batch.length - 1].seq;
  }
}

/**
 * True when every person the preview touches is still as it saw them (or already as it would leave them,
 * when an interrupted apply is resumed), and no one else has taken an employee id or email it assigns.
 */
async function stillCurrent(actor: Actor, preview: RosterPreviewRecord): Promise<boolean> {
  for await (const batch of rowBatches(preview._id)) {
    const ids = batch.filter((r) => r.user).map((r) => r.user!);
    const [byId, byEmployeeId, byEmail] = await Promise.all([
      User.find({ district: actor.districtId, _id: { $in: ids } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
      User.find({ district: actor.districtId, employeeId: { $in: batch.map((r) => r.after.employeeId).filter(Boolean) } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
      User.find({ district: actor.districtId, email: { $in: batch.map((r) => r.after.email) } }).select('_id email employeeId').lean<StoredPerson[]>(),
    ]);
    const current = new Map(byId.map((u) => [u._id.toString(), snapshotOf(u)]));
    const employee = new Map(byEmployeeId.map((u) => [u.employeeId as string, u]));
    const emailOwner = new Map(byEmail.map((u) => [u.email, u._id.toString()]));
    for (const row of batch) {
      if (row.action === 'create') {
        // Already written by an interrupted apply: fine if it is exactly what this preview writes.
        const existing = employee.get(row.after.employeeId!);
        if (existing && !sameSnapshot(snapshotOf(existing), row.after)) return false;
        const owner = emailOwner.get(row.after.email);
        if (owner && owner !== existing?._id.toString()) return false;
        continue;
      }
      const now = current.get(row.user!.toString());
      if (!now || !(sameSnapshot(now, row.before!) || sameSnapshot(now, row.after))) return false;
      const owner = emailOwner.get(row.after.email);
      if (owner && owner !== row.user!.toString()) return false;
      const holder = row.after.employeeId ? employee.get(row.after.employeeId) : undefined;
      if (holder && holder._id.toString() !== row.user!.toString()) return false;
    }
  }
  return true;
}

function storedFields(s: Snapshot) {
  return {
    employeeId: s.employeeId,
    email: s.email,
    name: s.name,
    role: s.role,
    schools: s.schools.map((id) => new Types.ObjectId(id)),
    preferredLanguage: s.preferredLanguage,
    active: s.active,
    ...(s.jobTitle ? { jobTitle: s.jobTitle } : {}),
    ...(s.startDate ? { startDate: new Date(`${s.startDate}T00:00:00Z`) } : {}),
  };
}

function unsetFields(s: Snapshot): Record<string, 1> {
  return { ...(s.jobTitle ? {} : { jobTitle: 1 as const }), ...(s.startDate ? {} : { startDate: 1 as const }) };
}

/** One idempotent write per row: applying the same row twice leaves the same record. */
function writeFor(actor: Actor, row: RosterPreviewRowRecord): AnyBulkWriteOperation {
  const district = new Types.ObjectId(actor.districtId);
  if (row.action === 'deactivate') return { updateOne: { filter: { _id: row.user!, district }, update: { $set: { active: false } } } };
  const unset = unsetFields(row.after);
  const update = { $set: storedFields(row.after), ...(Object.keys(unset).length ? { $unset: unset } : {}) };
  // New people get no password: they cannot sign in until an admin sets one (or SSO links them).
  if (row.action === 'create') return { updateOne: { filter: { district, employeeId: row.after.employeeId! }, update, upsert: true } };
  return { updateOne: { filter: { _id: row.user!, district }, update } };
}

async function heartbeat(preview: RosterPreviewRecord, done: number): Promise<void> {
  await RosterPreview.updateOne({ _id: preview._id, state: 'applying' }, { $set: { leaseUntil: new Date(Date.now() + APPLY_LEASE_MS), 'progress.done': done } });
}

/** Moves the preview to "applying" (or takes over a lapsed apply); null if it cannot be claimed, 'busy' if another preview of the district is being applied. */
async function claim(actor: Actor, preview: RosterPreviewRecord, now: Date): Promise<RosterPreviewRecord | null | 'busy'> {
  try {
    return await RosterPreview.findOneAndUpdate(
      {
        _id: preview._id,
        district: actor.districtId,
        $or: [{ state: 'ready', expiresAt: { $gt: now } }, { state: 'applying', leaseUntil: { $lte: now } }],
      },
      { $set: { state: 'applying', leaseUntil: new Date(now.getTime() + APPLY_LEASE_MS), progress: { done: 0, total: preview.counts.create + preview.counts.update + preview.counts.reactivate + preview.counts.deactivate } } },
      { returnDocument: 'after', lean: true },
    ).lean<RosterPreviewRecord>();
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return 'busy';
    throw err;
  }
}

/**
 * Applies a preview. `confirm` is the typed number of people to deactivate, needed only above the
 * deactivation threshold. Refusals carry their HTTP status; a wrong confirmation is a form error (422).
 */
export async function applyPreview(actor: Actor, id: string, input: { confirm?: string }, ctx: Context = {}, now = new Date()): Promise<ApplyOutcome> {
  const preview = await getPreview(actor, id);
  if (preview.state === 'applied') return { ok: false, refused: 'already_applied', status: 409 };
  if (preview.state === 'invalid') return { ok: false, refused: 'invalid', status: 409 };
  if (preview.state === 'stale') return { ok: false, refused: 'stale', status: 409 };
  const resuming = preview.state === 'applying';
  if (resuming && preview.leaseUntil && preview.leaseUntil > now) return { ok: false, refused: 'busy', status: 409 };
  // An interrupted apply may always be finished; a fresh one only within the preview's hour.
  if (!resuming && preview.expiresAt <= now) return { ok: false, refused: 'expired', status: 410 };
  if (!resuming && needsDeactivationConfirm(preview) && (input.confirm ?? '').trim() !== String(preview.counts.deactivate)) {
    return { ok: false, errors: { confirm: 'roster.errors.confirmMismatch' } };
  }

  const claimed = await claim(actor, preview, now);
  if (claimed === 'busy') return { ok: false, refused: 'busy', status: 409 };
  if (!claimed) {
    const again = await getPreview(actor, id);
    return { ok: false, refused: again.state === 'applied' ? 'already_applied' : 'busy', status: 409 };
  }

  if (!(await stillCurrent(actor, preview))) {
    await RosterPreview.updateOne({ _id: preview._id, state: 'applying' }, { $set: { state: 'stale', leaseUntil: null } });
    await RosterPreviewRow.deleteMany({ preview: preview._id });
    return { ok: false, refused: 'stale', status: 409 };
  }

  let done = 0;
  const touched: string[] = [];
  for await (const batch of rowBatches(preview._id)) {
    await User.bulkWrite(batch.map((row) => writeFor(actor, row)), { ordered: false });
    for (const row of batch) if (row.user) touched.push(row.user.toString());
    // Role changes (staff ↔ principal) are audited per person, like those made on the Staff page.
    const roleChanges = batch.filter((row) => row.action !== 'create' && row.changes.includes('role'));
    if (roleChanges.length) {
      await AuditEvent.insertMany(
        roleChanges.map((row) => ({
          district: actor.districtId,
          actor: actor.userId,
          action: 'user.role_changed',
          target: { kind: 'user', id: row.user!.toString() },
          details: { from: row.before!.role, to: row.after.role, via: 'roster_import', importId: preview._id.toString() },
          requestId: ctx.requestId,
        })),
      );
    }
    done += batch.length;
    await heartbeat(preview, done);
  }
  // Sessions of people changed here end or change at their next request on this instance (seconds elsewhere).
  forgetSessionActors(touched);

  // Assignments and due dates follow people: the district's compliance is recomputed in the background.
  const { jobId } = await enqueueComplianceJob({ districtId: actor.districtId, kind: 'rebuild', requestedBy: actor.userId });
  const counts = preview.counts;
  await recordAudit(actor, {
    action: 'roster.imported',
    target: { kind: 'roster_import', id: preview._id.toString() },
    details: {
      fileName: preview.fileName,
      completeRoster: preview.completeRoster,
      rows: counts.rows,
      created: counts.create,
      updated: counts.update,
      unchanged: counts.unchanged,
      reactivated: counts.reactivate,
      deactivated: counts.deactivate,
      roleChanges: preview.changedFields?.role ?? 0,
      jobId,
      resumed: resuming,
    },
    requestId: ctx.requestId,
  });
  const finished = await RosterPreview.updateOne(
    { _id: preview._id, state: 'applying' },
    { $set: { state: 'applied', appliedAt: new Date(), appliedBy: actor.userId, leaseUntil: null, jobId, 'progress.done': done, purgeAt: new Date(Date.now() + SUMMARY_KEEP_MS) } },
  );
  if (!finished.modifiedCount) logger.warn({ previewId: preview._id.toString() }, 'roster preview finished by another attempt');
  // The rows held names and emails only for the apply; the counts stay for the recent-imports list.
  await RosterPreviewRow.deleteMany({ preview: preview._id });
  return { ok: true };
}

