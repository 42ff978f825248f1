/** Test data for the module pages: the fixture modules plus a second version of fixture-basics, completions, assignments. */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import { Assignment } from '../../../src/components/assignments';
import { Completion } from '../../../src/components/completions';
import { prepareTrainingContent } from '../../../src/components/training';
import { FIXTURE_MODULES } from '../training/player.helpers';

export const V2_CHANGELOG = { en: 'Clarified who to call first.', es: 'Se aclaró a quién llamar primero.' };
export const V2_FEEDBACK = { en: 'Right: escalate to {{principal}} at once.', es: 'Correcto: avise de inmediato a {{principal}}.' };

/**
 * Loads the fixture modules plus fixture-basics v2 (a later "current as of" date, a changelog line, one
 * reworded feedback) from a temporary copy; returns the function that removes the copy.
 */
export async function prepareVersionedModules(): Promise<() => Promise<void>> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sst-modules-admin-'));
  const dir = path.join(workDir, 'modules');
  await cp(FIXTURE_MODULES, dir, { recursive: true });
  const v1 = await readFile(path.join(dir, 'fixture-basics', 'v1.yaml'), 'utf8');
  const v2 = replaceOnce(
    replaceOnce(
      replaceOnce(replaceOnce(v1, 'version: 1\n', 'version: 2\n'), 'currentAsOf: 2026-03-01', 'currentAsOf: 2026-05-01'),
      'note: { en: "First version.", es: "Primera versión." } }\n',
      `note: { en: "First version.", es: "Primera versión." } }\n  - { version: 2, date: 2026-05-01, note: { en: "${V2_CHANGELOG.en}", es: "${V2_CHANGELOG.es}" } }\n`,
    ),
    'feedback: { en: "Right: escalate to {{principal}}.", es: "Correcto: avise a {{principal}}." }',
    `feedback: { en: "${V2_FEEDBACK.en}", es: "${V2_FEEDBACK.es}" }`,
  );
  await writeFile(path.join(dir, 'fixture-basics', 'v2.yaml'), v2);
  await prepareTrainingContent(dir);
  return () => rm(workDir, { recursive: true, force: true });
}

function replaceOnce(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`fixture text not found exactly once: ${from}`);
  return text.replace(from, to);
}

type Person = { _id: Types.ObjectId; district: Types.ObjectId; schools?: Types.ObjectId[] | null };

/** A completion record as the player writes it when an attempt passes (no compliance sync: these pages do not read it). */
export async function createCompletion(user: Person, moduleSlug: string, moduleVersion: number, options: { isRevoked?: boolean } = {}) {
  return Completion.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0] ?? undefined,
    moduleSlug,
    moduleVersion,
    attempt: new Types.ObjectId(),
    score: 90,
    completedAt: new Date('2026-06-01T16:00:00Z'),
    certificateCode: randomBytes(10).toString('hex').toUpperCase(),
    ...(options.isRevoked ? { revokedAt: new Date('2026-06-02T16:00:00Z') } : {}),
  });
}

export async function createAssignment(
  district: { _id: Types.ObjectId },
  overrides: { moduleSlug?: string; minVersion?: number; roles?: string[]; jobTitles?: string[]; schools?: { _id: Types.ObjectId }[]; status?: 'active' | 'archived' } = {},
) {
  return Assignment.create({
    district: district._id,
    moduleSlug: overrides.moduleSlug ?? 'fixture-basics',
    audience: { roles: overrides.roles ?? ['staff'], jobTitles: overrides.jobTitles ?? [], schools: (overrides.schools ?? []).map((s) => s._id) },
    due: { kind: 'relative', days: 30 },
    recurrence: { kind: 'annual' },
    minVersion: overrides.minVersion ?? 1,
    status: overrides.status ?? 'active',
  });
}

/** How many times a pattern occurs in a page. */
export function countOf(html: string, pattern: RegExp): number {
  return html.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))?.length ?? 0;
}

/** The table row (`<tr>…</tr>`) that contains `needle`; fails the test when there is none. */
export function rowWith(html: string, needle: string): string {
  const row = html.split('<tr>').slice(1).map((part) => part.split('</tr>')[0]).find((part) => part.includes(needle));
  if (row === undefined) throw new Error(`no table row contains ${needle}`);
  return row;
}
