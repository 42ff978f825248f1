import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { District } from '../districts';
import { School } from '../schools';
import { TrainingModule } from '../training';
import { Assignment, type AssignmentRecord } from './assignment.model';
import type { AssignmentCreateInput, AssignmentUpdateInput } from './assignments.schemas';
import { addCounts, emptyCounts, type DueRule, type RecurrenceRule, type StatusCounts } from './compliance-status';
import { countsAt, type Tally } from './compliance-tally';
import { ComplianceSummary } from './compliance-summary.model';
import { assignmentJobStatuses, rebuildJobStatus, type ComplianceJobStatus } from './compliance-job.status';
import { enqueueComplianceJob } from './compliance-jobs';

type Context = { requestId?: string };
/** jobId: the background job that brings the assignment's compliance rows up to date. */
type Outcome = { ok: true; id: string; jobId: string } | { ok: false; errors: FieldErrors };

export type ModuleOption = { slug: string; title: { en: string; es: string }; versions: number[]; latest: number };

export type AssignmentView = {
  id: string;
  moduleSlug: string;
  moduleTitle: { en: string; es: string };
  roles: string[];
  jobTitles: string[];
  schoolCodes: string[];
  due: DueRule;
  recurrence: RecurrenceRule;
  minVersion: number;
  latestVersion: number;
  status: 'active' | 'archived';
  createdAt: Date;
  archivedAt?: Date;
  counts: StatusCounts;
  /** Its compliance job: updating (queued/running), done or failed; null if it never had one. */
  job: ComplianceJobStatus | null;
};

export type AssignmentsPage = {
  assignments: AssignmentView[];
  /** The district rebuild's job ("Recalculate now"). */
  rebuild: ComplianceJobStatus | null;
  /** The district's time zone, for the jobs' times. */
  timeZone: string;
};

/** Published module versions (the TrainingModule records written at start), grouped by slug. */
export async function listModuleOptions(): Promise<ModuleOption[]> {
  // Index { slug, version }: a handful of records.
  const records = await TrainingModule.find({}, { slug: 1, version: 1, title: 1 }).sort({ slug: 1, version: 1 }).lean();
  const bySlug = new Map<string, ModuleOption>();
  for (const r of records) {
    const option: ModuleOption = bySlug.get(r.slug) ?? { slug: r.slug, title: { en: r.title?.en ?? r.slug, es: r.title?.es ?? r.slug }, versions: [], latest: r.version };
    option.versions.push(r.version);
    option.latest = r.version;
    option.title = { en: r.title?.en ?? r.slug, es: r.title?.es ?? r.slug };
    bySlug.set(r.slug, option);
  }
  return [...bySlug.values()];
}

function viewOf(a: AssignmentRecord, modules: Map<string, ModuleOption>, codeOf: Map<string, string>, counts: StatusCounts, job: ComplianceJobStatus | null): AssignmentView {
  const module = modules.get(a.moduleSlug);
  return {
    id: String(a._id),
    moduleSlug: a.moduleSlug,
    moduleTitle: module?.title ?? { en: a.moduleSlug, es: a.moduleSlug },
    roles: a.audience?.roles ?? [],
    jobTitles: a.audience?.jobTitles ?? [],
    schoolCodes: (a.audience?.schools ?? []).map((s) => codeOf.get(String(s)) ?? '?').sort(),
    due: a.due.kind === 'fixed' ? { kind: 'fixed', date: a.due.date ?? '' } : { kind: 'relative', days: a.due.days ?? 0 },
    recurrence: a.recurrence.kind === 'school_year' ? { kind: 'school_year', cycleEnd: a.recurrence.cycleEnd ?? '' } : { kind: a.recurrence.kind as 'none' | 'annual' },
    minVersion: a.minVersion,
    latestVersion: module?.latest ?? a.minVersion,
    status: a.status as 'active' | 'archived',
    createdAt: a.createdAt,
    archivedAt: a.archivedAt ?? undefined,
    counts,
    job,
  };
}

async function schoolCodes(actor: Actor, ids: Types.ObjectId[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const schools = await School.find({ district: actor.districtId, _id: { $in: ids } }, { code: 1 }).lean();
  return new Map(schools.map((s) => [String(s._id), s.code]));
}

/** District totals per assignment from the summaries (each person counted once, under their first school). */
async function totalsByAssignment(actor: Actor, ids: Types.ObjectId[], now: Date): Promise<Map<string, StatusCounts>> {
  const totals = new Map<string, StatusCounts>();
  if (ids.length === 0) return totals;
  const summaries = await ComplianceSummary.find({ district: actor.districtId, assignment: { $in: ids } }).lean();
  for (const s of summaries) {
    const key = String(s.assignment);
    totals.set(key, addCounts(totals.get(key) ?? emptyCounts(), countsAt(s.primary as Tally, now)));
  }
  return totals;
}

async function districtTimeZone(actor: Actor): Promise<string> {
  const district = await District.findById(actor.districtId, { timeZone: 1 }).lean();
  return district?.timeZone ?? 'America/Los_Angeles';
}

export async function listAssignments(actor: Actor, show: 'active' | 'archived', now = new Date()): Promise<AssignmentsPage> {
  const assignments = (await Assignment.find({ district: actor.districtId, status: show }).sort({ moduleSlug: 1, createdAt: 1 }).lean()) as AssignmentRecord[];
  const ids = assignments.map((a) => a._id);
  const [modules, codes, totals, jobs, rebuild, timeZone] = await Promise.all([
    listModuleOptions(),
    schoolCodes(actor, assignments.flatMap((a) => a.audience?.schools ?? [])),
    show === 'active' ? totalsByAssignment(actor, ids, now) : Promise.resolve(new Map<string, StatusCounts>()),
    assignmentJobStatuses(actor.districtId, ids),
    show === 'active' ? rebuildJobStatus(actor.districtId) : Promise.resolve(null),
    districtTimeZone(actor),
  ]);
  const bySlug = new Map(modules.map((m) => [m.slug, m]));
  return {
    assignments: assignments.map((a) => viewOf(a, bySlug, codes, totals.get(String(a._id)) ?? emptyCounts(), jobs.get(String(a._id)) ?? null)),
    rebuild,
    timeZone,
  };
}

async function findOwn(actor: Actor, id: string): Promise<AssignmentRecord> {
  // Out of the actor's district is "not found", never "forbidden": ids of other districts are not confirmed.
  const assignment = (await Assignment.findOne({ _id: id, district: actor.districtId }).lean()) as AssignmentRecord | null;
  if (!assignment) throw notFound();
  return assignment;
}

export async function getAssignment(actor: Actor, id: string): Promise<AssignmentView & { timeZone: string }> {
  const assignment = await findOwn(actor, id);
  const [modules, codes, jobs, timeZone] = await Promise.all([
    listModuleOptions(),
    schoolCodes(actor, assignment.audience?.schools ?? []),
    assignmentJobStatuses(actor.districtId, [assignment._id]),
    districtTimeZone(actor),
  ]);
  return { ...viewOf(assignment, new Map(modules.map((m) => [m.slug, m])), codes, emptyCounts(), jobs.get(String(assignment._id)) ?? null), timeZone };
}

/** Its rows and summaries are brought up to date by a background job (coalesced with one still queued). */
async function enqueueAssignmentSync(actor: Actor, assignment: { _id: Types.ObjectId; moduleSlug: string }): Promise<string> {
  const { jobId } = await enqueueComplianceJob({ districtId: actor.districtId, kind: 'assignment', assignmentId: assignment._id, moduleSlug: assignment.moduleSlug, requestedBy: actor.userId });
  return jobId;
}

/** Rules that need the database: the module and version are published, the school codes exist in the district. */
async function checkRules(actor: Actor, moduleSlug: string, input: AssignmentUpdateInput): Promise<{ errors: FieldErrors; schoolIds: Types.ObjectId[] }> {
  const errors: FieldErrors = {};
  const module = (await listModuleOptions()).find((m) => m.slug === moduleSlug);
  if (!module) errors.moduleSlug = 'assignments.errors.moduleRequired';
  else if (input.minVersion > module.latest) errors.minVersion = 'assignments.errors.minVersionTooHigh';
  let schoolIds: Types.ObjectId[] = [];
  if (input.schoolCodes.length > 0) {
    const schools = await School.find({ district: actor.districtId, code: { $in: input.schoolCodes } }, { code: 1 }).lean();
    if (schools.length !== input.schoolCodes.length) errors.schoolCodes = 'assignments.errors.schoolCodesUnknown';
    schoolIds = schools.map((s) => s._id);
  }
  return { errors, schoolIds };
}

function rulesFields(input: AssignmentUpdateInput, schoolIds: Types.ObjectId[]) {
  return {
    audience: { roles: input.roles, jobTitles: input.jobTitles, schools: schoolIds },
    due: input.due,
    recurrence: input.recurrence,
    minVersion: input.minVersion,
  };
}

function auditRules(input: AssignmentUpdateInput) {
  return { roles: input.roles, jobTitles: input.jobTitles, schoolCodes: input.schoolCodes, due: input.due, recurrence: input.recurrence, minVersion: input.minVersion };
}

/** The details of an `assignment.created` event: the module and every rule (also written by the demo seed, seed/demo-training.ts). */
export function assignmentCreatedDetails(input: AssignmentCreateInput): Record<string, unknown> {
  return { moduleSlug: input.moduleSlug, ...auditRules(input) };
}

export async function createAssignment(actor: Actor, input: AssignmentCreateInput, ctx: Context = {}): Promise<Outcome> {
  const { errors, schoolIds } = await checkRules(actor, input.moduleSlug, input);
  if (Object.keys(errors).length) return { ok: false, errors };
  const [created] = await Assignment.create([{ district: actor.districtId, moduleSlug: input.moduleSlug, ...rulesFields(input, schoolIds), createdBy: actor.userId }]);
  const id = String(created._id);
  await recordAudit(actor, { action: 'assignment.created', target: { kind: 'assignment', id }, details: assignmentCreatedDetails(input), requestId: ctx.requestId });
  return { ok: true, id, jobId: await enqueueAssignmentSync(actor, created) };
}

export async function updateAssignment(actor: Actor, id: string, input: AssignmentUpdateInput, ctx: Context = {}): Promise<Outcome> {
  const before = await findOwn(actor, id);
  if (before.status !== 'active') throw notFound();
  const { errors, schoolIds } = await checkRules(actor, before.moduleSlug, input);
  if (Object.keys(errors).length) return { ok: false, errors };
  await Assignment.updateOne({ _id: before._id, district: actor.districtId }, { $set: rulesFields(input, schoolIds) });
  await recordAudit(actor, {
    action: 'assignment.updated',
    target: { kind: 'assignment', id },
    details: { moduleSlug: before.moduleSlug, fromMinVersion: before.minVersion, ...auditRules(input) },
    requestId: ctx.requestId,
  });
  return { ok: true, id, jobId: await enqueueAssignmentSync(actor, before) };
}

/** Archives it; its rows and summaries are removed by a background job. jobId null: it was already archived. */
export async function archiveAssignment(actor: Actor, id: string, ctx: Context = {}): Promise<{ jobId: string | null }> {
  const assignment = await findOwn(actor, id);
  if (assignment.status === 'archived') return { jobId: null };
  await Assignment.updateOne({ _id: assignment._id, district: actor.districtId }, { $set: { status: 'archived', archivedAt: new Date() } });
  await recordAudit(actor, { action: 'assignment.archived', target: { kind: 'assignment', id }, details: { moduleSlug: assignment.moduleSlug }, requestId: ctx.requestId });
  return { jobId: await enqueueAssignmentSync(actor, assignment) };
}

/** Queues a rebuild of the district's compliance rows and summaries from the source records (repair tool). */
export async function rebuildCompliance(actor: Actor, ctx: Context = {}): Promise<{ jobId: string }> {
  const { jobId } = await enqueueComplianceJob({ districtId: actor.districtId, kind: 'rebuild', requestedBy: actor.userId });
  await recordAudit(actor, { action: 'compliance.rebuilt', target: { kind: 'district', id: actor.districtId }, details: { jobId }, requestId: ctx.requestId });
  return { jobId };
}

/** Queues an assignment's compliance update again (after a failed one); audited like the rebuild. */
export async function retryAssignmentCompliance(actor: Actor, id: string, ctx: Context = {}): Promise<{ jobId: string }> {
  const assignment = await findOwn(actor, id);
  const jobId = await enqueueAssignmentSync(actor, assignment);
  await recordAudit(actor, { action: 'compliance.retried', target: { kind: 'assignment', id }, details: { jobId, moduleSlug: assignment.moduleSlug }, requestId: ctx.requestId });
  return { jobId };
}
