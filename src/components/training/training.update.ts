import type { BilingualText, LoadedModuleVersion, Scenario, TrainingModuleContent, UpdatePath } from '../content';
import { recertifiedAtOf } from '../assignments';

/**
 * The update path (docs/content-format.md, `updates:`): someone whose best completion of a module is a
 * version the latest version declares an update from plays only the listed scenarios of the latest
 * version instead of the whole module. Pure: the player plays the derived content with the same state
 * machine (training.progress), so every guarantee of the full player holds for an update attempt too.
 */

/** What a person's completions tell about an update: the fields of a Completion it needs. */
export type HeldCompletion = Readonly<{ moduleVersion: number; completedAt: Date; method?: string | null; recertifiedAt?: Date | null; revokedAt?: Date | null }>;

export type UpdateOffer = Readonly<{
  /** The version the person holds (the path's `from`) and the version the update completes. */
  from: number;
  version: number;
  note: BilingualText;
  scenarios: readonly Scenario[];
  estimatedMinutes: number;
  /** The recertification clock the update completion would carry: the base's (docs/compliance.md). */
  recertifiedAt: Date;
}>;

/** The update path of `module` from version `from`, if the author declared one. */
export function findUpdatePath(module: LoadedModuleVersion, from: number): UpdatePath | undefined {
  return module.content.updates?.find((update) => update.from === from);
}

/** The listed scenarios, in the module's order (the order of the list does not matter). */
export function updateScenarios(module: LoadedModuleVersion, update: UpdatePath): Scenario[] {
  const listed = new Set(update.scenarios);
  return module.content.scenarios.filter((scenario) => listed.has(scenario.id));
}

/** The author's estimate, or the module's time scaled by the share of scenarios played (at least 1 minute). */
export function updateMinutes(module: LoadedModuleVersion, update: UpdatePath): number {
  if (update.estimatedMinutes !== undefined) return update.estimatedMinutes;
  const share = updateScenarios(module, update).length / module.content.scenarios.length;
  return Math.max(1, Math.round(module.content.estimatedMinutes * share));
}

/**
 * The update `latest` offers a person: none when they hold (unrevoked) the latest version already, hold
 * nothing, or their best (highest) version has no declared path — then it is the whole module.
 */
export function updateOfferFor(latest: LoadedModuleVersion, completions: readonly HeldCompletion[]): UpdateOffer | undefined {
  let best: HeldCompletion | undefined;
  for (const completion of completions) {
    if (completion.revokedAt) continue;
    if (best === undefined || completion.moduleVersion > best.moduleVersion) best = completion;
  }
  if (best === undefined || best.moduleVersion >= latest.version) return undefined;
  const update = findUpdatePath(latest, best.moduleVersion);
  if (!update) return undefined;
  return {
    from: best.moduleVersion,
    version: latest.version,
    note: update.note,
    scenarios: updateScenarios(latest, update),
    estimatedMinutes: updateMinutes(latest, update),
    recertifiedAt: recertifiedAtOf(best),
  };
}

// Derived content per (module version, from): versions are immutable and loaded once, so this is built once.
const derived = new WeakMap<LoadedModuleVersion, Map<number, TrainingModuleContent>>();

/**
 * What an attempt plays: the whole module, or for an update attempt the module with only the listed
 * scenarios (scenario indexes of an update attempt count within these). Throws for an update path the
 * version does not declare (never for stored attempts: content is immutable per version).
 */
export function playContent(module: LoadedModuleVersion, updateFrom?: number | null): TrainingModuleContent {
  if (updateFrom === undefined || updateFrom === null) return module.content;
  let byFrom = derived.get(module);
  if (!byFrom) {
    byFrom = new Map();
    derived.set(module, byFrom);
  }
  let content = byFrom.get(updateFrom);
  if (!content) {
    const update = findUpdatePath(module, updateFrom);
    if (!update) throw new Error(`${module.file} declares no update from version ${updateFrom}`);
    content = Object.freeze({ ...module.content, scenarios: updateScenarios(module, update) });
    byFrom.set(updateFrom, content);
  }
  return content;
}
