/**
 * Keeps compliance rows and per-school summaries current. Called when the facts change:
 *   - a completion or attempt is written (training)      → syncComplianceForUsers([user])
 *   - a person is created, edited, moved or deactivated   → syncComplianceForUsers(ids)
 *   - an assignment is created, edited or archived        → syncAssignment(id)
 *   - anything else, or to repair                         → rebuildDistrictCompliance(district)
 * Every path reads source records in batches (never a query per person) and recomputes the summaries
 * of the schools it touched from their rows, so summaries never drift from rows. Stale rows and
 * summaries are those a sync did not rewrite: their syncedAt/computedAt is older than the sync's start,
 * so two syncs overlapping on the same person never delete each other's fresh rows.
 */
import { Types, type AnyBulkWriteOperation } from 'mongoose';
import { Attempt, Completion } from '../completions';
import { District } from '../districts';
import { logger } from '../../shared/logger';
import { User } from '../users';
import { Assignment, type AssignmentRecord } from './assignment.model';
import { appliesTo, deriveState, type AssignmentRules, type AttemptFact, type CompletionFact, type PersonFacts } from './compliance-status';
import { TallyBuilder } from './compliance-tally';
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
    Completion.find({ user: { $in: userIds }, moduleSlug: { $in: slugs } })
      .select('user moduleSlug moduleVersion completedAt score certificateCode revokedAt')
      .lean(),
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

/** Writes the rows of one batch of people for the given assignments; returns the (school, assignment) pairs written. */
async function writeRowsForBatch(users: UserDoc[], loaded: Loaded[], timeZone: string): Promise<Set<string>> {
  const touched = new Set<string>();
  if (users.length === 0 || loaded.length === 0) return touched;
  const slugs = [...new Set(loaded.map((l) => l.rules.moduleSlug))];
  const { completionsOf, attemptsOf } = await loadFacts(users.map((u) => u._id), slugs);
  let ops: AnyBulkWriteOperation[] = [];
  for (const user of users) {
    const person = personOf(user);
    for (const { assignment, rules } of loaded) {
      if (!appliesTo(rules, person)) continue;
      const key = `${String(user._id)}:${rules.moduleSlug}`;
      const state = deriveState(rules, person, completionsOf.get(key) ?? [], attemptsOf.get(key) ?? [], timeZone);
      const schools = user.schools ?? [];
      for (const school of schools.length ? schools : [null]) touched.add(`${String(school)}:${String(assignment._id)}`);
      ops.push({
        updateOne: {
          filter: { user: user._id, assignment: assignment._id },
          update: {
            $set: {
              district: user.district,
              moduleSlug: rules.moduleSlug,
              minVersion: rules.minVersion,
              schools,
              primarySchool: schools[0] ?? null,
              name: user.name,
              email: user.email,
              employeeId: user.employeeId ?? undefined,
              role: user.role,
              jobTitle: user.jobTitle ?? undefined,
              ...state,
              syncedAt: new Date(),
            },
          },
          upsert: true,
        },
      });
      if (ops.length >= WRITE_BATCH) {
        await ComplianceRow.bulkWrite(ops, { ordered: false });
        ops = [];
      }
    }
  }
  if (ops.length) await ComplianceRow.bulkWrite(ops, { ordered: false });
  return touched;
}

/** Recomputes the summary of each (school, assignment) pair from its rows (a school's rows: one indexed query). */
async function recomputeSummaries(districtId: Types.ObjectId, pairs: Iterable<string>): Promise<void> {
  const slugOf = new Map<string, string>();
  for (const pair of pairs) {
    const [school, assignmentId] = pair.split(':');
    const assignment = new Types.ObjectId(assignmentId);
    const schoolId = school === 'null' ? null : new Types.ObjectId(school);
    const filter = schoolId ? { schools: schoolId, assignment } : { assignment, primarySchool: null };
    const rows = await ComplianceRow.find(filter).select('primarySchool moduleSlug dueAt hasSatisfying satisfiedUntil isOutdated isInProgress').lean();
    if (rows.length === 0) {
      await ComplianceSummary.deleteOne({ district: districtId, assignment, school: schoolId });
      continue;
    }
    const primary = new TallyBuilder();
    const secondary = new TallyBuilder();
    for (const row of rows) (String(row.primarySchool) === String(schoolId) ? primary : secondary).add(row as never);
    const moduleSlug = slugOf.get(assignmentId) ?? rows[0].moduleSlug;
    slugOf.set(assignmentId, moduleSlug);
    await ComplianceSummary.updateOne(
      { district: districtId, assignment, school: schoolId },
      { $set: { moduleSlug, primary: primary.build(), secondary: secondary.build(), computedAt: new Date() } },
      { upsert: true },
    );
  }
}

/** Rewrites every summary of the given assignments by streaming their rows once (memory: one tally per school). */
async function rebuildSummariesOf(districtId: Types.ObjectId, assignments: Types.ObjectId[], startedAt: Date): Promise<void> {
  for (const assignment of assignments) {
    const bySchool = new Map<string, { primary: TallyBuilder; secondary: TallyBuilder; moduleSlug: string }>();
    const cursor = ComplianceRow.find({ assignment })
      .select('schools primarySchool moduleSlug dueAt hasSatisfying satisfiedUntil isOutdated isInProgress')
      .lean()
      .cursor({ batchSize: 5000 });
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
    const computedAt = new Date();
    const ops: AnyBulkWriteOperation[] = [...bySchool.entries()].map(([school, entry]) => ({
      updateOne: {
        filter: { district: districtId, assignment, school: school === 'null' ? null : new Types.ObjectId(school) },
        update: { $set: { moduleSlug: entry.moduleSlug, primary: entry.primary.build(), secondary: entry.secondary.build(), computedAt } },
        upsert: true,
      },
    }));
    for (let i = 0; i < ops.length; i += WRITE_BATCH) await ComplianceSummary.bulkWrite(ops.slice(i, i + WRITE_BATCH), { ordered: false });
    await ComplianceSummary.deleteMany({ district: districtId, assignment, computedAt: { $lt: startedAt } });
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
    const startedAt = new Date();
    const [loaded, timeZone] = await Promise.all([loadActiveAssignments(districtId), timeZoneOf(districtId)]);
    const memberIds = members.map((m) => m._id);
    const before = await ComplianceRow.find({ user: { $in: memberIds } }).select('schools assignment').lean();
    const touched = new Set<string>();
    for (const row of before) {
      for (const school of row.schools?.length ? row.schools : [null]) touched.add(`${String(school)}:${String(row.assignment)}`);
    }
    for (let i = 0; i < members.length; i += USER_BATCH) {
      for (const pair of await writeRowsForBatch(members.slice(i, i + USER_BATCH), loaded, timeZone)) touched.add(pair);
    }
    await ComplianceRow.deleteMany({ user: { $in: memberIds }, syncedAt: { $lt: startedAt } });
    await recomputeSummaries(districtId, touched);
  }
  // People who no longer exist: drop their rows wherever they were.
  const missing = ids.filter((id) => !users.some((u) => u._id.equals(id)));
  if (missing.length) {
    const stale = await ComplianceRow.find({ user: { $in: missing } }).select('district schools assignment').lean();
    await ComplianceRow.deleteMany({ user: { $in: missing } });
    for (const row of stale) {
      const pairs = (row.schools?.length ? row.schools : [null]).map((s) => `${String(s)}:${String(row.assignment)}`);
      await recomputeSummaries(row.district, pairs);
    }
  }
}

/** Streams the district's people in batches and rewrites the rows of the given assignments. */
async function syncRowsOfAssignments(districtId: Types.ObjectId, loaded: Loaded[]): Promise<void> {
  const timeZone = await timeZoneOf(districtId);
  const cursor = User.find({ district: districtId, active: true }).select(USER_FIELDS).lean().cursor({ batchSize: USER_BATCH });
  let batch: UserDoc[] = [];
  for await (const user of cursor) {
    batch.push(user as UserDoc);
    if (batch.length >= USER_BATCH) {
      await writeRowsForBatch(batch, loaded, timeZone);
      batch = [];
    }
  }
  await writeRowsForBatch(batch, loaded, timeZone);
}

/** After an assignment is created, edited or archived: its rows and summaries, rebuilt (archived: removed). */
export async function syncAssignment(assignmentId: string | Types.ObjectId): Promise<void> {
  const assignment = (await Assignment.findById(assignmentId).lean()) as AssignmentRecord | null;
  if (!assignment) return;
  const startedAt = new Date();
  if (assignment.status === 'active') await syncRowsOfAssignments(assignment.district, [{ assignment, rules: rulesOf(assignment) }]);
  await ComplianceRow.deleteMany({ assignment: assignment._id, syncedAt: { $lt: startedAt } });
  await rebuildSummariesOf(assignment.district, [assignment._id], startedAt);
}

/** Rebuilds every row and summary of a district from the source records (repair, seeds, after bulk imports). */
export async function rebuildDistrictCompliance(districtId: string | Types.ObjectId): Promise<{ rows: number }> {
  const id = new Types.ObjectId(String(districtId));
  const startedAt = new Date();
  const loaded = await loadActiveAssignments(id);
  if (loaded.length) await syncRowsOfAssignments(id, loaded);
  await ComplianceRow.deleteMany({ district: id, syncedAt: { $lt: startedAt } });
  await rebuildSummariesOf(id, loaded.map((l) => l.assignment._id), startedAt);
  await ComplianceSummary.deleteMany({ district: id, computedAt: { $lt: startedAt } });
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
