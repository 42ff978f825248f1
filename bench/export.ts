/**
 * `npm run bench -- export`: the district-wide CSV export against the floor — a raw driver cursor scan
 * of the same district's completions (and of the compliance rows the export reads) — at 7,400 and at
 * 74,000 staff, with the peak RSS growth of the process during each export. The database is the
 * embedded server in memory in this same process (so its memory is included), or MONGODB_URI if set.
 * Run with NODE_OPTIONS=--expose-gc for steadier memory figures.
 */
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import { exportHeaders, exportRecords, resolveExportScope } from '../src/components/reports/export.service';
import { writeCsv, writeXlsx } from '../src/components/reports/export-writers';
import { User } from '../src/components/users';
import { translator } from '../src/shared/i18n';
import type { Actor } from '../src/shared/actor';
import { openBenchDatabase, peakRssGrowth, seedDistrict } from './lib/large-district';

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

async function rawScan(collection: string, districtId: unknown): Promise<{ ms: number; docs: number }> {
  const started = performance.now();
  let docs = 0;
  const cursor = mongoose.connection.db!.collection(collection).find({ district: districtId }).batchSize(2000);
  for await (const doc of cursor) if (doc) docs += 1;
  return { ms: performance.now() - started, docs };
}

async function measure(schools: number, staff: number): Promise<void> {
  const seeded = await seedDistrict(schools, staff);
  const admin = await User.findOne({ district: seeded.districtId, role: 'district_admin' }).lean();
  const actor: Actor = { userId: String(admin!._id), districtId: String(seeded.districtId), role: 'district_admin', schoolIds: [], name: admin!.name, email: admin!.email, language: 'en' };
  const t = translator('en');
  const scope = await resolveExportScope(actor, { school: undefined, status: undefined, jobTitle: undefined, module: undefined });

  // Warm-up (JIT, caches), then the measured runs.
  await rawScan('completions', seeded.districtId);
  await writeCsv(exportRecords(actor, scope, t, 'en', { format: 'csv' }), exportHeaders(t), sink());

  const completions = await rawScan('completions', seeded.districtId);
  const rows = await rawScan('compliancerows', seeded.districtId);
  const out = sink();
  const started = performance.now();
  const { growthMb } = await peakRssGrowth(() => writeCsv(exportRecords(actor, scope, t, 'en', { format: 'csv' }), exportHeaders(t), out));
  const csvMs = performance.now() - started;
  const xlsxOut = sink();
  const xlsxStarted = performance.now();
  const xlsx = await peakRssGrowth(() => writeXlsx(exportRecords(actor, scope, t, 'en', { format: 'xlsx' }), exportHeaders(t), xlsxOut, 'Compliance'));
  const xlsxMs = performance.now() - xlsxStarted;

  const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(48)} ${value}\n`);
  process.stdout.write(`\n${staff} staff, ${schools} schools\n`);
  line('raw driver scan of completions', `${completions.ms.toFixed(0)} ms (${completions.docs} docs)`);
  line('raw driver scan of compliance rows', `${rows.ms.toFixed(0)} ms (${rows.docs} docs)`);
  line('CSV export (whole district)', `${csvMs.toFixed(0)} ms, ${(out.bytes / 1e6).toFixed(1)} MB, peak RSS growth ${growthMb.toFixed(1)} MB`);
  line('  ratio to the completions scan (target ≤ 1.5)', `${(csvMs / completions.ms).toFixed(2)}`);
  line('  ratio to the compliance-rows scan', `${(csvMs / rows.ms).toFixed(2)}`);
  line('XLSX export (whole district)', `${xlsxMs.toFixed(0)} ms, ${(xlsxOut.bytes / 1e6).toFixed(1)} MB, peak RSS growth ${xlsx.growthMb.toFixed(1)} MB`);
}

export default async function run(): Promise<void> {
  const db = await openBenchDatabase();
  process.stdout.write(`database: ${db.embedded ? 'embedded, in memory, in this process' : 'MONGODB_URI'}\n`);
  try {
    await measure(130, 7_400);
    await measure(1_300, 74_000);
  } finally {
    await db.close();
  }
}
