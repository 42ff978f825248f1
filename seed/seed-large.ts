/**
 * `npm run seed:large -- --schools 1300 --staff 74000`: a separate "Large Demo District" at LAUSD scale,
 * with three assignments and a realistic mix of statuses, for benchmarks and load trials. Bulk writes
 * in batches straight through the driver (one password hash for everyone), then one compliance rebuild and
 * one rebuild of the decision tallies.
 * Re-running replaces that district's data (and only that district's). Refused in production.
 */
import path from 'node:path';
import mongoose, { Types } from 'mongoose';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/shared/db';
import { Assignment, addDays, localDateOf, rebuildDistrictCompliance } from '../src/components/assignments';
import { hashPassword } from '../src/components/auth';
import { Attempt, Completion, deleteDecisionTallies } from '../src/components/completions';
import { District } from '../src/components/districts';
import { rebuildDistrictDecisionTallies } from '../src/components/reports';
import { Region } from '../src/components/regions';
import { School } from '../src/components/schools';
import { loadModuleCatalog } from '../src/components/content';
import { DEFAULT_MODULES_DIR, TrainingModule, prepareTrainingContent } from '../src/components/training';
import { simulateOutcome, type SimulatedPlay } from './simulate-play';
import { initialPosition, type PlayPosition } from '../src/components/training/training.progress';
import { User, type JobTitle } from '../src/components/users';

export const LARGE_DISTRICT_SLUG = 'large-demo';
const DAY = 86_400_000;
const BATCH = 5000;
const FIRST = ['Ana', 'Luis', 'Mei', 'Kwame', 'Sofía', 'David', 'Priya', 'Jorge', 'Fatima', 'Tuan', 'Rosa', 'Emily', 'Hamid', 'Lucía', 'Imani', 'Carlos', 'Keiko', 'Ruth', 'Óscar', 'Nadia'];
const LAST = ['García', 'Nguyen', 'Smith', 'Hernández', 'Kim', 'Johnson', 'López', 'Chen', 'Williams', 'Martínez', 'Patel', 'Brown', 'Rodríguez', 'Lee', 'Flores', 'Davis', 'Cohen', 'Okafor', 'Reyes', 'Tanaka'];
// Two thirds non-teachers, as in LAUSD.
const JOBS: JobTitle[] = ['teacher', 'teacher', 'teacher', 'teacher', 'teacher', 'substitute_teacher', 'paraeducator', 'paraeducator', 'counselor', 'front_office', 'front_office', 'office_manager', 'custodian', 'custodian', 'bus_driver', 'food_service', 'food_service', 'campus_aide', 'nurse', 'other'];
// LAUSD's six regions; the district page rolls the schools up by region (docs/compliance.md, "Regions").
const REGIONS = [
  { code: 'CENTRAL', name: 'Region Central' },
  { code: 'EAST', name: 'Region East' },
  { code: 'NORTHEAST', name: 'Region Northeast' },
  { code: 'NORTHWEST', name: 'Region Northwest' },
  { code: 'SOUTH', name: 'Region South' },
  { code: 'WEST', name: 'Region West' },
];
const FRONT_OFFICE: JobTitle[] = ['front_office', 'office_manager', 'registrar', 'attendance_clerk'];

export type LargeSeedOptions = { schools: number; staff: number; now?: Date; log?: (line: string) => void };
export type LargeSeedResult = { districtId: Types.ObjectId; schoolIds: Types.ObjectId[]; users: number; completions: number; attempts: number; rows: number; seconds: Record<string, number> };

/** Deterministic pseudo-random in [0, 1) from an integer (no Math.random: the same seed gives the same district). */
function noise(n: number): number {
  const x = Math.sin(n * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x);
}

async function insertInBatches(collection: { insertMany(docs: Record<string, unknown>[], options: { ordered: boolean }): Promise<unknown> }, docs: Iterable<Record<string, unknown>>): Promise<number> {
  let batch: Record<string, unknown>[] = [];
  let n = 0;
  for (const doc of docs) {
    batch.push(doc);
    if (batch.length === BATCH) {
      await collection.insertMany(batch, { ordered: false });
      n += batch.length;
      batch = [];
    }
  }
  if (batch.length) await collection.insertMany(batch, { ordered: false });
  return n + batch.length;
}

export async function seedLarge(options: LargeSeedOptions): Promise<LargeSeedResult> {
  const now = options.now ?? new Date();
  const log = options.log ?? (() => undefined);
  const seconds: Record<string, number> = {};
  let t0 = Date.now();
  const lap = (name: string) => {
    seconds[name] = (Date.now() - t0) / 1000;
    log(`  ${name}: ${seconds[name].toFixed(1)} s`);
    t0 = Date.now();
  };

  if (!(await TrainingModule.exists({}))) await prepareTrainingContent();
  const versions = new Map((await TrainingModule.find({}, { slug: 1, version: 1 }).sort({ version: 1 }).lean()).map((m) => [m.slug, m.version]));
  const district = await District.findOneAndUpdate(
    { slug: LARGE_DISTRICT_SLUG },
    { $set: { name: 'Large Demo District', timeZone: 'America/Los_Angeles', jurisdiction: 'California' } },
    { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
  ).orFail();
  const districtId = district._id;
  // Re-running replaces this district's records only (its old compliance rows go in the final rebuild).
  await Promise.all([
    School.deleteMany({ district: districtId }),
    Region.deleteMany({ district: districtId }),
    User.deleteMany({ district: districtId }),
    Assignment.deleteMany({ district: districtId }),
    Attempt.deleteMany({ district: districtId }),
    Completion.deleteMany({ district: districtId }),
    deleteDecisionTallies(districtId),
  ]);
  lap('cleared');

  const regionIds = REGIONS.map(() => new Types.ObjectId());
  await Region.collection.insertMany(REGIONS.map((r, i) => ({ _id: regionIds[i], district: districtId, code: r.code, name: r.name, contacts: {}, createdAt: now, updatedAt: now })));
  const schoolIds = Array.from({ length: options.schools }, () => new Types.ObjectId());
  // Schools in contiguous runs per region; one in 130 (a new school) has none yet, so the "no region" row shows too.
  const regionOf = (i: number) => (i % 130 === 129 ? {} : { region: regionIds[Math.floor((i * REGIONS.length) / options.schools)] });
  await insertInBatches(
    School.collection,
    schoolIds.map((_id, i) => ({ _id, district: districtId, code: `L${String(i + 1).padStart(4, '0')}`, name: `${LAST[i % LAST.length]} ${['Elementary', 'Middle', 'High', 'K-8'][i % 4]} #${i + 1}`, active: true, ...regionOf(i), createdAt: now, updatedAt: now })),
  );
  lap('schools');

  const passwordHash = await hashPassword('Demo-Training-2026!');
  const staffIds = Array.from({ length: options.staff }, () => new Types.ObjectId());
  function* people(): Generator<Record<string, unknown>> {
    yield { district: districtId, email: 'admin@large-demo.example', name: 'Large District Admin', role: 'district_admin', schools: [], active: true, preferredLanguage: 'en', passwordHash, createdAt: now, updatedAt: now };
    for (let i = 0; i < options.schools; i += 1) {
      yield { district: districtId, email: `principal${i + 1}@large-demo.example`, name: `Principal ${i + 1}`, employeeId: `P${String(i + 1).padStart(5, '0')}`, role: 'principal', schools: [schoolIds[i]], active: true, preferredLanguage: 'en', passwordHash, createdAt: now, updatedAt: now };
    }
    for (let i = 0; i < options.staff; i += 1) {
      const jobTitle = JOBS[i % JOBS.length];
      const home = schoolIds[i % options.schools];
      // Bus drivers and substitutes serve two schools.
      const schools = (jobTitle === 'bus_driver' || jobTitle === 'substitute_teacher') && options.schools > 1 ? [home, schoolIds[(i + 1) % options.schools]] : [home];
      yield {
        _id: staffIds[i],
        district: districtId,
        email: `staff${i + 1}@large-demo.example`,
        name: `${LAST[Math.floor(noise(i) * LAST.length)]}, ${FIRST[i % FIRST.length]} ${i + 1}`,
        employeeId: `E${String(i + 1).padStart(6, '0')}`,
        role: 'staff',
        jobTitle,
        schools,
        active: noise(i + 0.5) > 0.01,
        startDate: new Date(now.getTime() - Math.floor(noise(i + 0.25) * 6000) * DAY),
        preferredLanguage: i % 3 === 0 ? 'es' : 'en',
        passwordHash,
        createdAt: now,
        updatedAt: now,
      };
    }
  }
  const users = await insertInBatches(User.collection, people());
  lap('users');

  const today = localDateOf(now, 'America/Los_Angeles');
  const assignments = [
    { moduleSlug: 'foundations', audience: { roles: ['staff', 'principal'], jobTitles: [], schools: [] }, due: { kind: 'fixed', date: addDays(today, -30) }, recurrence: { kind: 'annual' } },
    { moduleSlug: 'classroom', audience: { roles: ['staff'], jobTitles: ['teacher', 'substitute_teacher', 'paraeducator', 'counselor'], schools: [] }, due: { kind: 'fixed', date: addDays(today, 60) }, recurrence: { kind: 'none' } },
    { moduleSlug: 'front-office', audience: { roles: ['staff'], jobTitles: FRONT_OFFICE, schools: [] }, due: { kind: 'relative', days: 30 }, recurrence: { kind: 'school_year', cycleEnd: '06-30' } },
  ].filter((a) => versions.has(a.moduleSlug));
  await Assignment.insertMany(assignments.map((a) => ({ ...a, district: districtId, minVersion: 1, status: 'active', createdAt: new Date(now.getTime() - 90 * DAY) })), { timestamps: false } as never);
  lap('assignments');

  // Answers: a few dozen plays of each module through its graph (passing and failing ones), shared out by
  // noise, so finished attempts carry real decisions and scores that follow from them.
  const catalog = await loadModuleCatalog(DEFAULT_MODULES_DIR);
  const PLAYS = 24;
  const plays = new Map<string, { passed: SimulatedPlay[]; failed: SimulatedPlay[]; start: PlayPosition }>();
  for (const a of assignments) {
    const content = catalog.get(a.moduleSlug, versions.get(a.moduleSlug) ?? 1)?.content;
    if (!content) continue;
    const epoch = new Date(0);
    plays.set(a.moduleSlug, {
      start: initialPosition(content),
      passed: Array.from({ length: PLAYS }, (_, k) => simulateOutcome(content, true, 1_000 + k, epoch)),
      failed: Array.from({ length: PLAYS / 4 }, (_, k) => simulateOutcome(content, false, 9_000 + k, epoch)),
    });
  }
  const shifted = (play: SimulatedPlay, startedAt: Date) => play.decisions.map((d) => ({ ...d, at: new Date(startedAt.getTime() + d.at.getTime()) }));

  // Progress: about 62% passed (a few lapsed), 10% started, 4% failed, the rest nothing yet.
  let attempts = 0;
  let completions = 0;
  const attemptDocs: Record<string, unknown>[] = [];
  const completionDocs: Record<string, unknown>[] = [];
  const flush = async (force: boolean) => {
    if (attemptDocs.length >= BATCH || (force && attemptDocs.length)) {
      await Attempt.collection.insertMany(attemptDocs.splice(0), { ordered: false });
    }
    if (completionDocs.length >= BATCH || (force && completionDocs.length)) {
      await Completion.collection.insertMany(completionDocs.splice(0), { ordered: false });
    }
  };
  for (let i = 0; i < options.staff; i += 1) {
    const jobTitle = JOBS[i % JOBS.length];
    for (const [k, a] of assignments.entries()) {
      if (a.audience.jobTitles.length && !a.audience.jobTitles.includes(jobTitle)) continue;
      const x = noise(i * 7 + k);
      if (x >= 0.76) continue;
      const version = versions.get(a.moduleSlug) ?? 1;
      const daysAgo = x < 0.04 && a.moduleSlug === 'foundations' ? 370 + Math.floor(noise(i + k) * 90) : 1 + Math.floor(noise(i * 3 + k) * 330);
      const startedAt = new Date(now.getTime() - daysAgo * DAY);
      const base = { user: staffIds[i], district: districtId, school: schoolIds[i % options.schools], moduleSlug: a.moduleSlug, moduleVersion: version, decisions: [], points: 0, maxPoints: 0, createdAt: startedAt, updatedAt: startedAt };
      const attemptId = new Types.ObjectId();
      const status = x < 0.62 ? 'passed' : x < 0.72 ? 'in_progress' : 'failed';
      const pool = plays.get(a.moduleSlug);
      const candidates = status === 'passed' ? pool?.passed : pool?.failed;
      const play = status === 'in_progress' || !candidates ? undefined : candidates[Math.floor(noise(i * 5 + k + 0.3) * candidates.length)];
      const score = play?.score;
      attemptDocs.push({
        _id: attemptId,
        ...base,
        status,
        startedAt,
        ...(play
          ? { decisions: shifted(play, startedAt), points: play.points, maxPoints: play.maxPoints, position: play.position, finishedAt: new Date(startedAt.getTime() + play.finishedAt.getTime()), score }
          : { position: pool?.start }),
      });
      attempts += 1;
      if (status === 'passed') {
        completionDocs.push({ user: staffIds[i], district: districtId, school: base.school, moduleSlug: a.moduleSlug, moduleVersion: version, attempt: attemptId, score, completedAt: startedAt, certificateCode: `LG${attemptId.toHexString().toUpperCase()}`, createdAt: startedAt, updatedAt: startedAt });
        completions += 1;
      }
      await flush(false);
    }
  }
  await flush(true);
  lap('attempts and completions');

  const { rows } = await rebuildDistrictCompliance(districtId);
  lap('compliance rebuild');
  // The attempts were written straight through the driver: the decision insights' tallies are counted from them.
  await rebuildDistrictDecisionTallies(districtId);
  lap('decision tallies');
  return { districtId, schoolIds, users, completions, attempts, rows, seconds };
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

if (require.main === module) {
  void (async () => {
    const config = loadConfig();
    if (config.isProduction) throw new Error('Refusing to seed demo data when NODE_ENV=production.');
    const schools = argValue('schools', 1300);
    const staff = argValue('staff', 74000);
    const db = await connectDatabase({ mongodbUri: config.mongodbUri, embeddedDataDir: path.join(config.dataDir, 'db') });
    try {
      await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
      process.stdout.write(`Seeding "Large Demo District": ${schools} schools, ${staff} staff…\n`);
      const started = Date.now();
      const result = await seedLarge({ schools, staff, log: (line) => process.stdout.write(`${line}\n`) });
      process.stdout.write(
        `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.users} people, ${result.attempts} attempts, ${result.completions} completions, ${result.rows} compliance rows.\n` +
          'Sign in as admin@large-demo.example or principal1@large-demo.example (password Demo-Training-2026!).\n',
      );
    } finally {
      await db.close();
    }
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
