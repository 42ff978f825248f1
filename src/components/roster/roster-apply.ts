/**
 * Roster import, the writes (run by the background import, roster-jobs.ts): first check that everything
 * the preview touches is still as it saw it (else the import is "stale" and nothing is written), then
 * write the changes a batch at a time with bulkWrite, each write idempotent and keyed by the person (or,
 * for new people, by district + employee id). Writing a batch twice — a runner that died after writing
 * it, taken over by another — leaves the same records.
 */
import { Types, type AnyBulkWriteOperation } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AuditEvent } from '../audit';
import { User } from '../users';
import { sameSnapshot, snapshotOf, type StoredPerson } from './roster-diff';
import { RosterPreviewRow, type RosterPreviewRecord, type RosterPreviewRowRecord, type Snapshot } from './roster.model';
import { BATCH_SIZE, PERSON_FIELDS } from './roster.service';

/** The preview's rows in order of application, a batch at a time, after row `afterSeq` (a resumed import). */
export async function* rowBatches(previewId: Types.ObjectId, afterSeq = 0): AsyncGenerator<RosterPreviewRowRecord[]> {
  for (;;) {
    const batch = await RosterPreviewRow.find({ preview: previewId, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(BATCH_SIZE).lean<RosterPreviewRowRecord[]>();
    if (batch.length === 0) return;
    yield batch;
    afterSeq = batch[batch.length - 1].seq;
  }
}

/**
 * True when every person the preview touches is still as it saw them (or already as it would leave them,
 * when an interrupted import is resumed), and no one else has taken an employee id or email it assigns.
 * `between` runs before each batch (the caller's lease and shutdown checks).
 */
export async function stillCurrent(districtId: string, preview: RosterPreviewRecord, between: () => void = () => undefined): Promise<boolean> {
  for await (const batch of rowBatches(preview._id)) {
    between();
    const ids = batch.filter((r) => r.user).map((r) => r.user!);
    const [byId, byEmployeeId, byEmail] = await Promise.all([
      User.find({ district: districtId, _id: { $in: ids } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
      User.find({ district: districtId, employeeId: { $in: batch.map((r) => r.after.employeeId).filter(Boolean) } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
      User.find({ district: districtId, email: { $in: batch.map((r) => r.after.email) } }).select('_id email employeeId').lean<StoredPerson[]>(),
    ]);
    const current = new Map(byId.map((u) => [u._id.toString(), snapshotOf(u)]));
    const employee = new Map(byEmployeeId.map((u) => [u.employeeId as string, u]));
    const emailOwner = new Map(byEmail.map((u) => [u.email, u._id.toString()]));
    for (const row of batch) {
      if (row.action === 'create') {
        // Already written by an interrupted import: fine if it is exactly what this preview writes.
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
function writeFor(districtId: string, row: RosterPreviewRowRecord): AnyBulkWriteOperation {
  const district = new Types.ObjectId(districtId);
  if (row.action === 'deactivate') return { updateOne: { filter: { _id: row.user!, district }, update: { $set: { active: false } } } };
  const unset = unsetFields(row.after);
  const update = { $set: storedFields(row.after), ...(Object.keys(unset).length ? { $unset: unset } : {}) };
  // New people get no password: they cannot sign in until an admin sets one (or SSO links them).
  if (row.action === 'create') return { updateOne: { filter: { district, employeeId: row.after.employeeId! }, update, upsert: true } };
  return { updateOne: { filter: { _id: row.user!, district }, update } };
}

/**
 * Writes one batch. Role changes (staff ↔ principal) are audited per person, like those made on the Staff
 * page — before the write, and only for people whose role has not changed yet, so a batch written again
 * after a takeover does not audit them twice (a crash between the two may leave one extra event, never a missing one).
 * Returns the ids of the people changed.
 */
export async function writeBatch(actor: Actor, preview: RosterPreviewRecord, batch: readonly RosterPreviewRowRecord[]): Promise<string[]> {
  const districtId = String(preview.district);
  const roleChanges = batch.filter((row) => row.action !== 'create' && row.changes.includes('role'));
  if (roleChanges.length) {
    const current = await User.find({ district: districtId, _id: { $in: roleChanges.map((r) => r.user!) } }).select('role').lean();
    const roleOf = new Map(current.map((u) => [u._id.toString(), u.role]));
    const pending = roleChanges.filter((row) => roleOf.get(row.user!.toString()) !== row.after.role);
    if (pending.length) {
      await AuditEvent.insertMany(
        pending.map((row) => ({
          district: districtId,
          actor: actor.userId,
          action: 'user.role_changed',
          target: { kind: 'user', id: row.user!.toString() },
          details: { from: row.before!.role, to: row.after.role, via: 'roster_import', importId: preview._id.toString() },
          requestId: preview.requestId ?? undefined,
        })),
      );
    }
  }
  await User.bulkWrite(batch.map((row) => writeFor(districtId, row)), { ordered: false });
  return batch.filter((row) => row.user).map((row) => row.user!.toString());
}
