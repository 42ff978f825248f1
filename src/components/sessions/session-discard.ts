import type { Actor } from '../../shared/actor';
import { conflict, notFound } from '../../shared/errors';
import { inTransaction } from '../../shared/transactions';
import { recordAudit } from '../audit';
import { FacilitatedSession } from './session.model';
import { sessionSchool } from './sessions.service';

export type DiscardResult = Readonly<{ attendees: number }>;

/**
 * Discards a session that is not finished (started by mistake, for the wrong module or day): deletes it and
 * with it its attendance (the attendee list lives in the session). An open session has no completions: Finish
 * writes them in the same transaction as the open → finished change. The delete is conditional on the
 * session being open, so against a concurrent Finish exactly one wins: if Finish committed first nothing is
 * deleted (409) and its completions stay; if Discard committed first Finish finds no open session and writes
 * nothing. Audited with ids and counts only (who was present is not kept anywhere once discarded).
 */
export async function discardSession(actor: Actor, schoolId: string, id: string, requestId?: string): Promise<DiscardResult> {
  const school = await sessionSchool(actor, schoolId);
  const scope = { _id: id, school: school.id, district: actor.districtId };
  const discarded = await inTransaction(async (session) => {
    const doc = await FacilitatedSession.findOneAndDelete({ ...scope, status: 'open' }, { session, lean: true });
    if (!doc) return null;
    const attendees = (doc.attendees ?? []).length;
    await recordAudit(
      actor,
      {
        action: 'session.discarded',
        target: { kind: 'facilitated_session', id: String(doc._id) },
        details: { school: school.id, moduleSlug: doc.moduleSlug, moduleVersion: doc.moduleVersion, attendees },
        requestId,
      },
      session,
    );
    return { attendees };
  });
  if (discarded) return discarded;
  if (await FacilitatedSession.exists(scope)) throw conflict('This session is finished; it cannot be discarded');
  throw notFound();
}
