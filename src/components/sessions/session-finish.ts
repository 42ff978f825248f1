import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AppError, notFound } from '../../shared/errors';
import { recordAudit } from '../audit';
import { localDateOf, refreshComplianceQuietly } from '../assignments';
import { Completion } from '../completions';
import { getDistrictContext } from '../settings';
// The player's certificate code generator: a facilitated certificate is issued exactly as a played one.
import { newCertificateCode } from '../training/play.service';
import { User } from '../users';
import { FacilitatedSession } from './session.model';
import { completedAtFor } from './session-dates';
import { sessionSchool } from './sessions.service';
import { inTransaction } from '../../shared/transactions';

export type FinishResult = Readonly<{
  /** false: the session was already finished (a second click, another tab): nothing was written. */
  isFinishedNow: boolean;
  recorded: number;
  alreadyTrained: number;
  notEligible: number;
}>;

/**
 * Finishes a session: records a facilitated Completion of the session's module version for every person
 * marked present who is still an active member of the school, except those who already hold one of that
 * version (they keep theirs). All or nothing, in one transaction with the session's status change and
 * the audit event; the status change is conditional on the session being open, so of two Finish posts
 * (double click, two facilitators, two app instances) exactly one writes anything, and the unique index
 * { user, moduleSlug, moduleVersion } keeps one completion per person and version even against a learner
 * passing the same version online at that moment. Compliance rows are refreshed at once afterwards,
 * exactly as after a played completion.
 */
export async function finishSession(actor: Actor, schoolId: string, id: string, requestId?: string, now = new Date()): Promise<FinishResult> {
  const school = await sessionSchool(actor, schoolId);
  const found = await FacilitatedSession.findOne({ _id: id, school: school.id, district: actor.districtId }, { sessionDate: 1, status: 1 }).lean();
  if (!found) throw notFound();
  const { timeZone } = await getDistrictContext(actor.districtId);
  if (found.status === 'open' && !canFinishOn(found.sessionDate, now, timeZone)) throw new AppError(422, 'session_in_future', 'A session cannot be finished before the day it is held');

  const outcome = await inTransaction(async (session) => {
    const doc = await FacilitatedSession.findOneAndUpdate(
      { _id: id, school: school.id, district: actor.districtId, status: 'open' },
      { $set: { status: 'finished', finishedAt: now, finishedBy: actor.userId } },
      { session, returnDocument: 'after', lean: true },
    );
    if (!doc) return null;
    if (!canFinishOn(doc.sessionDate, now, timeZone)) throw new AppError(422, 'session_in_future', 'A session cannot be finished before the day it is held');
    const marked = (doc.attendees ?? []).map((v) => new Types.ObjectId(String(v)));
    // Still active members of this school now (someone may have left or moved since attendance was taken).
    const eligible = marked.length === 0 ? [] : (await User.find({ _id: { $in: marked }, district: actor.districtId, schools: new Types.ObjectId(school.id), active: true }, { _id: 1 }, { session }).lean()).map((u) => u._id);
    const completedAt = completedAtFor(doc.sessionDate, now, timeZone);
    const writes = eligible.map((user) => ({
      updateOne: {
        filter: { user, moduleSlug: doc.moduleSlug, moduleVersion: doc.moduleVersion },
        // Insert only: whoever already holds a completion of this version keeps it unchanged.
        update: {
          $setOnInsert: {
            user,
            district: new Types.ObjectId(actor.districtId),
            school: new Types.ObjectId(school.id),
            moduleSlug: doc.moduleSlug,
            moduleVersion: doc.moduleVersion,
            method: 'facilitated',
            session: doc._id,
            facilitator: doc.facilitator,
            completedAt,
            certificateCode: newCertificateCode(),
            createdAt: now,
            updatedAt: now,
          },
        },
        upsert: true,
      },
    }));
    // The driver directly: mongoose would add its own timestamps to the update (set above, on insert only).
    const written = writes.length === 0 ? { upsertedCount: 0 } : await Completion.collection.bulkWrite(writes, { session, ordered: true });
    const results = { recorded: written.upsertedCount, alreadyTrained: eligible.length - written.upsertedCount, notEligible: marked.length - eligible.length };
    await FacilitatedSession.updateOne({ _id: doc._id }, { $set: { results } }, { session });
    await recordAudit(
      actor,
      {
        action: 'session.finished',
        target: { kind: 'facilitated_session', id: String(doc._id) },
        details: { school: school.id, moduleSlug: doc.moduleSlug, moduleVersion: doc.moduleVersion, sessionDate: doc.sessionDate, present: marked.length, ...results },
        requestId,
      },
      session,
    );
    return { results, people: eligible };
  });
  if (!outcome) {
    const doc = await FacilitatedSession.findById(id, { results: 1 }).lean();
    // Discarded meanwhile (session-discard.ts): nothing was written, and there is nothing to finish.
    if (!doc) throw new AppError(409, 'session_discarded', 'This session was discarded; nothing was recorded');
    return { isFinishedNow: false, recorded: doc?.results?.recorded ?? 0, alreadyTrained: doc?.results?.alreadyTrained ?? 0, notEligible: doc?.results?.notEligible ?? 0 };
  }
  // Completed on the compliance pages as soon as it is recorded (those already trained are unchanged).
  if (outcome.results.recorded > 0) await refreshComplianceQuietly(outcome.people);
  return { isFinishedNow: true, ...outcome.results };
}

/** Attendance is final only once the day has come: a session prepared in advance cannot be finished early. */
export function canFinishOn(sessionDate: string, now: Date, timeZone: string): boolean {
  return sessionDate <= localDateOf(now, timeZone);
}

