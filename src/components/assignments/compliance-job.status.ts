/** What the pages show about compliance jobs: per assignment, for the district rebuild, and "updating now". */
import { Types } from 'mongoose';
import { ComplianceJob, type ComplianceJobRecord, type ComplianceJobState } from './compliance-job.model';
import { isValidTimeZone } from './zoned-date';

export type ComplianceJobStatus = {
  jobId: string;
  state: ComplianceJobState;
  done: number;
  total: number;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** Running, with another run already queued behind it (a change made while it ran). */
  queuedAgain: boolean;
};

function statusOf(job: ComplianceJobRecord, queuedAgain = false): ComplianceJobStatus {
  return {
    jobId: String(job._id),
    state: job.state,
    done: job.progress?.done ?? 0,
    total: job.progress?.total ?? 0,
    requestedAt: job.requestedAt,
    startedAt: job.startedAt ?? null,
    finishedAt: job.finishedAt ?? null,
    error: job.error ?? null,
    queuedAgain,
  };
}

/** One target's jobs → what to show: the running one, else the queued one, else the latest finished one. */
export function jobStatusOf(jobs: readonly ComplianceJobRecord[]): ComplianceJobStatus | null {
  const running = jobs.find((j) => j.state === 'running');
  const queued = jobs.find((j) => j.state === 'queued');
  if (running) return statusOf(running, Boolean(queued));
  if (queued) return statusOf(queued);
  const finished = jobs.filter((j) => j.finishedAt).sort((a, b) => b.finishedAt!.getTime() - a.finishedAt!.getTime());
  return finished.length ? statusOf(finished[0]) : null;
}

export function isUnderway(status: ComplianceJobStatus | null | undefined): boolean {
  return status?.state === 'queued' || status?.state === 'running';
}

/** The job status of each listed assignment (a handful of jobs each: finished ones are pruned to the latest). */
export async function assignmentJobStatuses(districtId: string | Types.ObjectId, assignmentIds: readonly Types.ObjectId[]): Promise<Map<string, ComplianceJobStatus>> {
  const statuses = new Map<string, ComplianceJobStatus>();
  if (assignmentIds.length === 0) return statuses;
  // Index { district, assignment, requestedAt }.
  const jobs = (await ComplianceJob.find({ district: districtId, assignment: { $in: assignmentIds }, kind: 'assignment' }).lean()) as ComplianceJobRecord[];
  const byAssignment = new Map<string, ComplianceJobRecord[]>();
  for (const job of jobs) byAssignment.set(String(job.assignment), [...(byAssignment.get(String(job.assignment)) ?? []), job]);
  for (const [id, list] of byAssignment) {
    const status = jobStatusOf(list);
    if (status) statuses.set(id, status);
  }
  return statuses;
}

/** The district rebuild's job status ("Recalculate now"). */
export async function rebuildJobStatus(districtId: string | Types.ObjectId): Promise<ComplianceJobStatus | null> {
  // Index { district, assignment: null, requestedAt }.
  const jobs = (await ComplianceJob.find({ district: districtId, assignment: null, kind: 'rebuild' }).lean()) as ComplianceJobRecord[];
  return jobStatusOf(jobs);
}

export type ComplianceUpdatesUnderway = { allModules: boolean; moduleSlugs: string[] };

/** Jobs queued or running in the district, for the reports' notice; null when none. */
export async function complianceUpdatesUnderway(districtId: string | Types.ObjectId): Promise<ComplianceUpdatesUnderway | null> {
  // Index { district, … } prefix: a district has a few jobs per assignment at most.
  const jobs = await ComplianceJob.find({ district: districtId, state: { $in: ['queued', 'running'] } }, { kind: 1, moduleSlug: 1 }).lean();
  if (jobs.length === 0) return null;
  const moduleSlugs = [...new Set(jobs.filter((j) => j.kind === 'assignment' && j.moduleSlug).map((j) => j.moduleSlug as string))].sort();
  return { allModules: jobs.some((j) => j.kind === 'rebuild'), moduleSlugs };
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();
const localeOf = (lang: string) => (lang === 'es' ? 'es-US' : 'en-US');

/** Date and time of an instant in the district's zone ("Mar 5, 2026, 10:42 AM"); UTC if the zone is not valid. */
export function formatLocalDateTime(instant: Date | null | undefined, lang: string, timeZone: string): string {
  if (!instant) return '';
  const zone = isValidTimeZone(timeZone) ? timeZone : 'UTC';
  const key = `${lang}|${zone}`;
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(localeOf(lang), { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
    timeFormats.set(key, format);
  }
  return format.format(instant);
}

/** 74000 → "74,000" in both languages: Spanish is es-US, which groups as English does (and writes 68.8). */
export function formatCount(n: number, lang: string): string {
  let format = numberFormats.get(lang);
  if (!format) {
    format = new Intl.NumberFormat(localeOf(lang));
    numberFormats.set(lang, format);
  }
  return format.format(n);
}
