/**
 * Demo assignments and a realistic mix of progress for the demo district, so the principal and
 * district pages show something real: completions with certificates (some lapsed), attempts in
 * progress, people who have not started (overdue where the deadline has passed). Idempotent:
 * assignments are upserted by module, progress is only written into a district that has none, and
 * compliance is rebuilt from the records at the end (which is itself idempotent).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { Assignment, addDays, assignmentCreatedDetails, localDateOf, rebuildDistrictCompliance, type AssignmentCreateInput } from '../src/components/assignments';
import { Attempt, Completion } from '../src/components/completions';
import { AuditEvent } from '../src/components/audit';
import { loadModuleCatalog } from '../src/components/content';
import { DEFAULT_MODULES_DIR, TrainingModule, prepareTrainingContent } from '../src/components/training';
import { simulateOutcome } from './simulate-play';
import { initialPosition } from '../src/components/training/training.progress';
import { User } from '../src/components/users';

const DAY = 86_400_000;
const TIME_ZONE = 'America/Los_Angeles';

type DemoAssignment = {
  moduleSlug: string;
  roles: AssignmentCreateInput['roles'];
  jobTitles: AssignmentCreateInput['jobTitles'];
  due: { kind: 'fixed'; daysFromNow: number } | { kind: 'relative'; days: number };
  recurrence: { kind: 'none' | 'annual' } | { kind: 'school_year'; cycleEnd: string };
};

const ASSIGNMENTS: DemoAssignment[] = [
  // Everyone who meets the public: due three weeks ago, renewed every year.
  { moduleSlug: 'foundations', roles: ['staff', 'principal'], jobTitles: [], due: { kind: 'fixed', daysFromNow: -21 }, recurrence: { kind: 'annual' } },
  { moduleSlug: 'front-office', roles: ['staff'], jobTitles: ['front_office', 'office_manager', 'registrar', 'attendance_clerk'], due: { kind: 'relative', days: 30 }, recurrence: { kind: 'school_year', cycleEnd: '06-30' } },
  { moduleSlug: 'classroom', roles: ['staff'], jobTitles: ['teacher', 'substitute_teacher', 'paraeducator', 'counselor'], due: { kind: 'fixed', daysFromNow: 45 }, recurrence: { kind: 'none' } },
  { moduleSlug: 'site-leadership', roles: ['principal'], jobTitles: [], due: { kind: 'fixed', daysFromNow: -7 }, recurrence: { kind: 'annual' } },
];

/** Named demo accounts get a fixed story; everyone else a deterministic mix from their email. */
const STORIES: Record<string, Record<string, Progress>> = {
  'teacher.lincoln@demo-usd.example': { foundations: 'none', classroom: 'none' },
  'frontoffice.lincoln@demo-usd.example': { foundations: 'passed', 'front-office': 'started' },
  'principal.lincoln@demo-usd.example': { foundations: 'passed', 'site-leadership': 'none' },
};

type Progress = 'none' | 'started' | 'failed' | 'passed' | 'lapsed';

function bucket(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 0xffffffff;
}

/** About 55% passed (within the year), 8% passed over a year ago (lapsed), 12% started, 5% failed once, 20% nothing. */
function progressFor(email: string, slug: string): Progress {
  const story = STORIES[email]?.[slug];
  if (story) return story;
  const x = bucket(`${email}:${slug}`);
  if (x < 0.55) return 'passed';
  if (x < 0.63) return slug === 'foundations' ? 'lapsed' : 'passed';
  if (x < 0.75) return 'started';
  if (x < 0.8) return 'failed';
  return 'none';
}

function certificateCode(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let code = '';
  for (const byte of randomBytes(16)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      code += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) code += alphabet[(value << (5 - bits)) & 31];
  return code;
}

export async function seedDemoTraining(districtId: Types.ObjectId, now = new Date()): Promise<void> {
  // `npm run seed` on an empty database: publish the module versions first (validated, idempotent).
  if (!(await TrainingModule.exists({}))) await prepareTrainingContent();
  const published = new Map((await TrainingModule.find({}, { slug: 1, version: 1 }).sort({ version: 1 }).lean()).map((m) => [m.slug, m.version]));
  const today = localDateOf(now, TIME_ZONE);
  // The audit log tells the demo's story the way the app would have written it: who set up each assignment,
  // and each completion (written oldest first, so the hash chain follows time).
  const admin = await User.findOne({ district: districtId, role: 'district_admin' }, { _id: 1 }).sort({ _id: 1 }).lean();
  const events: Record<string, unknown>[] = [];
  for (const a of ASSIGNMENTS) {
    if (!published.has(a.moduleSlug)) continue;
    const createdAt = new Date(now.getTime() - 60 * DAY);
    // The rules as the assignment form gives them to the service: the record and its audit event are built from them.
    const rules: AssignmentCreateInput = {
      moduleSlug: a.moduleSlug,
      roles: a.roles,
      jobTitles: a.jobTitles,
      schoolCodes: [],
      due: a.due.kind === 'fixed' ? { kind: 'fixed', date: addDays(today, a.due.daysFromNow) } : { kind: 'relative', days: a.due.days },
      recurrence: a.recurrence,
      minVersion: 1,
    };
    const written = await Assignment.updateOne(
      { district: districtId, moduleSlug: a.moduleSlug, status: 'active' },
      {
        $setOnInsert: {
          audience: { roles: rules.roles, jobTitles: rules.jobTitles, schools: [] },
          due: rules.due,
          recurrence: rules.recurrence,
          minVersion: rules.minVersion,
          createdAt,
          updatedAt: now,
        },
      },
      { upsert: true, timestamps: false },
    );
    if (written.upsertedId) {
      // Dated when the demo says it was set up (recordAudit stamps now): the same details the service records.
      events.push({
        district: districtId,
        actor: admin?._id,
        action: 'assignment.created',
        target: { kind: 'assignment', id: String(written.upsertedId) },
        details: assignmentCreatedDetails(rules),
        at: createdAt,
      });
    }
  }

  if (!(await Attempt.exists({ district: districtId }))) {
    const users = await User.find({ district: districtId, active: true, role: { $in: ['staff', 'principal'] } }, { email: 1, role: 1, jobTitle: 1, schools: 1 }).lean();
    const catalog = await loadModuleCatalog(DEFAULT_MODULES_DIR);
    const attempts: Record<string, unknown>[] = [];
    const completions: Record<string, unknown>[] = [];
    for (const user of users) {
      for (const a of ASSIGNMENTS) {
        const version = published.get(a.moduleSlug);
        if (!version) continue;
        if (!a.roles.includes(user.role) || (a.jobTitles.length && !a.jobTitles.includes(user.jobTitle ?? ''))) continue;
        const progress = progressFor(user.email, a.moduleSlug);
        if (progress === 'none') continue;
        const base = { user: user._id, district: districtId, school: user.schools?.[0], moduleSlug: a.moduleSlug, moduleVersion: version };
        const daysAgo = progress === 'lapsed' ? 380 + Math.floor(bucket(user.email) * 60) : 2 + Math.floor(bucket(`${user.email}:${a.moduleSlug}:d`) * 300);
        const startedAt = new Date(now.getTime() - daysAgo * DAY - 40 * 60_000);
        const content = catalog.get(a.moduleSlug, version)?.content;
        if (!content) continue;
        if (progress === 'started') {
          // At the module's first node, so "Continue" opens the player there.
          attempts.push({ ...base, status: 'in_progress', position: initialPosition(content), startedAt });
          continue;
        }
        // The answers themselves, played through the module's graph: the score follows from them, and the
        // per-decision insights have something real to show.
        const play = simulateOutcome(content, progress !== 'failed', Math.floor(bucket(`${user.email}:${a.moduleSlug}:play`) * 2 ** 31), startedAt);
        const played = { decisions: play.decisions, points: play.points, maxPoints: play.maxPoints, position: play.position, score: play.score, startedAt, finishedAt: play.finishedAt };
        if (progress === 'failed') {
          attempts.push({ ...base, ...played, status: 'failed' });
          continue;
        }
        attempts.push({ ...base, ...played, status: 'passed' });
        completions.push({ ...base, attemptIndex: attempts.length - 1, score: play.score, completedAt: play.finishedAt, certificateCode: certificateCode() });
      }
    }
    const inserted = await Attempt.insertMany(attempts);
    const written = await Completion.insertMany(
      completions.map(({ attemptIndex, ...c }) => ({ ...c, attempt: inserted[attemptIndex as number]._id })),
    );
    for (const c of written) {
      events.push({
        district: districtId,
        actor: c.user,
        action: 'completion.recorded',
        target: { kind: 'completion', id: String(c._id) },
        details: { moduleSlug: c.moduleSlug, moduleVersion: c.moduleVersion, score: c.score, attempt: String(c.attempt), isRenewal: false },
        at: c.completedAt,
      });
    }
  }
  events.sort((x, y) => (x.at as Date).getTime() - (y.at as Date).getTime());
  if (events.length) await AuditEvent.insertMany(events);
  await rebuildDistrictCompliance(districtId);
}
