import { randomBytes } from 'node:crypto';
import { Types, type ClientSession } from 'mongoose';
import type { Document, UpdateFilter } from 'mongodb';
import type { Actor } from '../../shared/actor';
import type { LoadedModuleVersion, TrainingModuleContent } from '../content';
import { Attempt, Completion, tallyFinishedAttempt, type AttemptRecord } from '../completions';
import { recordAudit } from '../audit';
import { getModuleVersion } from './training.content';
import { POINTS_PER_DECISION } from '../content';
import { applyChoice, applyContinue, decodePosition, grade, initialPosition, maxPointsFor, type DecisionRecord, type PlayPosition } from './training.progress';
import { refreshComplianceQuietly } from '../assignments';
import { inTransaction } from '../../shared/transactions';
import { playContent } from './training.update';
import { findUpdateOffer } from './training.service';
import { getPersonWorkplace } from '../schools';

/** The attempt as the player needs it: where the learner is and how it went so far. */
export type AttemptView = Readonly<{
  id: string;
  /** The school it is recorded at (where the person was working when they started it). */
  school?: string;
  moduleVersion: number;
  /** An update attempt: the version it updates from (it plays only the update path's scenarios). */
  updateFrom?: number;
  status: 'in_progress' | 'passed' | 'failed';
  position: PlayPosition;
  decisions: readonly DecisionRecord[];
  points: number;
  maxPoints: number;
  score?: number;
  finishedAt?: Date;
}>;

/** `content`: what the attempt plays — the module, or for an update attempt only the update's scenarios. */
export type PlayState = Readonly<{ module: LoadedModuleVersion; content: TrainingModuleContent; attempt: AttemptView }>;

export type MoveInput = Readonly<{ step: number; choice?: string; at?: string }>;

/**
 * - `moved`: stored; show the new position.
 * - `stale`: the form was older than the attempt (back button, replay, second tab, lost race): nothing
 *   changed; show the current position.
 * - `choose`: a decision was submitted without a valid choice: re-render the node with an error.
 * - `none`: no attempt to play.
 */
export type MoveResult = 'moved' | 'stale' | 'choose' | 'none';

/** 128 random bits as RFC 4648 base32 (26 letters/digits, no padding): unguessable, easy to read aloud. */
export function newCertificateCode(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let code = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      code += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) code += alphabet[(value << (5 - bits)) & 31];
  return code;
}

type AttemptFields = Pick<AttemptRecord, '_id' | 'school' | 'decisions' | 'position' | 'status' | 'moduleVersion' | 'updateFrom' | 'points' | 'maxPoints' | 'score' | 'finishedAt'>;

// Every scenario step reads and writes the attempt, so these two go to the driver directly (the documents
// are written by this file with the types the schema declares; exports do the same): mongoose's query
// building and casting was a tenth of the app's CPU per step.

// A person's attempts at a module, newest first. Index { user, moduleSlug, startedAt: -1 }.
function latestAttemptQuery(actor: Actor, slug: string): Promise<AttemptFields | null> {
  return Attempt.collection.findOne<AttemptFields>(
    { user: new Types.ObjectId(actor.userId), moduleSlug: slug },
    { sort: { startedAt: -1 }, projection: { school: 1, decisions: 1, position: 1, status: 1, moduleVersion: 1, updateFrom: 1, points: 1, maxPoints: 1, score: 1, finishedAt: 1 } },
  );
}

/** A conditional update of one attempt; `updatedAt` kept as mongoose's timestamps would. */
async function updateAttempt(filter: Record<string, unknown>, update: { $set: Record<string, unknown>; $push?: { decisions: DecisionRecord }; $inc?: Record<string, number> }): Promise<boolean> {
  const result = await Attempt.collection.updateOne({ ...filter, user: new Types.ObjectId(String(filter.user)) }, { ...update, $set: { ...update.$set, updatedAt: new Date() } } as UpdateFilter<Document>);
  return result.modifiedCount === 1;
}

function toView(record: AttemptFields): AttemptView {
  const position = record.position;
  if (!position) throw new Error(`attempt ${record._id.toString()} has no position`);
  return {
    id: record._id.toString(),
    school: record.school ? record.school.toString() : undefined,
    moduleVersion: record.moduleVersion,
    updateFrom: record.updateFrom ?? undefined,
    status: record.status,
    position: {
      scenarioIndex: position.scenarioIndex,
      nodeId: position.nodeId,
      step: position.step,
      phase: position.phase,
      choiceId: position.choiceId ?? undefined,
    },
    decisions: record.decisions,
    points: record.points ?? 0,
    maxPoints: record.maxPoints ?? 0,
    score: record.score ?? undefined,
    finishedAt: record.finishedAt ?? undefined,
  };
}

/**
 * The school an attempt or a completion is recorded at: the one the person is working at — the session's
 * "Working at" choice (working-at.ts) while it is still one of their active schools, else their first active
 * school: the school whose contacts their training names (getPersonWorkplace) — else, with no active school, their
 * first school. Decision insights count an attempt at this school; compliance does not depend on it (a person's
 * rows are per person × assignment, so a completion counts at every school of theirs where the assignment
 * applies). docs/contacts.md, "Where training is recorded".
 */
async function recordingSchoolOf(actor: Actor, workingAt?: string): Promise<string | undefined> {
  return (await getPersonWorkplace(actor, workingAt)) ?? actor.schoolIds[0];
}

/** The learner's current attempt at a module (in progress, or the last finished one) with its module version. */
export async function getPlayState(actor: Actor, slug: string): Promise<PlayState | null> {
  const record = await latestAttemptQuery(actor, slug);
  if (!record) return null;
  const module = getModuleVersion(slug, record.moduleVersion);
  return { module, content: playContent(module, record.updateFrom), attempt: toView(record) };
}

/**
 * Resumes the in-progress attempt, or starts one on the latest version. The partial unique index
 * (one in-progress attempt per person and module) makes a double-clicked Start create only one.
 */
export async function startAttempt(actor: Actor, slug: string, workingAt?: string): Promise<void> {
  const module = getModuleVersion(slug);
  const existing = await Attempt.exists({ user: actor.userId, moduleSlug: slug, status: 'in_progress' });
  if (existing) return;
  await createAttempt(actor, module, null, workingAt);
}

/**
 * Starts the update of the latest version for someone it is offered to (findUpdateOffer), or resumes the
 * attempt already in progress (of either kind: one in-progress attempt per person and module). Returns
 * false, creating nothing, when no update is offered (nothing held, the latest held, or no declared path).
 */
export async function startUpdateAttempt(actor: Actor, slug: string, workingAt?: string): Promise<boolean> {
  const module = getModuleVersion(slug);
  const [existing, offer] = await Promise.all([Attempt.exists({ user: actor.userId, moduleSlug: slug, status: 'in_progress' }), findUpdateOffer(actor, slug)]);
  if (existing) return true;
  if (!offer) return false;
  await createAttempt(actor, module, offer.from, workingAt);
  return true;
}

/**
 * Creates the in-progress attempt (the whole module, or the update from `updateFrom`); the unique index
 * makes a concurrent second create a no-op. Not started → in progress on the compliance pages. Recorded at the
 * school the person is working at (recordingSchoolOf).
 */
async function createAttempt(actor: Actor, module: ReturnType<typeof getModuleVersion>, updateFrom: number | null, workingAt: string | undefined): Promise<void> {
  try {
    await Attempt.create({
      user: actor.userId,
      district: actor.districtId,
      school: await recordingSchoolOf(actor, workingAt),
      moduleSlug: module.slug,
      moduleVersion: module.version,
      ...(updateFrom === null ? {} : { updateFrom }),
      status: 'in_progress',
      position: initialPosition(playContent(module, updateFrom)),
      startedAt: new Date(),
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 11000) throw err;
    return;
  }
  await refreshComplianceQuietly([actor.userId]);
}

/**
 * Applies one move. The update is conditional on the step the form was rendered at, so of two
 * requests carrying the same step (two tabs, a double click, a replay) exactly one changes the attempt.
 *
 * Most moves take one round trip: the form says where it was rendered (`at`), the move is computed from
 * that and stored with one update conditional on the in-progress attempt being exactly there. Anything
 * else — no or unreadable `at`, a claim that matches nothing (stale form, finished attempt), a move that
 * needs an answer, the final decision — reads the attempt and decides as below.
 */
export async function submitMove(actor: Actor, slug: string, input: MoveInput, requestId?: string, workingAt?: string): Promise<MoveResult> {
  if (input.at !== undefined && (await moveAtClaimedPosition(actor, slug, input))) return 'moved';
  const state = await getPlayState(actor, slug);
  if (!state) return 'none';
  const { module, content, attempt } = state;
  if (input.step !== attempt.position.step) return 'stale';
  const filter = { _id: attempt.id, user: actor.userId, 'position.step': input.step };

  if (input.choice === undefined) {
    const move = applyContinue(content, attempt.position);
    if (!move.ok) return move.reason === 'not_a_decision' ? 'choose' : 'stale';
    const updated = await Attempt.updateOne(filter, { $set: { position: move.position } });
    return updated.modifiedCount === 1 ? 'moved' : 'stale';
  }

  if (attempt.status !== 'in_progress') return 'stale';
  const move = applyChoice(content, attempt.position, input.choice, new Date());
  if (!move.ok) return move.reason === 'unknown_choice' ? 'choose' : 'stale';

  const points = attempt.points + move.decision.points;
  const decisions = attempt.decisions.length + 1;
  const update: Record<string, unknown> = {
    $push: { decisions: move.decision },
    $set: { position: move.position, points, maxPoints: maxPointsFor(decisions) },
  };
  if (!move.isFinal) {
    const updated = await Attempt.updateOne({ ...filter, status: 'in_progress' }, update);
    return updated.modifiedCount === 1 ? 'moved' : 'stale';
  }

  // The last decision scores the attempt, counts its decisions into the school's tally and, on a pass, records
  // the completion: all or nothing.
  const result = grade(points, decisions, module.content.passMark);
  const finishedAt = move.decision.at;
  (update.$set as Record<string, unknown>).status = result.isPassed ? 'passed' : 'failed';
  (update.$set as Record<string, unknown>).score = result.score;
  (update.$set as Record<string, unknown>).finishedAt = finishedAt;
  const won = await inTransaction(async (session) => {
    const updated = await Attempt.updateOne({ ...filter, status: 'in_progress' }, update, { session });
    if (updated.modifiedCount !== 1) return false;
    if (result.isPassed) await recordCompletion(actor, module, attempt, result.score, finishedAt, requestId, session, workingAt);
    // Counted in this transaction, pass or fail, so the decision insights stay exact without reading every
    // attempt. The filter above pinned the step, so the attempt held exactly the decisions read plus this one.
    // Last: the school's tally is the document other learners' final decisions write too (the shortest hold).
    await tallyFinishedAttempt({ district: actor.districtId, school: attempt.school, moduleSlug: slug, moduleVersion: attempt.moduleVersion, decisions: [...attempt.decisions, move.decision] }, session);
    return true;
  });
  // Completed (or still in progress after a fail) on the compliance pages, as soon as it is recorded.
  if (won) await refreshComplianceQuietly([actor.userId]);
  return won ? 'moved' : 'stale';
}

/**
 * The one-update path: true when the move was stored. The filter pins the in-progress attempt (there is at
 * most one per person and module, and it is the newest) at the claimed version and position, so a claim
 * that is not the attempt's current position changes nothing and the caller falls back to reading it.
 */
async function moveAtClaimedPosition(actor: Actor, slug: string, input: MoveInput): Promise<boolean> {
  const claim = decodePosition(input.at);
  if (!claim) return false;
  let content: TrainingModuleContent;
  try {
    content = playContent(getModuleVersion(slug, claim.version), claim.updateFrom);
  } catch {
    return false;
  }
  const position: PlayPosition = { scenarioIndex: claim.scenarioIndex, nodeId: claim.nodeId, step: input.step, phase: claim.phase, choiceId: claim.choiceId };
  const filter: Record<string, unknown> = {
    user: actor.userId,
    moduleSlug: slug,
    status: 'in_progress',
    moduleVersion: claim.version,
    // null also matches an attempt without the field (every attempt at the whole module).
    updateFrom: claim.updateFrom ?? null,
    'position.step': input.step,
    'position.scenarioIndex': claim.scenarioIndex,
    'position.nodeId': claim.nodeId,
    'position.phase': claim.phase,
  };
  if (claim.choiceId !== undefined) filter['position.choiceId'] = claim.choiceId;

  if (input.choice === undefined) {
    const move = applyContinue(content, position);
    if (!move.ok) return false;
    return updateAttempt(filter, { $set: { position: stored(move.position) } });
  }
  const move = applyChoice(content, position, input.choice, new Date());
  if (!move.ok || move.isFinal) return false;
  return updateAttempt(filter, { $push: { decisions: move.decision }, $set: { position: stored(move.position) }, $inc: { points: move.decision.points, maxPoints: POINTS_PER_DECISION } });
}

/** A position as the schema stores it: no choiceId key unless there is one. */
function stored(position: PlayPosition): PlayPosition {
  const { choiceId, ...rest } = position;
  return choiceId === undefined ? rest : { ...rest, choiceId };
}

/**
 * One Completion per person and module version: a later pass of the same version renews it (a record from a
 * facilitated group session or an update then becomes a played one: attempt and score set, the session and
 * update fields dropped). An update attempt's pass records method 'update' with the base completion's
 * recertification clock (docs/compliance.md) — unless the person already holds this version otherwise
 * (played or facilitated meanwhile): a full completion is never replaced by an update.
 * Recorded at the attempt's school — the completion and the decisions that earned it count at the same school —
 * unless that school has been taken off the person's account since: then where they work now (recordingSchoolOf).
 */
async function recordCompletion(
  actor: Actor,
  module: LoadedModuleVersion,
  attempt: AttemptView,
  score: number,
  completedAt: Date,
  requestId: string | undefined,
  session: ClientSession | undefined,
  workingAt: string | undefined,
): Promise<void> {
  const school = attempt.school && actor.schoolIds.includes(attempt.school) ? attempt.school : await recordingSchoolOf(actor, workingAt);
  const key = { user: actor.userId, moduleSlug: module.slug, moduleVersion: module.version };
  let update: Record<string, unknown>;
  if (attempt.updateFrom === undefined) {
    update = {
      $set: { district: actor.districtId, school, method: 'played', attempt: attempt.id, score, completedAt },
      $unset: { session: 1, facilitator: 1, updatedFrom: 1, recertifiedAt: 1 },
      $setOnInsert: { certificateCode: newCertificateCode() },
    };
  } else {
    const [base, current] = await Promise.all([
      Completion.findOne({ user: actor.userId, moduleSlug: module.slug, moduleVersion: attempt.updateFrom, revokedAt: null }, { completedAt: 1, method: 1, recertifiedAt: 1 }, { session }).lean(),
      Completion.findOne(key, { method: 1 }, { session }).lean(),
    ]);
    // The base was revoked while the update was played: there is nothing to update from (the whole module is needed).
    if (!base) return;
    if (current && current.method !== 'update') return;
    // A base that was itself an update passes its own clock on: chained updates never renew it.
    const recertifiedAt = base.method === 'update' && base.recertifiedAt ? base.recertifiedAt : base.completedAt;
    update = {
      $set: { district: actor.districtId, school, method: 'update', attempt: attempt.id, score, completedAt, updatedFrom: attempt.updateFrom, recertifiedAt },
      $setOnInsert: { certificateCode: newCertificateCode() },
    };
  }
  const before = await Completion.findOneAndUpdate(key, update, { upsert: true, returnDocument: 'before', session, lean: true });
  const completion = before ?? (await Completion.findOne(key, { _id: 1 }, { session }).lean());
  await recordAudit(
    actor,
    {
      action: 'completion.recorded',
      target: { kind: 'completion', id: completion?._id.toString() ?? '' },
      details: {
        moduleSlug: module.slug,
        moduleVersion: module.version,
        score,
        attempt: attempt.id,
        isRenewal: before !== null,
        ...(attempt.updateFrom !== undefined ? { method: 'update', updatedFrom: attempt.updateFrom } : {}),
      },
      requestId,
    },
    session,
  );
}
