/**
 * `npm run bench -- export [--db=child|worker|same-thread] [--sizes=7400,74000] [--rounds=3] [--no-xlsx] [--profile] [--compare-batch=N]`
 *
 * The district-wide CSV export against its floor, measured in the same run:
 *   - **floor (the target's)**: a raw driver cursor scan of the SAME records the export streams — the
 *     compliance rows, with the export's own filter, sort and batch size (`exportRowQuery`), read and
 *     dropped with no formatting. The target "≤ 1.5× a raw driver cursor scan of the same records"
 *     applies to this ratio.
 *   - for reference, a raw scan of the district's completions (fewer, smaller records: one per passed
 *     training, while the export lists one row per person × assignment, including who has not done it).
 * Each figure is the median of `--rounds` rounds (floor and export alternate in each round, so load from
 * other work on the machine hits both); the ratio is the median of the per-round ratios.
 *
 * Memory: peak growth during one export of the app's RSS and heap (sampled every 5 ms, after a full GC),
 * and of the database server's RSS. By default the embedded server runs in a **child process** (as a
 * mongod would), so the app's RSS is the app's alone; `--db=worker` runs it on a worker thread of this
 * process (the app's default; RSS then includes the server), `--db=same-thread` on this thread. With the
 * child process the district is seeded by `seed:large` in another process too, so this process's heap has
 * an app server's history. App CPU time (floor vs export) is printed too: it is far less sensitive than
 * wall time to other work on a shared machine.
 * `--profile` writes a CPU profile of one CSV export to bench/export-<staff>.cpuprofile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mongoose, { type Types } from 'mongoose';
import { District } from '../src/components/districts';
import { LARGE_DISTRICT_SLUG } from '../seed/seed-large';
import { EXPORT_BATCH_SIZE, exportRowQuery } from '../src/components/assignments';
import { exportHeaders, exportRecordBatches, resolveExportScope, type ExportScope } from '../src/components/reports/export.service';
import { writeCsv, writeXlsx } from '../src/components/reports/export-writers';
import { removeExpiredExports, requestBackgroundExport, runQueuedExportJobs } from '../src/components/reports/export-jobs';
import { ExportJob } from '../src/components/reports/export-job.model';
import { User } from '../src/components/users';
import { connectDatabase, type DatabaseHandle } from '../src/shared/db';
import { configureLogger } from '../src/shared/logger';
import { translator } from '../src/shared/i18n';
import type { Actor } from '../src/shared/actor';
import { seedDistrict } from './lib/large-district';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DB_MODE = option('db', 'child') as 'child' | 'worker' | 'same-thread';
const SIZES = option('sizes', '7400,74000').split(',').map(Number);
const ROUNDS = Number(option('rounds', '3'));
const XLSX = !argv.includes('--no-xlsx');
const PROFILE = argv.includes('--profile');
/** `--compare-batch=1000`: also time the export at that cursor batch size in every round. */
const COMPARE_BATCH = Number(option('compare-batch', '0'));

/** Counts bytes and throws them away, like a fast client. */
function sink(): Writable & { bytes: number } {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.bytes += chunk.length;
      done();
    },
  }) as Writable & { bytes: number };
  out.bytes = 0;
  return out;
}

/** CPU time of this process (the app; the database is in its own process by default) since `from`, in ms: far less sensitive than wall time to other work on a shared machine. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The floor: the export's own query (filter, sort) on the raw driver, documents dropped — with the
 * export's batch size, or another one (the floor is the faster of the two, so a batch size chosen for
 * the export cannot flatter the ratio by slowing the floor).
 */
async function rowsFloor(scope: ExportScope, now: Date, batchSize?: number): Promise<{ ms: number; docs: number; cpuMs: number }> {
  const q = exportRowQuery({ districtId: scope.district.id, schoolId: scope.school?.id }, { moduleSlug: scope.filters.module, status: scope.filters.status, jobTitle: scope.filters.jobTitle }, now);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let docs = 0;
  const cursor = mongoose.connection.db!.collection(q.collection).find(q.filter, { sort: q.sort, batchSize: batchSize ?? q.batchSize });
  for await (const doc of cursor) if (doc) docs += 1;
  return { ms: performance.now() - started, docs, cpuMs: cpuMs(cpu0) };
}

async function completionsScan(districtId: unknown): Promise<{ ms: number; docs: number }> {
  const started = performance.now();
  let docs = 0;
  const cursor = mongoose.connection.db!.collection('completions').find({ district: districtId }, { batchSize: 1000 });
  for await (const doc of cursor) if (doc) docs += 1;
  return { ms: performance.now() - started, docs };
}

function childRss(child: ChildProcess | undefined): number {
  if (!child?.pid) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

type Growth = { rssMb: number; heapMb: number; externalMb: number; serverRssMb: number };

/** Peak growth over the starting point (after a full GC) while `work` runs, sampled every 5 ms. */
async function peakGrowth<T>(server: ChildProcess | undefined, work: () => Promise<T>): Promise<{ result: T; growth: Growth }> {
  gc();
  const m0 = process.memoryUsage();
  const s0 = childRss(server);
  const peak = { rss: m0.rss, heap: m0.heapUsed, external: m0.external, server: s0 };
  let ticks = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    if (server && ++ticks % 4 === 0) peak.server = Math.max(peak.server, childRss(server));
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    const mb = (n: number) => n / 1e6;
    return { result, growth: { rssMb: mb(peak.rss - m0.rss), heapMb: mb(peak.heap - m0.heapUsed), externalMb: mb(peak.external - m0.external), serverRssMb: server ? mb(Math.max(peak.server, childRss(server)) - s0) : NaN } };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Seeds through `npm run seed:large` in its own process when the database is a separate process, so this
 * process's heap has the history of an app server (which never holds 118,000 rows at once), not of a
 * seeder: V8 sizes its old-generation growth limit from past heap use, so a process that has just built
 * a large district lets far more garbage accumulate before collecting it.
 */
async function seedElsewhere(uri: string, schools: number, staff: number): Promise<Types.ObjectId> {
  const started = Date.now();
  process.stdout.write(`seeding ${schools} schools / ${staff} staff in a separate process … `);
  const seeder = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'seed', 'seed-large.ts'), '--schools', String(schools), '--staff', String(staff)], {
    env: { ...process.env, MONGODB_URI: uri, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  seeder.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(seeder, 'exit')) as [number];
  if (code !== 0) throw new Error(`seed:large exited with code ${code}\n${out}`);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s (${/Done in [^:]*: (.*)$/m.exec(out)?.[1] ?? ''})\n`);
  const district = await District.findOne({ slug: LARGE_DISTRICT_SLUG }).lean();
  return district!._id;
}

async function measure(schools: number, staff: number, server: { child: ChildProcess; uri: string } | undefined): Promise<void> {
  const districtId = server ? await seedElsewhere(server.uri, schools, staff) : (await seedDistrict(schools, staff)).districtId;
  const seeded = { districtId };
  const admin = await User.findOne({ district: seeded.districtId, role: 'district_admin' }).lean();
  const actor: Actor = { userId: String(admin!._id), districtId: String(seeded.districtId), role: 'district_admin', schoolIds: [], name: admin!.name, email: admin!.email, language: 'en', sessionEpoch: 0 };
  const t = translator('en');
  const scope = await resolveExportScope(actor, { school: undefined, status: undefined, jobTitle: undefined, module: undefined });
  const now = new Date();
  const csv = (out: Writable, batchSize?: number) => writeCsv(exportRecordBatches(actor, scope, t, 'en', { format: 'csv', batchSize }, now), exportHeaders(t), out);

  // Warm-up (JIT, caches, and the server's first read of each stored document).
  await completionsScan(seeded.districtId);
  await rowsFloor(scope, now);
  await csv(sink());

  const floors: number[] = [];
  const sameBatch: number[] = [];
  const bigBatch: number[] = [];
  const comps: number[] = [];
  const exports: number[] = [];
  const floorCpu: number[] = [];
  const exportCpu: number[] = [];
  const compared: number[] = [];
  const comparedHeap: number[] = [];
  let rowsRead = 0;
  let completionsRead = 0;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    gc();
    const f = await rowsFloor(scope, now);
    gc();
    const f2 = await rowsFloor(scope, now, 2000);
    sameBatch.push(f.ms);
    bigBatch.push(f2.ms);
    floors.push(Math.min(f.ms, f2.ms));
    floorCpu.push(Math.min(f.cpuMs, f2.cpuMs));
    rowsRead = f.docs;
    gc();
    const c = await completionsScan(seeded.districtId);
    comps.push(c.ms);
    completionsRead = c.docs;
    gc();
    const out = sink();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    await csv(out);
    exports.push(performance.now() - started);
    exportCpu.push(cpuMs(cpu0));
    bytes = out.bytes;
    if (COMPARE_BATCH) {
      gc();
      const { growth: g } = await peakGrowth(server?.child, async () => {
        const t0 = performance.now();
        await csv(sink(), COMPARE_BATCH);
        compared.push(performance.now() - t0);
      });
      comparedHeap.push(g.heapMb);
    }
  }
  const rowRatio = median(exports.map((e, i) => e / floors[i]));
  const compRatio = median(exports.map((e, i) => e / comps[i]));
  const { growth } = await peakGrowth(server?.child, () => csv(sink()));
  const floorGrowth = await peakGrowth(server?.child, () => rowsFloor(scope, now));

  if (PROFILE) {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await csv(sink());
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(__dirname, `export-${staff}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    process.stdout.write(`  CPU profile of one CSV export: ${file}\n`);
  }

  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(58)} ${value}\n`);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' / ');
  process.stdout.write(`\n${staff} staff, ${schools} schools (medians of ${ROUNDS} rounds; each round's figures in brackets)\n`);
  line('FLOOR: raw driver scan of the exported rows (same query)', `${median(floors).toFixed(0)} ms (${rowsRead} docs) [${list(floors)}]`);
  line(`  (batch size ${EXPORT_BATCH_SIZE}, as the export / batch size 2000)`, `[${list(sameBatch)}] / [${list(bigBatch)}]`);
  line('raw driver scan of completions (reference)', `${median(comps).toFixed(0)} ms (${completionsRead} docs) [${list(comps)}]`);
  line('CSV export (whole district)', `${median(exports).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB [${list(exports)}]`);
  if (COMPARE_BATCH) line(`CSV export with cursor batches of ${COMPARE_BATCH} (comparison)`, `${median(compared).toFixed(0)} ms [${list(compared)}], ÷ floor ${median(compared.map((e, i) => e / floors[i])).toFixed(2)}, heap peak +[${list(comparedHeap)}] MB`);
  line('  CSV ÷ floor (TARGET ≤ 1.5)', `${rowRatio.toFixed(2)} ${rowRatio <= 1.5 ? '✔' : '✘'}`);
  line('  app CPU time: floor / CSV export (÷)', `${median(floorCpu).toFixed(0)} ms / ${median(exportCpu).toFixed(0)} ms (${median(exportCpu.map((e, i) => e / floorCpu[i])).toFixed(2)}) [${list(floorCpu)}] / [${list(exportCpu)}]`);
  line('  CSV ÷ completions scan (not the target: different records)', compRatio.toFixed(2));
  line('  peak growth during one CSV export: app RSS / app heap', `${growth.rssMb.toFixed(1)} MB / ${growth.heapMb.toFixed(1)} MB (external ${growth.externalMb.toFixed(1)} MB)`);
  line('  peak growth during the floor scan alone: app RSS / app heap', `${floorGrowth.growth.rssMb.toFixed(1)} MB / ${floorGrowth.growth.heapMb.toFixed(1)} MB`);
  if (server) line('  peak growth of the database server process RSS (CSV export)', `${growth.serverRssMb.toFixed(1)} MB`);
  if (XLSX) {
    const xlsxOut = sink();
    const started = performance.now();
    const xlsx = await peakGrowth(server?.child, () => writeXlsx(exportRecordBatches(actor, scope, t, 'en', { format: 'xlsx' }, now), exportHeaders(t), xlsxOut, 'Compliance'));
    const ms = performance.now() - started;
    line('XLSX export (one run)', `${ms.toFixed(0)} ms, ${(xlsxOut.bytes / 1e6).toFixed(1)} MB, ÷ floor ${(ms / median(floors)).toFixed(2)}, app RSS +${xlsx.growth.rssMb.toFixed(1)} MB, heap +${xlsx.growth.heapMb.toFixed(1)} MB`);
    // The same XLSX prepared in the background (export-jobs.ts): row count, the same writer, into GridFS.
    gc();
    const jobId = await requestBackgroundExport(actor, { school: undefined, status: undefined, jobTitle: undefined, module: undefined }, 'xlsx', 'en');
    const jobStarted = performance.now();
    const background = await peakGrowth(server?.child, () => runQueuedExportJobs());
    const jobMs = performance.now() - jobStarted;
    const job = await ExportJob.findById(jobId).lean();
    line('XLSX prepared in the background (job, into GridFS)', `${jobMs.toFixed(0)} ms, ${job?.state}, ${job?.progress?.rows} rows, ${((job?.bytes ?? 0) / 1e6).toFixed(1)} MB, ÷ direct XLSX ${(jobMs / ms).toFixed(2)}, app heap +${background.growth.heapMb.toFixed(1)} MB`);
    await ExportJob.updateOne({ _id: jobId }, { $set: { expiresAt: new Date(0) } });
    await removeExpiredExports();
  }
}

/** The embedded server in memory in a child process; resolves with its URI. */
function startServerProcess(): Promise<{ child: ChildProcess; uri: string }> {
  const cli = path.join(__dirname, '..', 'src', 'embedded-mongo', 'cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const uri = /mongodb:\/\/\S+/.exec(out)?.[0];
      if (uri) resolve({ child, uri });
    });
    child.once('exit', (code) => reject(new Error(`embedded server exited with code ${code}`)));
  });
}

export default async function run(): Promise<void> {
  configureLogger('warn');
  let server: { child: ChildProcess; uri: string } | undefined;
  let db: DatabaseHandle;
  if (process.env.MONGODB_URI) {
    db = await connectDatabase({ mongodbUri: process.env.MONGODB_URI, dbName: `bench_${Date.now().toString(36)}` });
  } else if (DB_MODE === 'child') {
    server = await startServerProcess();
    db = await connectDatabase({ mongodbUri: `${server.uri.replace(/\/$/, '')}/bench`, dbName: 'bench' });
  } else {
    db = await connectDatabase({ embeddedOnOwnThread: DB_MODE !== 'same-thread' });
  }
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  const where = process.env.MONGODB_URI ? 'MONGODB_URI' : DB_MODE === 'child' ? 'embedded, in memory, in a child process (app RSS is the app alone)' : `embedded, in memory, ${DB_MODE === 'worker' ? 'on a worker thread of this process' : 'on this thread'} (RSS includes the server)`;
  process.stdout.write(`database: ${where}\n`);
  try {
    for (const staff of SIZES) await measure(Math.max(1, Math.round((staff * 1300) / 74_000)), staff, server ? { child: server.child, uri: `${server.uri.replace(/\/$/, '')}/bench` } : undefined);
  } finally {
    await db.close();
    if (server) {
      server.child.removeAllListeners('exit');
      server.child.kill('SIGTERM');
    }
  }
}
