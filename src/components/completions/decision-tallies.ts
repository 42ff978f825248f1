/**
 * Decision tallies (decision-tally.model.ts): per school and module version, how often each answer was chosen
 * in finished attempts — kept current as attempts finish instead of counted from every attempt on each view
 * (research/anchors.md: "counts kept current as events arrive").
 *
 * - The player's final decision increments its school's document in the transaction that finishes the
 *   attempt (tallyFinishedAttempt): both are written or neither, so the counts do not drift.
 * - rebuildDecisionTallies recounts a district's version from the attempts (seeds, imports, attempts written
 *   before the tallies existed, repair). Safe while attempts finish: it notes each school's `seq`, scans, and
 *   in a transaction writes a school's figures only if its `seq` did not move meanwhile — a transaction that
 *   finished an attempt there and committed after the rebuild's snapshot makes the rebuild's write conflict
 *   (retried), one that committed before it moved `seq`. A school whose `seq` moved is counted again inside a
 *   transaction (reads and write in one snapshot). So an attempt is counted exactly once either way.
 *   On a standalone MongoDB (no transactions) the check and the write follow each other: an attempt that
 *   finishes between them could be counted twice or not at all until the next rebuild.
 */
import { Types, type ClientSession } from 'mongoose';
import type { AnyBulkWriteOperation, Document } from 'mongodb';
import { inTransaction } from '../../shared/transactions';
import { Attempt } from './attempt.model';
import { DecisionTally, DecisionTallyBuild } from './decision-tally.model';

/** Content ids are lowercase-kebab (content.schemas.ts): safe as field names (no dots, no `$`, no `__proto__`). */
const CONTENT_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const FINISHED = ['passed', 'failed'];
const BATCH = 200;

export type TallyFigures = { attempts: number; counts: Map<string, number> };
export type TallyScope = Readonly<{ district: string | Types.ObjectId; moduleSlug: string; moduleVersion: number }>;
type StoredDecision = { scenarioId?: unknown; nodeId?: unknown; choiceId?: unknown };
/** What tallyFinishedAttempt needs of the finished attempt (as stored). */
export type FinishedAttempt = Readonly<{
  district: Types.ObjectId | string;
  school?: Types.ObjectId | string | null;
  moduleSlug: string;
  moduleVersion: number;
  decisions?: readonly StoredDecision[] | null;
}>;

/** The key of one answer at one decision point in TallyFigures.counts. */
export const decisionKey = (scenarioId: string, nodeId: string, choiceId: string): string => `${scenarioId}\u0000${nodeId}\u0000${choiceId}`;

function keysOf(decisions: readonly StoredDecision[] | null | undefined): string[] {
  const keys: string[] = [];
  for (const d of decisions ?? []) {
    const ids = [d.scenarioId, d.nodeId, d.choiceId];
    // Only what the player could have stored: anything else is not a decision point the page could show.
    if (ids.every((id) => typeof id === 'string' && CONTENT_ID.test(id))) keys.push(decisionKey(...(ids as [string, string, string])));
  }
  return keys;
}

const oid = (id: string | Types.ObjectId) => new Types.ObjectId(String(id));
const schoolKey = (school: unknown): string => (school ? String(school) : '');
const schoolOf = (key: string): Types.ObjectId | null => (key ? new Types.ObjectId(key) : null);
const baseOf = (scope: TallyScope) => ({ district: oid(scope.district), moduleSlug: scope.moduleSlug, moduleVersion: scope.moduleVersion });
const filterOf = (scope: TallyScope, school: Types.ObjectId | null) => ({ ...baseOf(scope), school });

/**
 * Counts one finished attempt into its school's tally, in the caller's transaction (the one that finishes it).
 * The school is the attempt's own (`school` as stored, the learner's first school when it started): the one
 * whose page counts it.
 */
export async function tallyFinishedAttempt(attempt: FinishedAttempt, session: ClientSession | undefined): Promise<void> {
  const inc: Record<string, number> = { attempts: 1, seq: 1 };
  for (const key of keysOf(attempt.decisions)) {
    const path = `counts.${key.split('\u0000').join('.')}`;
    inc[path] = (inc[path] ?? 0) + 1;
  }
  const now = new Date();
  await DecisionTally.collection.updateOne(
    filterOf({ district: attempt.district, moduleSlug: attempt.moduleSlug, moduleVersion: attempt.moduleVersion }, attempt.school ? oid(attempt.school) : null),
    { $inc: inc, $set: { updatedAt: now }, $setOnInsert: { createdAt: now } },
    { upsert: true, session },
  );
}

/**
 * Counts the decisions of the finished attempts `match` selects, per school (key: school id, '' for none) —
 * one pass of a driver cursor with a projection of three short strings per decision.
 */
export async function scanFinishedDecisions(match: Record<string, unknown>, session?: ClientSession): Promise<Map<string, TallyFigures>> {
  const bySchool = new Map<string, TallyFigures>();
  const cursor = Attempt.collection.find(
    { ...match, status: { $in: FINISHED } },
    { projection: { _id: 0, school: 1, 'decisions.scenarioId': 1, 'decisions.nodeId': 1, 'decisions.choiceId': 1 }, batchSize: 1_000, session },
  );
  try {
    for await (const doc of cursor) {
      const key = schoolKey(doc.school);
      let figures = bySchool.get(key);
      if (!figures) bySchool.set(key, (figures = { attempts: 0, counts: new Map() }));
      figures.attempts += 1;
      for (const k of keysOf(doc.decisions as StoredDecision[] | undefined)) figures.counts.set(k, (figures.counts.get(k) ?? 0) + 1);
    }
  } finally {
    await cursor.close();
  }
  return bySchool;
}

/** TallyFigures as stored: counts nested scenario → node → choice (own properties only, built without prototypes in the way). */
function storedCounts(counts: Map<string, number>): Record<string, unknown> {
  const nested = new Map<string, Map<string, Map<string, number>>>();
  for (const [key, n] of counts) {
    const [s, node, c] = key.split('\u0000');
    let scenario = nested.get(s);
    if (!scenario) nested.set(s, (scenario = new Map()));
    let choices = scenario.get(node);
    if (!choices) scenario.set(node, (choices = new Map()));
    choices.set(c, n);
  }
  return Object.fromEntries([...nested].map(([s, nodes]) => [s, Object.fromEntries([...nodes].map(([node, choices]) => [node, Object.fromEntries(choices)]))]));
}

function addStoredCounts(into: Map<string, number>, counts: unknown): void {
  if (!counts || typeof counts !== 'object') return;
  for (const [s, nodes] of Object.entries(counts)) {
    if (!CONTENT_ID.test(s) || !nodes || typeof nodes !== 'object') continue;
    for (const [node, choices] of Object.entries(nodes as object)) {
      if (!CONTENT_ID.test(node) || !choices || typeof choices !== 'object') continue;
      for (const [c, n] of Object.entries(choices as object)) {
        if (CONTENT_ID.test(c) && typeof n === 'number') into.set(decisionKey(s, node, c), (into.get(decisionKey(s, node, c)) ?? 0) + n);
      }
    }
  }
}

/** The write that makes a school's tally say `figures` (zero when none), keeping its `seq`. */
function setFigures(scope: TallyScope, key: string, figures: TallyFigures | undefined): AnyBulkWriteOperation<Document> {
  const now = new Date();
  return {
    updateOne: {
      filter: filterOf(scope, schoolOf(key)),
      update: { $set: { attempts: figures?.attempts ?? 0, counts: storedCounts(figures?.counts ?? new Map()), updatedAt: now }, $setOnInsert: { seq: 0, createdAt: now } },
      upsert: true,
    },
  };
}

async function seqsOf(scope: TallyScope, schools: (Types.ObjectId | null)[] | null, session?: ClientSession): Promise<Map<string, number>> {
  const docs = await DecisionTally.collection.find({ ...baseOf(scope), ...(schools ? { school: { $in: schools } } : {}) }, { projection: { _id: 0, school: 1, seq: 1 }, session }).toArray();
  return new Map(docs.map((d) => [schoolKey(d.school), Number(d.seq)]));
}

/** One school's tally recounted inside one transaction: its attempts and its document read in one snapshot. */
async function rebuildSchool(scope: TallyScope, key: string): Promise<void> {
  const school = schoolOf(key);
  const work = () =>
    inTransaction(async (session) => {
      const figures = (await scanFinishedDecisions({ ...baseOf(scope), school }, session)).get(key);
      await DecisionTally.collection.bulkWrite([setFigures(scope, key, figures)], { session });
    });
  try {
    await work();
  } catch (err) {
    // Two first writes of a school's document (an attempt finishing there and this one) on a MongoDB that answers
    // the second with a duplicate key: the document exists now, so the second try updates it.
    if ((err as { code?: unknown }).code !== 11000) throw err;
    await work();
  }
}

export type RebuildResult = { attempts: number; schools: number; recountedInTransaction: number };

/**
 * Recounts a district's tallies of one module version from its finished attempts (idempotent; safe while
 * attempts finish, see the top of this file), then marks them built.
 */
export async function rebuildDecisionTallies(scope: TallyScope, options: { afterScan?: () => Promise<void> } = {}): Promise<RebuildResult> {
  const before = await seqsOf(scope, null);
  const scanned = await scanFinishedDecisions(baseOf(scope));
  // Tests: finish attempts exactly between the scan and the write, the race this function must survive.
  await options.afterScan?.();
  const keys = [...new Set([...before.keys(), ...scanned.keys()])];
  const moved: string[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    moved.push(
      ...(await inTransaction(async (session) => {
        const now = await seqsOf(scope, batch.map(schoolOf), session);
        const changed = batch.filter((key) => now.get(key) !== before.get(key));
        const ops = batch.filter((key) => !changed.includes(key)).map((key) => setFigures(scope, key, scanned.get(key)));
        if (ops.length) await DecisionTally.collection.bulkWrite(ops, { session, ordered: true });
        return changed;
      })),
    );
  }
  for (const key of moved) await rebuildSchool(scope, key);
  await DecisionTallyBuild.updateOne(baseOf(scope), { $set: { builtAt: new Date() } }, { upsert: true });
  let attempts = 0;
  for (const figures of scanned.values()) attempts += figures.attempts;
  return { attempts, schools: keys.length, recountedInTransaction: moved.length };
}

export async function isDecisionTallyBuilt(scope: TallyScope): Promise<boolean> {
  return (await DecisionTallyBuild.exists(baseOf(scope))) !== null;
}

const building = new Map<string, Promise<RebuildResult>>();

/**
 * Builds a district's tallies of a version if they never were (one rebuild per process at a time; a second
 * caller waits for it). Normally done at start-up or by the seed that wrote the attempts.
 */
export async function ensureDecisionTallies(scope: TallyScope): Promise<void> {
  if (await isDecisionTallyBuilt(scope)) return;
  const key = `${String(scope.district)}|${scope.moduleSlug}|${scope.moduleVersion}`;
  let running = building.get(key);
  if (!running) {
    running = rebuildDecisionTallies(scope).finally(() => building.delete(key));
    building.set(key, running);
  }
  await running;
}

/**
 * The figures of a district's version: summed over its schools' documents (at most one per school), or over
 * the given schools' only (one school's page, a region). Counts are as stored: the caller looks up only the decision points of the content.
 */
export async function readDecisionTallies(scope: TallyScope, schools?: readonly string[]): Promise<TallyFigures> {
  const docs = await DecisionTally.collection
    .find({ ...baseOf(scope), ...(schools === undefined ? {} : { school: { $in: schools.map(oid) } }) }, { projection: { _id: 0, attempts: 1, counts: 1 } })
    .toArray();
  const figures: TallyFigures = { attempts: 0, counts: new Map() };
  for (const doc of docs) {
    figures.attempts += Number(doc.attempts) || 0;
    addStoredCounts(figures.counts, doc.counts);
  }
  return figures;
}

/** Whoever deletes a district's attempts in bulk (the large seed re-run) deletes its tallies with them. */
export async function deleteDecisionTallies(district: string | Types.ObjectId): Promise<void> {
  await Promise.all([DecisionTally.deleteMany({ district: oid(district) }), DecisionTallyBuild.deleteMany({ district: oid(district) })]);
}
