/**
 * Demo assignments and a realistic mix of progress for the demo district, so the principal and
 * district pages show something real: completions with certificates (some lapsed), attempts in
 * progress, people who have not started (overdue where the deadline has passed). The classroom module shows
 * a content update: its assignment was raised to version 2 when that version was published, so people who
 * hold only version 1 are "outdated" and offered the update; some have already passed it. Idempotent:
 * assignments are upserted by module, progress is only written into a district that has none, and
 * compliance is rebuilt from the records at the end (which is itself idempotent).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import { Assignment, addDays, assignmentCreatedDetails, localDateOf, rebuildDistrictCompliance, type AssignmentCreateInput } from '../src/components/assignments';
import { Attempt, Completion } from '../src/components/completions';
import { AuditEvent } from '../src/components/audit';
import { rebuildDistrictDecisionTallies } from '../src/components/reports';
import { loadModuleCatalog } from '../src/components/content';
import { DEFAULT_MODULES_DIR, TrainingModule, prepareTrainingContent } from '../src/components/training';
import { simulateOutcome } from './simulate-play';
import { initialPosition } from '../src/components/training/training.progress';
import { playContent } from '../src/components/training/training.update';
import { User } from '../src/components/users';

const DAY = 86_400_000;
const TIME_ZONE = 'America/Los_Angeles';

type DemoAssignment = {
  moduleSlug: string;
  roles: AssignmentCreateInput['roles'];
  jobTitles: AssignmentCreateInput['jobTitles'];
  due: { kind: 'fixed'; daysFromNow: number } | { kind: 'relative'; days: number };
  recurrence: { kind: 'none' | 'annual' } | { kind: 'school_year'; cycleEnd: string };
  /** Set up requiring version 1, raised to the module's latest version this many days ago (when it was published). */
  raisedToLatestDaysAgo?: number;
};

const ASSIGNMENTS: DemoAssignment[] = [
  // Everyone who meets the public: due three weeks ago, renewed every year.
  { moduleSlug: 'foundations', roles: ['staff', 'principal'], jobTitles: [], due: { kind: 'fixed', daysFromNow: -21 }, recurrence: { kind: 'annual' } },
  { moduleSlug: 'front-office', roles: ['staff'], jobTitles: ['front_office', 'office_manager', 'registrar', 'attendance_clerk'], due: { kind: 'relative', days: 30 }, recurrence: { kind: 'school_year', cycleEnd: '06-30' } },
  // Version 2 added a scenario (modules/classroom/v2.yaml): holders of version 1 take only that scenario.
  { moduleSlug: 'classroom', roles: ['staff'], jobTitles: ['teacher', 'substitute_teacher', 'paraeducator', 'counselor'], due: { kind: 'fixed', daysFromNow: 45 }, recurrence: { kind: 'none' }, raisedToLatestDaysAgo: 12 },
  { moduleSlug: 'site-leadership', roles: ['principal'], jobTitles: [], due: { kind: 'fixed', daysFromNow: -7 }, recurrence: { kind: 'annual' } },
];

/** Named demo accounts get a fixed story; everyone else a deterministic mix from their email. */
const STORIES: Record<string, Record<string, Progress>> = {
  // Holds classroom v1 only: outdated, offered "Start the update" on /training.
  'teacher.lincoln@demo-usd.example': { foundations: 'none', classroom: 'outdated' },
  // A Lincoln teacher who passed the classroom update: her certificate reads "Version 2 (update from version 1)".
  'maria.guadalupe.ramirez@demo-usd.example': { classroom: 'updated' },
  'frontoffice.lincoln@demo-usd.example': { foundations: 'passed', 'front-office': 'started' },
  'principal.lincoln@demo-usd.example': { foundations: 'passed', 'site-leadership': 'none' },
};

/** outdated: passed the version before the latest only; updated: passed it, then the latest version's update path. */
type Progress = 'none' | 'started' | 'failed' | 'passed' | 'lapsed' | 'outdated' | 'updated';

function bucket(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 0xffffffff;
}

/**
 * About 55% passed (within the year), 8% passed over a year ago (lapsed), 12% started, 5% failed once, 20% nothing.
 * On an assignment raised to a new version, those who passed mostly did so before it: about half of them still
 * hold only the earlier version, a quarter passed the update, a quarter played the new version whole.
 */
function progressFor(email: string, slug: string, isRaised: boolean): Progress {
  const story = STORIES[email]?.[slug];
  if (story) return story;
  const x = bucket(`${email}:${slug}`);
  if (x < 0.63 && isRaised) {
    const y = bucket(`${email}:${slug}:version`);
    return y < 0.5 ? 'outdated' : y < 0.75 ? 'updated' : 'passed';
  }
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
    const latest = published.get(a.moduleSlug)!;
    const minVersion = a.raisedToLatestDaysAgo !== undefined ? latest : rules.minVersion;
    const written = await Assignment.updateOne(
      { district: districtId, moduleSlug: a.moduleSlug, status: 'active' },
      {
        $setOnInsert: {
          audience: { roles: rules.roles, jobTitles: rules.jobTitles, schools: [] },
          due: rules.due,
          recurrence: rules.recurrence,
          minVersion,
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
      if (minVersion !== rules.minVersion) {
        // The administrator raised the assignment to the new version the day it was published (the edit form's event).
        events.push({
          district: districtId,
          actor: admin?._id,
          action: 'assignment.updated',
          target: { kind: 'assignment', id: String(written.upsertedId) },
          details: { ...assignmentCreatedDetails({ ...rules, minVersion }), fromMinVersion: rules.minVersion },
          at: new Date(now.getTime() - a.raisedToLatestDaysAgo! * DAY),
        });
      }
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
        const raised = a.raisedToLatestDaysAgo;
        const progress = progressFor(user.email, a.moduleSlug, raised !== undefined);
        if (progress === 'none') continue;
        // Who holds the earlier version passed it before the new one was published; the rest played the new one since.
        const holdsEarlier = progress === 'outdated' || progress === 'updated';
        const playedVersion = holdsEarlier ? version - 1 : version;
        const base = { user: user._id, district: districtId, school: user.schools?.[0], moduleSlug: a.moduleSlug, moduleVersion: playedVersion };
        const spread = bucket(`${user.email}:${a.moduleSlug}:d`);
        const daysAgo =
          progress === 'lapsed'
            ? 380 + Math.floor(bucket(user.email) * 60)
            : raised === undefined
              ? 2 + Math.floor(spread * 300)
              : holdsEarlier
                ? raised + 3 + Math.floor(spread * 200)
                : 1 + Math.floor(spread * (raised - 2));
        const startedAt = new Date(now.getTime() - daysAgo * DAY - 40 * 60_000);
        const content = catalog.get(a.moduleSlug, playedVersion)?.content;
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
        const latest = catalog.get(a.moduleSlug, version);
        if (progress !== 'updated' || !latest || raised === undefined) continue;
        // The update path of the new version (only its listed scenarios), passed since it was published.
        const updateStartedAt = new Date(now.getTime() - (1 + Math.floor(bucket(`${user.email}:${a.moduleSlug}:u`) * (raised - 2))) * DAY - 15 * 60_000);
        const update = simulateOutcome(playContent(latest, playedVersion), true, Math.floor(bucket(`${user.email}:${a.moduleSlug}:update`) * 2 ** 31), updateStartedAt);
        attempts.push({
          ...base,
          moduleVersion: version,
          updateFrom: playedVersion,
          decisions: update.decisions,
          points: update.points,
          maxPoints: update.maxPoints,
          position: update.position,
          score: update.score,
          startedAt: updateStartedAt,
          finishedAt: update.finishedAt,
          status: 'passed',
        });
        completions.push({
          ...base,
          moduleVersion: version,
          method: 'update',
          updatedFrom: playedVersion,
          // The recertification clock stays the one of the full completion (docs/compliance.md).
          recertifiedAt: play.finishedAt,
          attemptIndex: attempts.length - 1,
          score: update.score,
          completedAt: update.finishedAt,
          certificateCode: certificateCode(),
        });
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
        details: {
          moduleSlug: c.moduleSlug,
          moduleVersion: c.moduleVersion,
          score: c.score,
          attempt: String(c.attempt),
          isRenewal: false,
          ...(c.method === 'update' ? { method: 'update', updatedFrom: c.updatedFrom } : {}),
        },
        at: c.completedAt,
      });
    }
  }
  events.sort((x, y) => (x.at as Date).getTime() - (y.at as Date).getTime());
  if (events.length) await AuditEvent.insertMany(events);
  await rebuildDistrictCompliance(districtId);
  // Attempts written here, not by the player: count them into the decision insights' tallies.
  await rebuildDistrictDecisionTallies(districtId);
}
