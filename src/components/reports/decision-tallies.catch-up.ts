/**
 * Builds the decision tallies (components/completions/decision-tallies.ts) that do not exist yet — for every
 * district and published module version without a build marker — at start-up, in the background (the page
 * also builds a missing one on its first view). `npm run tallies:rebuild` recounts them all (or one district's)
 * from the attempts: after attempts were written or deleted outside the player (an import, a restore, a manual
 * repair). Both are safe while attempts finish.
 */
import { Types } from 'mongoose';
import { logger } from '../../shared/logger';
import { isDecisionTallyBuilt, rebuildDecisionTallies } from '../completions';
import { District } from '../districts';
import { TrainingModule } from '../training';

export type CatchUpOptions = Readonly<{ district?: string | Types.ObjectId; force?: boolean; isStopped?: () => boolean }>;
export type CatchUpResult = { built: number; attempts: number };

export async function catchUpDecisionTallies(options: CatchUpOptions = {}): Promise<CatchUpResult> {
  const [districts, versions] = await Promise.all([
    District.find(options.district ? { _id: new Types.ObjectId(String(options.district)) } : {}, { _id: 1 }).lean(),
    TrainingModule.find({}, { _id: 0, slug: 1, version: 1 }).sort({ slug: 1, version: 1 }).lean(),
  ]);
  const result: CatchUpResult = { built: 0, attempts: 0 };
  for (const district of districts) {
    for (const v of versions) {
      if (options.isStopped?.()) return result;
      const scope = { district: district._id, moduleSlug: v.slug, moduleVersion: v.version };
      if (!options.force && (await isDecisionTallyBuilt(scope))) continue;
      const rebuilt = await rebuildDecisionTallies(scope);
      result.built += 1;
      result.attempts += rebuilt.attempts;
    }
  }
  return result;
}

/** A seed or import that wrote a district's attempts directly: recount all its tallies. */
export function rebuildDistrictDecisionTallies(district: string | Types.ObjectId): Promise<CatchUpResult> {
  return catchUpDecisionTallies({ district, force: true });
}

/** The start-up catch-up, in the background: `stop()` lets the current version finish and skips the rest. */
export function startDecisionTallyCatchUp(): { stop(): Promise<void> } {
  let stopped = false;
  const done = catchUpDecisionTallies({ isStopped: () => stopped }).then(
    (r) => {
      if (r.built > 0) logger.info({ versions: r.built, attempts: r.attempts }, 'decision tallies built from the attempts');
    },
    (err: unknown) => {
      if (!stopped) logger.error({ err }, 'decision tallies catch-up failed; the insights page builds a missing one on its first view');
    },
  );
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}
