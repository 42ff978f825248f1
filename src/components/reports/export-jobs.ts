/**
 * Compliance exports prepared in the background (docs/compliance.md, "Exports in the background"): a
 * district-wide spreadsheet of 74,000 people takes tens of seconds to write, too long to hold a browser
 * (and a load balancer) waiting on one request. The request records what was asked and returns; a runner
 * in every app process claims the oldest job (or one whose process died: its heartbeat lapsed), streams
 * the rows from the database cursor through the same CSV/XLSX writers into GridFS (bucket `exports`, so
 * any instance can serve the download), reports progress, and marks the file ready until it expires.
 * Only the person who asked can download it; the export and every download are audited.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import mongoose, { Types } from 'mongoose';
import { GridFSBucket } from 'mongodb';
import type { Actor } from '../../shared/actor';
import { AppError, notFound } from '../../shared/errors';
import { translator } from '../../shared/i18n';
import { logger } from '../../shared/logger';
import { startPollingRunner } from '../../shared/polling-runner';
import { exportRowQuery, localDateOf, type ComplianceStatus } from '../assignments';
import { recordAudit } from '../audit';
import { loadActor } from '../auth';
import type { JobTitle } from '../users';
import { ExportJob, type BackgroundFormat, type ExportJobRecord } from './export-job.model';
import { exportHeaders, exportRecordBatches, resolveExportScope, type ExportCell } from './export.service';
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

class LeaseLost extends Error {}
class Interrupted extends Error {}

function bucket(): GridFSBucket {
  return new GridFSBucket(mongoose.connection.db!, { bucketName: BUCKET });
}

const wakers = new Set<() => void>();
function pokeRunners(): void {
  for (const wake of wakers) wake();
}

export type ExportJobView = {
  id: string;
  state: ExportJobRecord['state'];
  format: BackgroundFormat;
  schoolName: string | null;
  filters: { module: string | null; status: string | null; jobTitle: string | null };
  rows: number;
  total: number;
  requestedAt: Date;
  finishedAt: Date | null;
  expiresAt: Date | null;
  fileName: string | null;
  bytes: number | null;
  error: string | null;
};

function viewOf(job: ExportJobRecord, schoolNames: Map<string, string>): ExportJobView {
  return {
    id: String(job._id),
    state: job.state,
    format: job.format,
    schoolName: job.school ? (schoolNames.get(String(job.school)) ?? null) : null,
    filters: { module: job.filters?.module ?? null, status: job.filters?.status ?? null, jobTitle: job.filters?.jobTitle ?? null },
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
    filters: { module: scope.filters.module ?? null, status: scope.filters.status ?? null, jobTitle: scope.filters.jobTitle ?? null },
    format,
    language,
    requestedAt: now,
  });
  pokeRunners();
  return String(job._id);
}

/** The person's own exports still on record (finished files until they expire), newest first. */
export async function listOwnExports(actor: Actor): Promise<ExportJobView[]> {
  // Index { requestedBy, requestedAt }.
  const jobs = (await ExportJob.find({ requestedBy: actor.userId, district: actor.districtId }).sort({ requestedAt: -1 }).limit(20).lean()) as ExportJobRecord[];
  const names = await schoolNamesOf(jobs);
  return jobs.map((job) => viewOf(job, names));
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
  return viewOf(job, await schoolNamesOf([job]));
}

export type ExportDownload = { stream: Readable; fileName: string; contentType: string; bytes: number };

/** The finished file of the person's own export; 404 when it is not theirs, not finished or expired. */
export async function openOwnExport(actor: Actor, id: string, requestId?: string, now = new Date()): Promise<ExportDownload> {
  const job = await ownJob(actor, id);
  if (job.state !== 'done' || !job.file || !job.expiresAt || job.expiresAt <= now) throw notFound('This export is not ready or has expired');
  await ExportJob.updateOne({ _id: job._id }, { $inc: { downloads: 1 } });
  await recordAudit(actor, {
    action: 'compliance.export_downloaded',
    target: job.school ? { kind: 'school', id: String(job.school) } : { kind: 'district', id: String(job.district) },
    details: { exportJob: String(job._id), format: job.format, rowCount: job.progress?.rows ?? 0 },
    requestId,
  });
  return { stream: bucket().openDownloadStream(job.file), fileName: job.fileName ?? `compliance.${job.format}`, contentType: CONTENT_TYPES[job.format], bytes: job.bytes ?? 0 };
}

/** Claims the oldest queued job, or a running one whose process stopped heartbeating. */
export async function claimExportJob(owner: string, leaseMs = EXPORT_LEASE_MS, now = new Date()): Promise<ExportJobRecord | null> {
  const staleBefore = new Date(now.getTime() - leaseMs);
  await ExportJob.updateMany(
    { state: 'running', heartbeatAt: { $lt: staleBefore }, attempts: { $gte: MAX_EXPORT_ATTEMPTS } },
    { $set: { state: 'failed', finishedAt: now, owner: null, error: `The process preparing this export stopped ${MAX_EXPORT_ATTEMPTS} times.`, expiresAt: new Date(now.getTime() + EXPORT_FILE_TTL_MS) } },
  );
  return (await ExportJob.findOneAndUpdate(
    { $or: [{ state: 'queued' }, { state: 'running', heartbeatAt: { $lt: staleBefore }, attempts: { $lt: MAX_EXPORT_ATTEMPTS } }] },
    { $set: { state: 'running', owner, startedAt: now, heartbeatAt: now, 'progress.rows': 0, error: null }, $inc: { attempts: 1 } },
    { sort: { requestedAt: 1 }, returnDocument: 'after', lean: true },
  )) as ExportJobRecord | null;
}

function fileNameOf(job: ExportJobRecord, schoolCode: string | undefined, timeZone: string, at: Date): string {
  const who = (schoolCode ?? 'district').replace(/[^A-Za-z0-9_-]/g, '_');
  return `compliance-${who}-${localDateOf(at, timeZone)}.${job.format}`;
}

type RunOptions = { leaseMs: number; isStopping: () => boolean };

async function finishFailed(job: ExportJobRecord, owner: string, message: string): Promise<void> {
  const finishedAt = new Date();
  await ExportJob.updateOne(
    { _id: job._id, owner, state: 'running' },
    { $set: { state: 'failed', finishedAt, heartbeatAt: finishedAt, error: message.slice(0, 500), expiresAt: new Date(finishedAt.getTime() + EXPORT_FILE_TTL_MS) } },
  );
}

/** Runs a claimed job to done or failed; every write is conditional on still owning it. */
async function runExportJob(job: ExportJobRecord, owner: string, options: RunOptions): Promise<void> {
  const mine = { _id: job._id, owner, state: 'running' as const };
  const log = logger.child({ exportJob: String(job._id), format: job.format, district: String(job.district) });
  const actor = await loadActor(String(job.requestedBy));
  if (!actor || actor.districtId !== String(job.district) || (actor.role !== 'principal' && actor.role !== 'district_admin')) {
    await finishFailed(job, owner, 'The person who asked for this export can no longer export compliance reports.');
    return;
  }
  let scope;
  try {
    scope = await resolveExportScope(actor, {
      school: job.school ? String(job.school) : undefined,
      module: job.filters?.module ?? undefined,
      status: (job.filters?.status ?? undefined) as ComplianceStatus | undefined,
      jobTitle: (job.filters?.jobTitle ?? undefined) as JobTitle | undefined,
    });
  } catch (err) {
    await finishFailed(job, owner, err instanceof AppError && err.status === 404 ? 'This school is no longer yours to export.' : String((err as Error).message));
    return;
  }
  const now = new Date();
  const q = exportRowQuery({ districtId: scope.district.id, schoolId: scope.school?.id }, { moduleSlug: scope.filters.module, status: scope.filters.status, jobTitle: scope.filters.jobTitle }, now);
  const total = await mongoose.connection.db!.collection(q.collection).countDocuments(q.filter);
  await ExportJob.updateOne(mine, { $set: { 'progress.total': total } });
  const t = translator(job.language);
  const fileName = fileNameOf(job, scope.school?.code, scope.district.timeZone, now);
  const upload = bucket().openUploadStream(fileName, { metadata: { exportJob: job._id, district: job.district } });
  let rows = 0;
  let lost = false;
  let lastProgress = Date.now();
  const beat = async () => {
    const { matchedCount } = await ExportJob.updateOne(mine, { $set: { heartbeatAt: new Date(), 'progress.rows': rows } });
    if (matchedCount === 0) lost = true;
  };
  // Between batches (a slow database) the heartbeat keeps the lease.
  const timer = setInterval(() => beat().catch((err) => log.warn({ err }, 'export job heartbeat failed')), Math.max(1_000, Math.floor(options.leaseMs / 4)));
  timer.unref();
  const source = exportRecordBatches(actor, scope, t, job.language, { format: job.format, requestId: `export-job:${String(job._id)}` }, now);
  async function* counted(): AsyncGenerator<ExportCell[][]> {
    for await (const batch of source) {
      rows += batch.length;
      if (lost) throw new LeaseLost();
      if (options.isStopping()) throw new Interrupted();
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        await beat();
      }
      yield batch;
    }
  }
  const started = Date.now();
  log.info({ attempt: job.attempts, total }, 'export job started');
  try {
    const headers = exportHeaders(t);
    if (job.format === 'csv') await writeCsv(counted(), headers, upload);
    else await writeXlsx(counted(), headers, upload, t('reports.xlsxSheet'));
    if (!upload.closed && !upload.writableFinished) await new Promise<void>((resolve, reject) => upload.once('finish', resolve).once('error', reject));
    const finishedAt = new Date();
    const { matchedCount } = await ExportJob.updateOne(mine, {
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
    if (matchedCount === 0) {
      // Another process took the job over meanwhile and writes its own file: this one is not needed.
      await bucket().delete(upload.id as Types.ObjectId).catch(() => undefined);
      log.warn('export job finished after another process took it over');
    } else log.info({ ms: Date.now() - started, rows, bytes: upload.length }, 'export job done');
  } catch (err) {
    await upload.abort().catch(() => undefined);
    if (err instanceof Interrupted) {
      await ExportJob.updateOne(mine, { $set: { owner: null, heartbeatAt: new Date(0) }, $inc: { attempts: -1 } });
      log.info('export job interrupted by shutdown; left for the next runner');
      return;
    }
    if (err instanceof LeaseLost) {
      log.warn('export job lost its lease to another process; stopped');
      return;
    }
    log.error({ err, ms: Date.now() - started }, 'export job failed');
    await finishFailed(job, owner, (err as Error)?.message || 'Unknown error');
  } finally {
    clearInterval(timer);
  }
}

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

function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Runs queued export jobs in this process until none is left (tests, scripts); resolves with how many ran. */
export async function runQueuedExportJobs(options: { leaseMs?: number } = {}): Promise<number> {
  const owner = newOwnerId();
  const run: RunOptions = { leaseMs: options.leaseMs ?? EXPORT_LEASE_MS, isStopping: () => false };
  let count = 0;
  for (let job = await claimExportJob(owner, run.leaseMs); job; job = await claimExportJob(owner, run.leaseMs)) {
    await runExportJob(job, owner, run);
    count++;
  }
  return count;
}

export type ExportJobRunner = { stop(): Promise<void> };

/** Polls for export jobs (and wakes when this process queues one), one at a time; removes expired files. */
export function startExportJobRunner(options: { pollMs?: number; leaseMs?: number } = {}): ExportJobRunner {
  const owner = newOwnerId();
  const leaseMs = options.leaseMs ?? EXPORT_LEASE_MS;
  let lastCleanup = 0;
  const runner = startPollingRunner('exports', options.pollMs ?? DEFAULT_POLL_MS, async (isStopping) => {
    if (Date.now() - lastCleanup >= CLEANUP_EVERY_MS) {
      lastCleanup = Date.now();
      await removeExpiredExports();
    }
    const job = await claimExportJob(owner, leaseMs);
    if (!job) return false;
    await runExportJob(job, owner, { leaseMs, isStopping });
    return true;
  });
  wakers.add(runner.wake);
  return {
    async stop() {
      wakers.delete(runner.wake);
      await runner.stop();
    },
  };
}
