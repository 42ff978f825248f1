/**
 * Read side of compliance for pages and exports. Callers (reports, training) decide scope from the
 * Actor first; every query here still carries the district so a wrong id can never cross districts.
 */
import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { Attempt, Completion } from '../completions';
import { District } from '../districts';
import { User } from '../users';
import { Assignment, type AssignmentRecord } from './assignment.model';
import {
  addCounts,
  appliesTo,
  deriveState,
  emptyCounts,
  statusAt,
  statusFilter,
  type ComplianceState,
  type ComplianceStatus,
  type RecurrenceRule,
  type StatusCounts,
} from './compliance-status';
import { countsAt, type Tally } from './compliance-tally';
import { ComplianceRow } from './compliance-row.model';
import { ComplianceSummary } from './compliance-summary.model';
import { personOf, rulesOf } from './compliance.sync';

export type RowFilter = { moduleSlug?: string; status?: ComplianceStatus; jobTitle?: string };

/** One (person, assignment) as stored: the person snapshot and the dated facts. */
export type ComplianceRowDoc = {
  _id: Types.ObjectId;
  user: Types.ObjectId;
  assignment: Types.ObjectId;
  moduleSlug: string;
  minVersion: number;
  schools: Types.ObjectId[];
  primarySchool: Types.ObjectId | null;
  name: string;
  email: string;
  employeeId?: string;
  role: string;
  jobTitle?: string;
  completion: ComplianceState['completion'];
} & Pick<ComplianceState, 'dueDate' | 'dueAt' | 'hasSatisfying' | 'satisfiedUntil' | 'isOutdated' | 'isInProgress'>;

// Rows are read whole: they hold only what pages and exports show, and a projection costs more than it
// saves on the embedded server (mingo projects document by document; see docs/compliance.md).

function rowQuery(base: Record<string, unknown>, filter: RowFilter, now: Date): Record<string, unknown> {
  const query: Record<string, unknown> = { ...base };
  if (filter.moduleSlug) query.moduleSlug = filter.moduleSlug;
  if (filter.jobTitle) query.jobTitle = filter.jobTitle;
  if (filter.status) Object.assign(query, statusFilter(filter.status, now));
  return query;
}

/** Every row of one school's people (index { schools, name }): a school is at most a few thousand rows. */
export async function findSchoolRows(districtId: string, schoolId: string, filter: Omit<RowFilter, 'status'>): Promise<ComplianceRowDoc[]> {
  const query = rowQuery({ schools: new Types.ObjectId(schoolId), district: new Types.ObjectId(districtId) }, filter, new Date());
  return (await ComplianceRow.find(query).lean()) as ComplianceRowDoc[];
}

/** The rows of one person (their record page). */
export async function findPersonRows(districtId: string, userId: string): Promise<ComplianceRowDoc[]> {
  return (await ComplianceRow.find({ user: new Types.ObjectId(userId), district: new Types.ObjectId(districtId) }).lean()) as ComplianceRowDoc[];
}

/** The query an export streams: filter, sort and cursor batch size (the benchmark scans the same one as its floor). */
export type ExportRowQuery = { collection: string; filter: Record<string, unknown>; sort: Record<string, 1 | -1>; batchSize: number };

/**
 * Rows per cursor batch. Small on purpose, and the next batch is prefetched while this one is
 * formatted (streamRowBatches), so the extra round trips cost nothing. A batch's decoded rows and cells
 * must die young: rows alive across two young-generation collections are promoted to the old
 * generation, which V8 collects only when it reaches its growth limit, so big batches made the heap
 * grow with the row count until that limit. Measured at 74,000 staff on the same run (wall time ÷ floor,
 * heap peak growth): 1,000-row batches 1.40×, +156 MB (and 1,000-row batches handed over 250 at a time
 * were no better); 250-row batches 1.14×, +70 MB. The raw driver scan alone grows the heap ~26 MB.
 */
export const EXPORT_BATCH_SIZE = 250;

/** An export's people: the district's, one school's, or those of a group of schools (a region: anyone at one of them). */
export type RowScope = { districtId: string; schoolId?: string; schoolIds?: readonly string[] };

export function exportRowQuery(scope: RowScope, filter: RowFilter, now: Date): ExportRowQuery {
  const base: Record<string, unknown> = { district: new Types.ObjectId(scope.districtId) };
  if (scope.schoolId) base.schools = new Types.ObjectId(scope.schoolId);
  else if (scope.schoolIds) base.schools = { $in: scope.schoolIds.map((id) => new Types.ObjectId(id)) };
  // Name order (user id breaks ties): district-wide this is the order of index { district, name, user },
  // so the server walks the index with no sort stage and no up-front list of candidates.
  return { collection: ComplianceRow.collection.collectionName, filter: rowQuery(base, filter, now), sort: { name: 1, user: 1 }, batchSize: EXPORT_BATCH_SIZE };
}

/**
 * Streams rows for an export straight from a native driver cursor, one batch (array) at a time: no
 * mongoose documents, no per-row promise. The next batch is requested as soon as the current one is
 * handed over, so the database reads it while the caller formats this one (never more than two batches
 * in memory). District-wide: index { district, name, user }; one school: index { schools, name }.
 */
export async function* streamRowBatches(scope: RowScope, filter: RowFilter, now: Date, batchSize?: number): AsyncGenerator<ComplianceRowDoc[]> {
  const q = exportRowQuery(scope, filter, now);
  const cursor = ComplianceRow.collection.find(q.filter, { sort: q.sort, batchSize: batchSize ?? q.batchSize });
  let more: Promise<boolean> = cursor.hasNext();
  try {
    while (await more) {
      const batch = cursor.readBufferedDocuments() as ComplianceRowDoc[];
      more = cursor.hasNext();
      more.catch(() => undefined); // observed below, or dropped when the consumer stops early
      // Let the getMore reach the socket before the caller starts formatting (a tick, not a timer).
      await new Promise<void>((resolve) => setImmediate(resolve));
      yield batch;
    }
  } finally {
    await more.catch(() => false);
    await cursor.close();
  }
}

/** The same rows one at a time (the PDF summary with a job-title filter counts them). */
export async function* streamRows(scope: RowScope, filter: RowFilter, now: Date): AsyncGenerator<ComplianceRowDoc> {
  for await (const batch of streamRowBatches(scope, filter, now)) yield* batch;
}

export type SchoolCounts = {
  all: StatusCounts;
  primary: StatusCounts;
  /** People at the school (the largest single assignment's audience there: a lower bound, used for small-group suppression). */
  people: number;
  /** The same for people whose first school this is (each person once: region rollups add these). */
  primaryPeople: number;
};

/**
 * Status counts per school from the summaries: about (schools × assignments) small documents, read
 * through index { district, assignment, school } — never the rows. `all` counts everyone at the school;
 * `primary` counts each person once (district totals add these).
 */
export async function countsBySchool(districtId: string, filter: { moduleSlug?: string; schoolId?: string }, now: Date): Promise<Map<string, SchoolCounts>> {
  const query: Record<string, unknown> = { district: new Types.ObjectId(districtId) };
  if (filter.moduleSlug) {
    const ids = await Assignment.find({ district: districtId, status: 'active', moduleSlug: filter.moduleSlug }, { _id: 1 }).lean();
    query.assignment = { $in: ids.map((a) => a._id) };
    if (ids.length === 0) return new Map();
  }
  if (filter.schoolId) query.school = new Types.ObjectId(filter.schoolId);
  const summaries = await ComplianceSummary.find(query).lean();
  const bySchool = new Map<string, SchoolCounts>();
  for (const s of summaries) {
    const key = String(s.school);
    const entry = bySchool.get(key) ?? { all: emptyCounts(), primary: emptyCounts(), people: 0, primaryPeople: 0 };
    const primary = countsAt(s.primary as Tally, now);
    const secondary = countsAt(s.secondary as Tally, now);
    addCounts(entry.primary, primary);
    addCounts(addCounts(entry.all, primary), secondary);
    entry.people = Math.max(entry.people, primary.total + secondary.total);
    entry.primaryPeople = Math.max(entry.primaryPeople, primary.total);
    bySchool.set(key, entry);
  }
  return bySchool;
}

/**
 * Status counts per module: district-wide or for a group of schools (each person once) or for one school (everyone there),
 * from the summaries like countsBySchool.
 */
export async function countsByModule(districtId: string, filter: { schoolId?: string; schoolIds?: readonly string[] }, now: Date): Promise<Map<string, StatusCounts>> {
  const query: Record<string, unknown> = { district: new Types.ObjectId(districtId) };
  if (filter.schoolId) query.school = new Types.ObjectId(filter.schoolId);
  // A group of schools (a region): each person once, at their first school, as district-wide.
  else if (filter.schoolIds) query.school = { $in: filter.schoolIds.map((id) => new Types.ObjectId(id)) };
  const summaries = await ComplianceSummary.find(query).lean();
  const byModule = new Map<string, StatusCounts>();
  for (const s of summaries) {
    const entry = byModule.get(s.moduleSlug) ?? emptyCounts();
    addCounts(entry, countsAt(s.primary as Tally, now));
    if (filter.schoolId) addCounts(entry, countsAt(s.secondary as Tally, now));
    byModule.set(s.moduleSlug, entry);
  }
  return byModule;
}

export type MyAssignment = {
  assignmentId: string;
  moduleSlug: string;
  minVersion: number;
  dueDate: string;
  status: ComplianceStatus;
  recurrence: AssignmentRecord['recurrence']['kind'];
  /** The recurrence rule and the district's zone: how long a completion counts (validUntilFor). */
  recurrenceRule: RecurrenceRule;
  timeZone: string;
  satisfiedUntil: Date | null;
  completion: ComplianceState['completion'];
};

/**
 * The signed-in person's assignments, computed live from their own records with the same pure
 * function as everything else (a handful of indexed reads), so /training is exact even before a sync.
 */
export async function listMyAssignments(actor: Actor, now = new Date()): Promise<MyAssignment[]> {
  const [user, district, assignments] = await Promise.all([
    User.findOne({ _id: actor.userId, district: actor.districtId }).select('role jobTitle schools active startDate').lean(),
    District.findById(actor.districtId).select('timeZone').lean(),
    Assignment.find({ district: actor.districtId, status: 'active' }).lean() as Promise<AssignmentRecord[]>,
  ]);
  if (!user || !district) return [];
  const person = personOf(user);
  const mine = assignments.map((a) => ({ assignment: a, rules: rulesOf(a) })).filter((l) => appliesTo(l.rules, person));
  if (mine.length === 0) return [];
  const slugs = [...new Set(mine.map((m) => m.rules.moduleSlug))];
  const [completions, attempts] = await Promise.all([
    Completion.find({ user: actor.userId, moduleSlug: { $in: slugs } }).select('moduleSlug moduleVersion completedAt score method updatedFrom recertifiedAt certificateCode revokedAt').lean(),
    Attempt.find({ user: actor.userId, moduleSlug: { $in: slugs }, status: { $in: ['in_progress', 'failed'] } }).select('moduleSlug status').lean(),
  ]);
  return mine
    .map(({ assignment, rules }) => {
      const state = deriveState(
        rules,
        person,
        completions.filter((c) => c.moduleSlug === rules.moduleSlug),
        attempts.filter((a) => a.moduleSlug === rules.moduleSlug),
        district.timeZone,
      );
      return {
        assignmentId: String(assignment._id),
        moduleSlug: rules.moduleSlug,
        minVersion: rules.minVersion,
        dueDate: state.dueDate,
        status: statusAt(state, now),
        recurrence: assignment.recurrence.kind,
        recurrenceRule: rules.recurrence,
        timeZone: district.timeZone,
        satisfiedUntil: state.satisfiedUntil,
        completion: state.completion,
      };
    })
    .sort((a, b) => a.dueDate.localeCompare(b.dueDate));
}
