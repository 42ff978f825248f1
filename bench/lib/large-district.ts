/** Shared by the export and dashboard benchmarks: an embedded in-memory database seeded at a given size. */
import mongoose from 'mongoose';
import { connectDatabase, type DatabaseHandle } from '../../src/shared/db';
import { configureLogger } from '../../src/shared/logger';
import { seedLarge, type LargeSeedResult } from '../../seed/seed-large';

export async function openBenchDatabase(): Promise<DatabaseHandle> {
  configureLogger('warn');
  const db = await connectDatabase(process.env.MONGODB_URI ? { mongodbUri: process.env.MONGODB_URI, dbName: `bench_${Date.now().toString(36)}` } : {});
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  return db;
}

export async function seedDistrict(schools: number, staff: number): Promise<LargeSeedResult> {
  const started = Date.now();
  process.stdout.write(`seeding ${schools} schools / ${staff} staff … `);
  const result = await seedLarge({ schools, staff });
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s (${result.rows} compliance rows, ${result.completions} completions; rebuild ${result.seconds['compliance rebuild'].toFixed(1)} s)\n`);
  return result;
}

/** Median and 95th percentile of some millisecond timings. */
export function summarize(ms: number[]): { median: number; p95: number; min: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), min: sorted[0] };
}

/** Samples RSS every few milliseconds while `work` runs; returns the peak growth over the starting RSS, in MB. */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthMb: (peak - start) / 1e6 };
  } finally {
    clearInterval(timer);
  }
}
