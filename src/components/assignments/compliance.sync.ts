/**
 * Keeps compliance rows and per-school summaries current. Called when the facts change:
 *   - a completion or attempt is written (training)      → syncComplianceForUsers([user])
 *   - a person is created, edited, moved or deactivated   → syncComplianceForUsers(ids)
 *   - an assignment is created, edited or archived        → syncAssignment(id)            (a background job)
 *   - anything else, or to repair                         → rebuildDistrictCompliance(district) (a job, or seeds)
 * Every path reads source records in batches (never a query per person) and recomputes the summaries
 * of the schools it touched from their rows, so summaries never drift from rows. Writes are diffs:
 * a row or summary that would not change is not rewritten, so a repair rebuild is mostly reads.
 */
import { Types, type AnyBulkWriteOperation } from 'mongoose';
import { Attempt, Completion } from '../completions';
import { District } from '../districts';
import { logger } from '../../shared/logger';
import { User } from '../users';
import { Assignment, type AssignmentRecord } from './assignment.model';
import { appliesTo, deriveState, schoolsWhereApplies, type AssignmentRules, type AttemptFact, type CompletionFact, type PersonFacts } from './compliance-status';
import { TallyBuilder, type Tally } from './compliance-tally';
import { ComplianceRow } from './compliance-row.model';
import { ComplianceSummary } from './compliance-summary.model';

const USER_BATCH = 1000;
const WRITE_BATCH = 2000;

export function rulesOf(assignment: Pick<AssignmentRecord, 'moduleSlug' | 'audience' | 'due' | 'recurrence' | 'minVersion' | 'createdAt'>): AssignmentRules {
  const due = assignment.due.kind === 'fixed' ? { kind: 'fixed' as const, date: assignment.due.date ?? '' } : { kind: 'relative' as const, days: assignment.due.days ?? 0 };
  const recurrence =
    assignment.recurrence.kind === 'school_year'
      ? { kind: 'school_year' as const, cycleEnd: assignment.recurrence.cycleEnd ?? '06-30' }
      : { kind: assignment.recurrence.kind as 'none' | 'annual' };
  return {
    moduleSlug: assignment.moduleSlug,
    audience: {
      roles: assignment.audience?.roles ?? [],
      jobTitles: assignment.audience?.jobTitles ?? [],
      schools: (assignment.audience?.schools ?? []).map(String),
    },
    due,
    recurrence,
    minVersion: assignment.minVersion,
    createdAt: assignment.createdAt,
  };
}

type UserDoc = {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  name: string;
  email: string;
  employeeId?: string | null;
  role: string;
  jobTitle?: string | null;
  schools?: Types.ObjectId[];
  active?: boolean | null;
  startDate?: Date | null;
};

const USER_FIELDS = 'district name email employeeId role jobTitle schools active startDate';

export function personOf(user: Pick<UserDoc, 'role' | 'jobTitle' | 'schools' | 'active' | 'startDate'>): PersonFacts {
  return { role: user.role, jobTitle: user.jobTitle, schools: (user.schools ?? []).map(String), active: user.active !== false, startDate: user.startDate };
}

type Loaded = { assignment: AssignmentRecord; rules: AssignmentRules };

async function loadActiveAssignments(districtId: Types.ObjectId, only?: Types.ObjectId[]): Promise<Loaded[]> {
  const filter: Record<string, unknown> = { district: districtId, status: 'active' };
  if (only) filter._id = { $in: only };
  const assignments = (await Assignment.find(filter).lean()) as AssignmentRecord[];
  return assignments.map((assignment) => ({ assignment, rules: rulesOf(assignment) }));
}

/** Completions and open/failed attempts of a batch of people for the given modules: two queries per batch. */
async function loadFacts(userIds: Types.ObjectId[], slugs: string[]) {
  const [completions, attempts] = await Promise.all([
    // Whole documents (small): cheaper than a projection on the embedded server.
    Completion.find({ user: { $in: userIds }, moduleSlug: { $in: slugs } }).lean(),
    Attempt.find({ user: { $in: userIds }, moduleSlug: { $in: slugs }, status: { $in: ['in_progress', 'failed'] } })
      .select('user moduleSlug status')
      .lean(),
  ]);
  const completionsOf = new Map<string, CompletionFact[]>();
  for (const c of completions) {
    const key = `${String(c.user)}:${c.moduleSlug}`;
    const list = completionsOf.get(key) ?? [];
    list.push(c as CompletionFact);
    completionsOf.set(key, list);
  }
  const attemptsOf = new Map<string, AttemptFact[]>();
  for (const a of attempts) {
    const key = `${String(a.user)}:${a.moduleSlug}`;
    const list = attemptsOf.get(key) ?? [];
    list.push({ status: a.status });
    attemptsOf.set(key, list);
  }
  return { completionsOf, attemptsOf };
}

type RowDoc = Record<string, unknown> & { _id?: Types.ObjectId; user: Types.ObjectId; assignment: Types.ObjectId; schools: Types.ObjectId[] };

const time = (d: unknown) => (d instanceof Date ? d.getTime() : null);

/** What a row says, ignoring _id and syncedAt: rows whose signature did not change are not rewritten. */
function rowSignature(r: Record<string, unknown>): string {
  const c = r.completion as { moduleVersion: number; completedAt: Date; score?: number | null; method?: string | null; updatedFrom?: number | null; certificateCode?: string | null } | null | undefined;
  return JSON.stringify([
    String(r.district), r.moduleSlug, r.minVersion, (r.schools as unknown[]).map(String), String(r.primarySchool ?? null),
    r.name, r.email, r.employeeId ?? null, r.role, r.jobTitle ?? null,
    r.dueDate, time(r.dueAt), r.hasSatisfying, time(r.satisfiedUntil), r.isOutdated, r.isInProgress,
    c ? [c.moduleVersion, time(c.completedAt), c.score ?? null, c.certificateCode ?? null, c.method ?? null, c.updatedFrom ?? null] : null,
  ]);
}

function pairsOf(row: { schools?: unknown[] | null; assignment: unknown }): string[] {
  const schools = row.schools?.length ? row.schools : [null];
  return schools.map((school) => `${String(school)}:${String(row.assignment)}`);
}

/**
 * Brings the rows of one batch of people in line with their records for the given assignments:
 * reads their current rows (one query), inserts new rows, replaces changed ones, deletes rows that
 * no longer apply, and leaves unchanged rows alone (a repair rebuild writes almost nothing).
 * Returns the (school, assignment) pairs whose summaries must be recomputed.
 * If a concurrent refresh inserted one of these rows first (a person finishing training while an
 * assignment job walks the district), the batch is read and diffed once more: the facts read then are
 * at least as recent as the other writer's, and its row is now found and replaced if it differs.
 */
async function writeRowsForBatch(users: UserDoc[], loaded: Loaded[], timeZone: string, isRetry = false): Promise<Set<string>> {
  const touched = new Set<string>();
  if (users.length === 0 || loaded.length === 0) return touched;
  const userIds = users.map((u) => u._id);
  const slugs = [...new Set(loaded.map((l) => l.rules.moduleSlug))];
  const [{ completionsOf, attemptsOf }, existing] = await Promise.all([
    loadFacts(userIds, slugs),
    // Index { user, assignment }.
    ComplianceRow.find({ user: { $in: userIds }, assignment: { $in: loaded.map((l) => l.assignment._id) } }).lean() as Promise<RowDoc[]>,
  ]);
  const current = new Map(existing.map((row) => [`${String(row.user)}:${String(row.assignment)}`, row]));
  const inserts: RowDoc[] = [];
  const replaces: AnyBulkWriteOperation[] = [];
  const now = new Date();
  for (const user of users) {
    const person = personOf(user);
    for (const { assignment, rules } of loaded) {
      if (!appliesTo(rules, person)) continue;
      const facts = `${String(user._id)}:${rules.moduleSlug}`;
      const state = deriveState(rules, person, completionsOf.get(facts) ?? [], attemptsOf.get(facts) ?? [], timeZone);
      // Only where the assignment applies: one for Roosevelt's front desk is not on Lincoln's page for someone at both.
      const schools = schoolsWhereApplies(rules, user.schools ?? []);
      const doc: RowDoc = {
        district: user.district,
        assignment: assignment._id,
        moduleSlug: rules.moduleSlug,
        minVersion: rules.minVersion,
        user: user._id,
        schools,
        primarySchool: schools[0] ?? null,
        name: user.name,
        email: user.email,
        employeeId: user.employeeId ?? undefined,
        role: user.role,
        jobTitle: user.jobTitle ?? undefined,
        ...state,
        syncedAt: now,
      };
      const key = `${String(user._id)}:${String(assignment._id)}`;
      const before = current.get(key);
      current.delete(key);
      if (before && rowSignature(before) === rowSignature(doc)) continue;
      for (const pair of pairsOf(doc)) touched.add(pair);
      if (before) {
        for (const pair of pairsOf(before)) touched.add(pair);
        replaces.push({ replaceOne: { filter: { _id: before._id }, replacement: doc } });
      } else {
        inserts.push(doc);
      }
    }
  }
  // What is left in `current` no longer applies (inactive, moved out of the audience).
  const stale = [...current.values()];
  for (const row of stale) for (const pair of pairsOf(row)) touched.add(pair);
  try {
    for (let i = 0; i < inserts.length; i += WRITE_BATCH) await ComplianceRow.insertMany(inserts.slice(i, i + WRITE_BATCH), { ordered: false, lean: true });
  } catch (err) {
    if (isRetry || !onlyDuplicateKeys(err)) throw err;
    for (const pair of await writeRowsForBatch(users, loaded, timeZone, true)) touched.add(pair);
    return touched;
  }
  for (let i = 0; i < replaces.length; i += WRITE_BATCH) await ComplianceRow.bulkWrite(replaces.slice(i, i + WRITE_BATCH), { ordered: false });
  if (stale.length) await ComplianceRow.deleteMany({ _id: { $in: stale.map((row) => row._id) } });
  return touched;
}

const SUMMARY_CAS_TRIES = 20;

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === 11000;
}

/** An unordered bulk insert whose only failures are duplicate keys. */
function onlyDuplicateKeys(err: unknown): boolean {
  const errors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] } | null)?.writeErrors;
  return isDuplicateKey(err) || Boolean(errors?.length && errors.every((e) => (e.code ?? e.err?.code) === 11000));
}

/**
 * Recomputes the summary of one (school, assignment) pair from its rows and stores it only if no one
 * else wrote that summary in between — a compare-and-set on `rev`, a fresh ObjectId on every write
 * (never reused, so a summary deleted and re-created cannot be mistaken for the one read: no ABA).
 * On a lost race it reads the rows again and retries. Why this is enough: every writer recomputes
 * *after* its own row changes; when its compare-and-set succeeds, nobody stored a summary between its
 * read of `rev` and its write, and any row change it did not see belongs to a writer that will itself
 * recompute later and either succeed (writing a summary that includes both) or lose to someone who
 * read later still. So the last successful write always reflects every finished row change, whatever
 * the interleaving or the number of app processes. (A plain "read rows, $set summary" let a slow
 * writer overwrite a newer summary with one computed before another person's change.)
 */
async function recomputeSummary(districtId: Types.ObjectId, schoolId: Types.ObjectId | null, assignment: Types.ObjectId): Promise<void> {
  const key = { district: districtId, assignment, school: schoolId };
  const rowFilter = schoolId ? { schools: schoolId, assignment } : { assignment, primarySchool: null };
  for (let attempt = 0; attempt < SUMMARY_CAS_TRIES; attempt++) {
    // `rev` first, then the rows: a row change after this read is followed by its writer's own recompute.
    const before = (await ComplianceSummary.findOne(key).select('rev').lean()) as { _id: Types.ObjectId; rev?: Types.ObjectId | null } | null;
    const rows = await ComplianceRow.find(rowFilter).lean();
    if (rows.length === 0) {
      if (!before) return;
      const { deletedCount } = await ComplianceSummary.deleteOne({ _id: before._id, rev: before.rev ?? null });
      if (deletedCount === 1) return;
      continue;
    }
    const primary = new TallyBuilder();
    const secondary = new TallyBuilder();
    for (const row of rows) (String(row.primarySchool) === String(schoolId) ? primary : secondary).add(row as never);
    const fields = { moduleSlug: rows[0].moduleSlug, primary: primary.build(), secondary: secondary.build(), computedAt: new Date(), rev: new Types.ObjectId() };
    if (before) {
      const { matchedCount } = await ComplianceSummary.updateOne({ _id: before._id, rev: before.rev ?? null }, { $set: fields });
      if (matchedCount === 1) return;
    } else {
      try {
        await ComplianceSummary.collection.insertOne({ ...key, ...fields });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // someone else created it first: read it and retry
      }
    }
  }
  // Only under sustained contention on one school; every competing writer keeps trying, and the rebuild repairs.
  logger.warn({ school: String(schoolId), assignment: String(assignment) }, 'compliance summary still contended after retries; left to the concurrent writers');
}

/** Recomputes the summary of each (school, assignment) pair from its rows (a school's rows: one indexed query each). */
async function recomputeSummaries(districtId: Types.ObjectId, pairs: Iterable<string>): Promise<void> {
  for (const pair of pairs) {
    const [school, assignmentId] = pair.split(':');
    await recomputeSummary(districtId, school === 'null' ? null : new Types.ObjectId(school), new Types.ObjectId(assignmentId));
  }
}

type SummaryDoc = { _id: Types.ObjectId; school: Types.ObjectId | null; moduleSlug: string; primary: Tally; secondary: Tally; rev?: Types.ObjectId | null };

/**
 * Rebuilds every summary of the given assignments by streaming their rows once (memory: one tally per
 * school), writing only the summaries whose tallies changed. Same compare-and-set as recomputeSummary:
 * the summaries (and their `rev`) are read before the rows, and each write or delete applies only if
 * that summary was not rewritten meanwhile — if it was, an event wrote it from rows read after ours,
 * so it is the newer one and is kept. A summary created meanwhile is kept for the same reason.
 */
async function rebuildSummariesOf(districtId: Types.ObjectId, assignments: Types.ObjectId[]): Promise<void> {
  for (const assignment of assignments) {
    const existing = (await ComplianceSummary.find({ district: districtId, assignment }).lean()) as unknown as SummaryDoc[];
    const bySchool = new Map<string, { primary: TallyBuilder; secondary: TallyBuilder; moduleSlug: string }>();
    const cursor = ComplianceRow.find({ assignment }).lean().cursor({ batchSize: 5000 });
    for await (const row of cursor) {
      const schools = row.schools?.length ? row.schools.map(String) : ['null'];
      for (const school of schools) {
        let entry = bySchool.get(school);
        if (!entry) {
          entry = { primary: new TallyBuilder(), secondary: new TallyBuilder(), moduleSlug: row.moduleSlug };
          bySchool.set(school, entry);
        }
        (school === String(row.primarySchool) ? entry.primary : entry.secondary).add(row as never);
      }
    }
    const current = new Map(existing.map((s) => [String(s.school), s]));
    const computedAt = new Date();
    const inserts: Record<string, unknown>[] = [];
    const writes: AnyBulkWriteOperation[] = [];
    for (const [school, entry] of bySchool) {
      const doc = { district: districtId, assignment, school: school === 'null' ? null : new Types.ObjectId(school), moduleSlug: entry.moduleSlug, primary: entry.primary.build(), secondary: entry.secondary.build(), computedAt, rev: new Types.ObjectId() };
      const before = current.get(school);
      current.delete(school);
      if (!before) inserts.push(doc);
      else if (JSON.stringify([before.primary, before.secondary]) !== JSON.stringify([doc.primary, doc.secondary])) writes.push({ replaceOne: { filter: { _id: before._id, rev: before.rev ?? null }, replacement: doc } });
    }
    for (const stale of current.values()) writes.push({ deleteOne: { filter: { _id: stale._id, rev: stale.rev ?? null } } });
    for (let i = 0; i < inserts.length; i += WRITE_BATCH) {
      try {
        await ComplianceSummary.insertMany(inserts.slice(i, i + WRITE_BATCH), { ordered: false, lean: true });
      } catch (err) {
        // Created meanwhile by an event refresh (from rows read after ours): keep theirs.
        if (!onlyDuplicateKeys(err)) throw err;
      }
    }
    for (let i = 0; i < writes.length; i += WRITE_BATCH) await ComplianceSummary.bulkWrite(writes.slice(i, i + WRITE_BATCH), { ordered: false });
  }
}

async function timeZoneOf(districtId: Types.ObjectId): Promise<string> {
  const district = await District.findById(districtId).select('timeZone').lean();
  return district?.timeZone ?? 'America/Los_Angeles';
}

/**
 * Recomputes the rows of these people for every active assignment of their district (after a
 * completion, an attempt, or a roster change) and the summaries of every school they were or are in.
 */
export async function syncComplianceForUsers(userIds: readonly (string | Types.ObjectId)[]): Promise<void> {
  const ids = userIds.map((id) => new Types.ObjectId(String(id)));
  const users = (await User.find({ _id: { $in: ids } }).select(USER_FIELDS).lean()) as UserDoc[];
  const byDistrict = new Map<string, UserDoc[]>();
  for (const user of users) byDistrict.set(String(user.district), [...(byDistrict.get(String(user.district)) ?? []), user]);
  for (const [district, members] of byDistrict) {
    const districtId = new Types.ObjectId(district);
    const [loaded, timeZone] = await Promise.all([loadActiveAssignments(districtId), timeZoneOf(districtId)]);
    const touched = new Set<string>();
    for (let i = 0; i < members.length; i += USER_BATCH) {
      for (const pair of await writeRowsForBatch(members.slice(i, i + USER_BATCH), loaded, timeZone)) touched.add(pair);
    }
    await recomputeSummaries(districtId, touched);
  }
  // People who no longer exist: drop their rows wherever they were.
  const missing = ids.filter((id) => !users.some((u) => u._id.equals(id)));
  if (missing.length) {
    const stale = await ComplianceRow.find({ user: { $in: missing } }).select('district schools assignment').lean();
    await ComplianceRow.deleteMany({ user: { $in: missing } });
    for (const row of stale) await recomputeSummaries(row.district, pairsOf(row));
  }
}

/** Told after each batch of people is written: people processed so far, people in the district. May throw to stop the walk. */
export type SyncProgress = (done: number, total: number) => void | Promise<void>;

/**
 * Streams every person of the district (inactive ones too, so their rows are removed) in batches and
 * brings the rows of the given assignments in line. Returns the ids of the people seen.
 */
async function syncRowsOfAssignments(districtId: Types.ObjectId, loaded: Loaded[], onProgress?: SyncProgress): Promise<Set<string>> {
  const [timeZone, total] = await Promise.all([timeZoneOf(districtId), onProgress ? User.countDocuments({ district: districtId }) : 0]);
  const seen = new Set<string>();
  const written = async (batch: UserDoc[]) => {
    await writeRowsForBatch(batch, loaded, timeZone);
    // People added during the walk make `seen` outgrow the count read before it.
    await onProgress?.(seen.size, Math.max(total, seen.size));
  };
  // Index { district, active, name }.
  const cursor = User.find({ district: districtId }).select(USER_FIELDS).lean().cursor({ batchSize: USER_BATCH });
  let batch: UserDoc[] = [];
  for await (const user of cursor) {
    seen.add(String(user._id));
    batch.push(user as UserDoc);
    if (batch.length >= USER_BATCH) {
      await written(batch);
      batch = [];
    }
  }
  await written(batch);
  return seen;
}

/** After an assignment is created, edited or archived: its rows and summaries, brought up to date (archived: removed). */
export async function syncAssignment(assignmentId: string | Types.ObjectId, onProgress?: SyncProgress): Promise<void> {
  const assignment = (await Assignment.findById(assignmentId).lean()) as AssignmentRecord | null;
  if (!assignment) return;
  if (assignment.status === 'active') await syncRowsOfAssignments(assignment.district, [{ assignment, rules: rulesOf(assignment) }], onProgress);
  else await ComplianceRow.deleteMany({ assignment: assignment._id });
  await rebuildSummariesOf(assignment.district, [assignment._id]);
}

/** Rebuilds every row and summary of a district from the source records (repair, seeds, after bulk imports). */
export async function rebuildDistrictCompliance(districtId: string | Types.ObjectId, onProgress?: SyncProgress): Promise<{ rows: number }> {
  const id = new Types.ObjectId(String(districtId));
  const loaded = await loadActiveAssignments(id);
  const activeIds = loaded.map((l) => l.assignment._id);
  const seen = loaded.length ? await syncRowsOfAssignments(id, loaded, onProgress) : new Set<string>();
  // Rows of archived or deleted assignments, and of people no longer in the district.
  await ComplianceRow.deleteMany({ district: id, assignment: { $nin: activeIds } });
  const orphans = (await ComplianceRow.distinct('user', { district: id })).filter((user) => !seen.has(String(user)));
  if (orphans.length) await ComplianceRow.deleteMany({ district: id, user: { $in: orphans } });
  await rebuildSummariesOf(id, activeIds);
  await ComplianceSummary.deleteMany({ district: id, assignment: { $nin: activeIds } });
  return { rows: await ComplianceRow.countDocuments({ district: id }) };
}

/**
 * For event sources whose own write already succeeded (a completion, an attempt, a roster change):
 * a failed refresh must not fail the person's action, so it is logged; the district rebuild repairs it.
 */
export async function refreshComplianceQuietly(userIds: readonly (string | Types.ObjectId)[]): Promise<void> {
  try {
    await syncComplianceForUsers(userIds);
  } catch (err) {
    logger.error({ err, userIds: userIds.map(String) }, 'compliance refresh failed; run the compliance rebuild to repair');
  }
}
