/**
 * Compliance exports prepared in the background (docs/compliance.md, "Exports in the background"): a
 * district-wide spreadsheet of 74,000 people takes tens of seconds to write, too long to hold a browser
 * (and a load balancer) waiting on one request. The request records what was asked and returns; a runner
 * in every app process claims the oldest job (or one whose process died: its heartbeat lapsed), streams
 * the rows from the database cursor through the same CSV/XLSX writers into GridFS (bucket `exports`, so
 * any instance can serve the download), reports progress, and marks the file ready until it expires.
 * Only the person who asked can download it; the export and every download are audited.
 */
import type { Readable } from 'node:stream';
import mongoose, { Types } from 'mongoose';
import { GridFSBucket } from 'mongodb';
import { SCHOOL_LEADERS, type Actor } from '../../shared/actor';
import { AppError, notFound } from '../../shared/errors';
import { translator } from '../../shared/i18n';
import { defineLeaseJobs, errorMessage, type Lease, type LeaseJobRunner } from '../../shared/lease-jobs';
import { exportRowQuery, localDateOf, type ComplianceStatus } from '../assignments';
import { recordAudit } from '../audit';
import { loadActor } from '../auth';
import { listRegionOptions } from '../regions';
import type { JobTitle } from '../users';
import { ExportJob, type BackgroundFormat, type ExportJobRecord } from './export-job.model';
import { exportHeaders, exportRecordBatches, regionSchoolIds, resolveExportScope, type ExportCell } from './export.service';
import { writeCsv, writeXlsx } from './export-writers';
import type { ExportQuery } from './reports.schemas';

/** How long a finished file can be downloaded. */
export const EXPORT_FILE_TTL_MS = 24 * 60 * 60 * 1000;
/** A running job whose heartbeat is older than this belongs to a process that died. */
export const EXPORT_LEASE_MS = 60_000;
/** A job whose process died this many times is failed instead of being taken over again. */
export const MAX_EXPORT_ATTEMPTS = 3;
/** Unfinished exports one person may have at a time (a double click must not start two district exports). */
export const MAX_PENDING_PER_PERSON = 3;
const DEFAULT_POLL_MS = 5_000;
const CLEANUP_EVERY_MS = 60_000;
const PROGRESS_EVERY_MS = 1_000;
const BUCKET = 'exports';

export const CONTENT_TYPES: Record<BackgroundFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

function bucket(): GridFSBucket {
  return new GridFSBucket(mongoose.connection.db!, { bucketName: BUCKET });
}

export type ExportJobView = {
  id: string;
  state: ExportJobRecord['state'];
  format: BackgroundFormat;
  schoolName: string | null;
  /** The region filter's name ('none': schools without a region; a region deleted since: null). */
  regionName: string | null;
  filters: { module: string | null; status: string | null; jobTitle: string | null; region: string | null };
  rows: number;
  total: number;
  requestedAt: Date;
  finishedAt: Date | null;
  expiresAt: Date | null;
  fileName: string | null;
  bytes: number | null;
  error: string | null;
};

function viewOf(job: ExportJobRecord, schoolNames: Map<string, string>, regionNames: Map<string, string>): ExportJobView {
  const region = job.filters?.region ?? null;
  return {
    id: String(job._id),
    state: job.state,
    format: job.format,
    schoolName: job.school ? (schoolNames.get(String(job.school)) ?? null) : null,
    regionName: region ? (regionNames.get(region) ?? null) : null,
    filters: { module: job.filters?.module ?? null, status: job.filters?.status ?? null, jobTitle: job.filters?.jobTitle ?? null, region },
    rows: job.progress?.rows ?? 0,
    total: job.progress?.total ?? 0,
    requestedAt: job.requestedAt,
    finishedAt: job.finishedAt ?? null,
    expiresAt: job.expiresAt ?? null,
    fileName: job.fileName ?? null,
    bytes: job.bytes ?? null,
    error: job.error ?? null,
  };
}

async function regionNamesOf(actor: Actor, jobs: readonly ExportJobRecord[]): Promise<Map<string, string>> {
  if (!jobs.some((j) => j.filters?.region && j.filters.region !== 'none')) return new Map();
  return new Map((await listRegionOptions(actor)).map((r) => [r.id, r.name]));
}

async function schoolNamesOf(jobs: readonly ExportJobRecord[]): Promise<Map<string, string>> {
  const ids = [...new Set(jobs.filter((j) => j.school).map((j) => String(j.school)))];
  if (ids.length === 0) return new Map();
  const schools = await mongoose.connection.db!.collection('schools').find({ _id: { $in: ids.map((id) => new Types.ObjectId(id)) } }, { projection: { name: 1 } }).toArray();
  return new Map(schools.map((s) => [String(s._id), String(s.name)]));
}

/**
 * Records an export to prepare. The scope is checked now (a principal's other school is 404) and again
 * when the job runs (the person may have lost the role or the school since).
 */
export async function requestBackgroundExport(actor: Actor, query: ExportQuery, format: BackgroundFormat, language: 'en' | 'es', now = new Date()): Promise<string> {
  const scope = await resolveExportScope(actor, query);
  const pending = await ExportJob.countDocuments({ requestedBy: actor.userId, state: { $in: ['queued', 'running'] } });
  if (pending >= MAX_PENDING_PER_PERSON) throw new AppError(429, 'too_many_exports', 'Wait for your exports in progress to finish');
  const job = await ExportJob.create({
    district: actor.districtId,
    requestedBy: actor.userId,
    school: scope.school?.id ?? null,
    filters: { module: scope.filters.module ?? null, status: scope.filters.status ?? null, jobTitle: scope.filters.jobTitle ?? null, region: scope.filters.region ?? null },
    format,
    language,
    requestedAt: now,
  });
  jobs.wake();
  return String(job._id);
}

/** The person's own exports still on record (finished files until they expire), newest first. */
export async function listOwnExports(actor: Actor): Promise<ExportJobView[]> {
  // Index { requestedBy, requestedAt }.
  const jobs = (await ExportJob.find({ requestedBy: actor.userId, district: actor.districtId }).sort({ requestedAt: -1 }).limit(20).lean()) as ExportJobRecord[];
  const [names, regions] = await Promise.all([schoolNamesOf(jobs), regionNamesOf(actor, jobs)]);
  return jobs.map((job) => viewOf(job, names, regions));
}

async function ownJob(actor: Actor, id: string): Promise<ExportJobRecord> {
  if (!Types.ObjectId.isValid(id)) throw notFound();
  // Someone else's export — even another admin's in the same district — is not found: it holds staff data they asked for.
  const job = (await ExportJob.findOne({ _id: id, requestedBy: actor.userId, district: actor.districtId }).lean()) as ExportJobRecord | null;
  if (!job) throw notFound();
  return job;
}

export async function getOwnExport(actor: Actor, id: string): Promise<ExportJobView> {
  const job = await ownJob(actor, id);
  const [names, regions] = await Promise.all([schoolNamesOf([job]), regionNamesOf(actor, [job])]);
  return viewOf(job, names, regions);
}

export type ExportDownload = { stream: Readable; fileName: string; contentType: string; bytes: number };

/** The finished file of the person's own export; 404 when it is not theirs, not finished or expired. */
export async function openOwnExport(actor: Actor, id: string, requestId?: string, now = new Date()): Promise<ExportDownload> {
  const job = await ownJob(actor, id);
  if (job.state !== 'done' || !job.file || !job.expiresAt || job.expiresAt <= now) throw notFound('This export is not ready or has expired');
  // A region administrator moved to another region since no longer downloads the old region's file (404).
  if (actor.role === 'region_admin') await resolveExportScope(actor, { school: job.school ? String(job.school) : undefined, region: job.filters?.region ?? undefined, module: undefined, status: undefined, jobTitle: undefined });
  await ExportJob.updateOne({ _id: job._id }, { $inc: { downloads: 1 } });
  await recordAudit(actor, {
    action: 'compliance.export_downloaded',
    target: job.school ? { kind: 'school', id: String(job.school) } : { kind: 'district', id: String(job.district) },
    details: { exportJob: String(job._id), format: job.format, rowCount: job.progress?.rows ?? 0 },
    requestId,
  });
  return { stream: bucket().openDownloadStream(job.file), fileName: job.fileName ?? `compliance.${job.format}`, contentType: CONTENT_TYPES[job.format], bytes: job.bytes ?? 0 };
}

function fileNameOf(job: ExportJobRecord, schoolCode: string | undefined, timeZone: string, at: Date): string {
  const who = (schoolCode ?? 'district').replace(/[^A-Za-z0-9_-]/g, '_');
  return `compliance-${who}-${localDateOf(at, timeZone)}.${job.format}`;
}

async function finishFailed(lease: Lease, message: string): Promise<void> {
  const finishedAt = new Date();
  await lease.write({ $set: { state: 'failed', finishedAt, heartbeatAt: finishedAt, error: message.slice(0, 500), expiresAt: new Date(finishedAt.getTime() + EXPORT_FILE_TTL_MS) } });
}

/** Checks the requester and the scope again, then streams the rows into a file in GridFS. */
async function runExportJob(job: ExportJobRecord, lease: Lease): Promise<void> {
  const actor = await loadActor(String(job.requestedBy));
  if (!actor || actor.districtId !== String(job.district) || !(SCHOOL_LEADERS as readonly string[]).includes(actor.role)) {
    await finishFailed(lease, 'The person who asked for this export can no longer export compliance reports.');
    return;
  }
  let scope;
  try {
    scope = await resolveExportScope(actor, {
      school: job.school ? String(job.school) : undefined,
      module: job.filters?.module ?? undefined,
      status: (job.filters?.status ?? undefined) as ComplianceStatus | undefined,
      jobTitle: (job.filters?.jobTitle ?? undefined) as JobTitle | undefined,
      region: job.filters?.region ?? undefined,
    });
  } catch (err) {
    const gone = job.school ? 'This school is no longer yours to export.' : 'This region no longer exists.';
    await finishFailed(lease, err instanceof AppError && err.status === 404 ? gone : String((err as Error).message));
    return;
  }
  const now = new Date();
  const q = exportRowQuery({ districtId: scope.district.id, schoolId: scope.school?.id, schoolIds: await regionSchoolIds(scope) }, { moduleSlug: scope.filters.module, status: scope.filters.status, jobTitle: scope.filters.jobTitle }, now);
  const total = await mongoose.connection.db!.collection(q.collection).countDocuments(q.filter);
  await lease.write({ $set: { 'progress.total': total } });
  const t = translator(job.language);
  const fileName = fileNameOf(job, scope.school?.code, scope.district.timeZone, now);
  const upload = bucket().openUploadStream(fileName, { metadata: { exportJob: job._id, district: job.district } });
  let rows = 0;
  let lastProgress = Date.now();
  lease.heartbeatWith(() => ({ 'progress.rows': rows }));
  const source = exportRecordBatches(actor, scope, t, job.language, { format: job.format, requestId: `export-job:${String(job._id)}` }, now);
  async function* counted(): AsyncGenerator<ExportCell[][]> {
    for await (const batch of source) {
      rows += batch.length;
      lease.checkpoint();
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        await lease.beat();
      }
      yield batch;
    }
  }
  const started = Date.now();
  lease.log.info({ attempt: job.attempts, total }, 'export job started');
  try {
    const headers = exportHeaders(t);
    if (job.format === 'csv') await writeCsv(counted(), headers, upload);
    else await writeXlsx(counted(), headers, upload, t('reports.xlsxSheet'));
    if (!upload.closed && !upload.writableFinished) await new Promise<void>((resolve, reject) => upload.once('finish', resolve).once('error', reject));
  } catch (err) {
    // Failed, handed back or taken over: the part written is not needed.
    await upload.abort().catch(() => undefined);
    throw err;
  }
  const finishedAt = new Date();
  const done = await lease.write({
    $set: {
      state: 'done',
      finishedAt,
      heartbeatAt: finishedAt,
      progress: { rows, total: rows },
      file: upload.id,
      fileName,
      bytes: upload.length,
      expiresAt: new Date(finishedAt.getTime() + EXPORT_FILE_TTL_MS),
    },
  });
  if (!done) {
    // Another process took the job over meanwhile and writes its own file: this one is not needed.
    await bucket().delete(upload.id as Types.ObjectId).catch(() => undefined);
    lease.log.warn('export job finished after another process took it over');
  } else lease.log.info({ ms: Date.now() - started, rows, bytes: upload.length }, 'export job done');
}

/**
 * The lease (src/shared/lease-jobs.ts): claims the oldest queued job, or a running one whose process
 * stopped heartbeating.
 */
const jobs = defineLeaseJobs<ExportJobRecord>({
  name: 'export job',
  model: ExportJob,
  runningState: 'running',
  leaseMs: EXPORT_LEASE_MS,
  maxAttempts: MAX_EXPORT_ATTEMPTS,
  pollMs: DEFAULT_POLL_MS,
  queued: () => ({ state: 'queued' }),
  onClaim: { 'progress.rows': 0, error: null },
  onCrashLoop: (now) => ({ error: `The process preparing this export stopped ${MAX_EXPORT_ATTEMPTS} times.`, expiresAt: new Date(now.getTime() + EXPORT_FILE_TTL_MS) }),
  logContext: (job) => ({ exportJob: String(job._id), format: job.format, district: String(job.district) }),
  run: runExportJob,
  fail: (_job, lease, err) => finishFailed(lease, errorMessage(err)),
});

export const claimExportJob = jobs.claim;

/** Removes expired exports and their files (a file is never served after expiresAt even before this runs). */
export async function removeExpiredExports(now = new Date()): Promise<number> {
  // Index { expiresAt } (partial: set once a job finishes).
  const expired = await ExportJob.find({ expiresAt: { $lte: now } }, { file: 1 }).limit(500).lean();
  for (const job of expired) {
    if (job.file) await bucket().delete(job.file).catch((err: unknown) => {
      if (!/not found/i.test(String((err as Error)?.message))) throw err;
    });
    await ExportJob.deleteOne({ _id: job._id });
  }
  return expired.length;
}

/** Runs queued export jobs in this process until none is left (tests, scripts); resolves with how many ran. */
export const runQueuedExportJobs = jobs.runQueued;

export type ExportJobRunner = LeaseJobRunner;

/** Polls for export jobs (and wakes when this process queues one), one at a time; removes expired files. */
export function startExportJobRunner(options: { pollMs?: number; leaseMs?: number } = {}): ExportJobRunner {
  let lastCleanup = 0;
  return jobs.startRunner({
    ...options,
    async beforeClaim() {
      if (Date.now() - lastCleanup < CLEANUP_EVERY_MS) return;
      lastCleanup = Date.now();
      await removeExpiredExports();
    },
  });
}
