/** Test data for assignments and reports: published module versions, completions, attempts, assignments. */
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { Assignment, syncAssignment, syncComplianceForUsers } from '../../../src/components/assignments';
import { Attempt, Completion } from '../../../src/components/completions';
import { TrainingModule } from '../../../src/components/training';

export async function publishModule(slug: string, versions: number[], title = slug): Promise<void> {
  for (const version of versions) {
    await TrainingModule.updateOne(
      { slug, version },
      { $set: { contentHash: `hash-${slug}-${version}`, title: { en: `${title} (EN)`, es: `${title} (ES)` }, publishedAt: new Date() } },
      { upsert: true },
    );
  }
}

type Ref = { _id: Types.ObjectId };
type Person = Ref & { district: Types.ObjectId; schools?: Types.ObjectId[] | null };

export async function createAssignment(
  district: Ref,
  overrides: {
    moduleSlug?: string;
    roles?: string[];
    jobTitles?: string[];
    schools?: Ref[];
    due?: { kind: 'fixed'; date: string } | { kind: 'relative'; days: number };
    recurrence?: { kind: 'none' | 'annual' } | { kind: 'school_year'; cycleEnd: string };
    minVersion?: number;
  } = {},
) {
  const assignment = await Assignment.create({
    district: district._id,
    moduleSlug: overrides.moduleSlug ?? 'foundations',
    audience: { roles: overrides.roles ?? ['staff'], jobTitles: overrides.jobTitles ?? [], schools: (overrides.schools ?? []).map((s) => s._id) },
    due: overrides.due ?? { kind: 'fixed', date: '2099-06-30' },
    recurrence: overrides.recurrence ?? { kind: 'none' },
    minVersion: overrides.minVersion ?? 1,
  });
  await syncAssignment(assignment._id);
  return assignment;
}

/** A passed attempt and its completion, then the compliance sync the training player triggers. */
export async function complete(user: Person, moduleSlug: string, version: number, completedAt: Date, score = 92) {
  const attempt = await Attempt.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0] ?? undefined,
    moduleSlug,
    moduleVersion: version,
    status: 'passed',
    position: { scenarioIndex: 0, nodeId: 'end' },
    score,
    startedAt: completedAt,
    finishedAt: completedAt,
  });
  const completion = await Completion.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0] ?? undefined,
    moduleSlug,
    moduleVersion: version,
    attempt: attempt._id,
    score,
    completedAt,
    certificateCode: randomBytes(10).toString('hex').toUpperCase(),
  });
  await syncComplianceForUsers([String(user._id)]);
  return completion;
}

export async function startAttempt(user: Person, moduleSlug: string, version = 1) {
  await Attempt.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0] ?? undefined,
    moduleSlug,
    moduleVersion: version,
    status: 'in_progress',
    position: { scenarioIndex: 0, nodeId: 'start' },
  });
  await syncComplianceForUsers([String(user._id)]);
}

export const oid = () => new Types.ObjectId();
