import type { LoadedModuleVersion } from './content.loader';
import { loadModules } from './content.loader';
import type { Scenario, ScenarioNode } from './content.schemas';
import type { ContentProblem } from './content.validate';

/** Read-only view of the loaded modules used by the rest of the app. */
export interface ModuleCatalog {
  /** The highest version of every slug, ordered by slug. */
  listLatest(): LoadedModuleVersion[];
  /** Every version of every slug, ordered by slug then version. */
  listAll(): LoadedModuleVersion[];
  /** Every version of one slug, oldest first (empty for an unknown slug). */
  listVersions(slug: string): LoadedModuleVersion[];
  get(slug: string, version: number): LoadedModuleVersion | undefined;
  getLatest(slug: string): LoadedModuleVersion | undefined;
}

export function createModuleCatalog(modules: readonly LoadedModuleVersion[]): ModuleCatalog {
  const bySlug = new Map<string, LoadedModuleVersion[]>();
  for (const module of modules) {
    const versions = bySlug.get(module.slug) ?? [];
    if (versions.some((existing) => existing.version === module.version)) {
      throw new Error(`module ${module.slug} v${module.version} is loaded twice`);
    }
    versions.push(module);
    bySlug.set(module.slug, versions);
  }
  const slugs = [...bySlug.keys()].sort();
  for (const versions of bySlug.values()) versions.sort((a, b) => a.version - b.version);

  return Object.freeze({
    listLatest: () => slugs.map((slug) => bySlug.get(slug)?.at(-1)).filter((module) => module !== undefined),
    listAll: () => slugs.flatMap((slug) => bySlug.get(slug) ?? []),
    listVersions: (slug: string) => [...(bySlug.get(slug) ?? [])],
    get: (slug: string, version: number) => bySlug.get(slug)?.find((module) => module.version === version),
    getLatest: (slug: string) => bySlug.get(slug)?.at(-1),
  });
}

/** Thrown at start-up when a module file is invalid: the server must not run with broken content. */
export class ContentLoadError extends Error {
  constructor(readonly problems: ContentProblem[]) {
    super(`${problems.length} problem(s) in training content:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ContentLoadError';
  }
}

export function formatProblem(problem: ContentProblem): string {
  const where = problem.path !== '' ? problem.path : problem.line !== undefined ? `line ${problem.line}` : '(file)';
  const line = problem.path !== '' && problem.line !== undefined ? ` (line ${problem.line})` : '';
  return `${problem.file}: ${where}: ${problem.reason}${line}`;
}

/** Loads and validates `dir`; throws ContentLoadError listing every problem if any file is invalid. */
export async function loadModuleCatalog(dir: string): Promise<ModuleCatalog> {
  const { modules, problems } = await loadModules(dir);
  if (problems.length > 0) throw new ContentLoadError(problems);
  return createModuleCatalog(modules);
}

export interface PublishedVersionHash {
  slug: string;
  version: number;
  contentHash: string;
}

export interface EditedVersion extends PublishedVersionHash {
  file: string;
  actualHash: string;
}

/**
 * Published versions whose file no longer matches the hash recorded at publication (edited in place).
 * A published version missing from the catalog is not reported here: the caller decides about removals.
 */
export function findEditedVersions(catalog: ModuleCatalog, published: readonly PublishedVersionHash[]): EditedVersion[] {
  const edited: EditedVersion[] = [];
  for (const record of published) {
    const loaded = catalog.get(record.slug, record.version);
    if (loaded && loaded.contentHash !== record.contentHash) {
      edited.push({ ...record, file: loaded.file, actualHash: loaded.contentHash });
    }
  }
  return edited;
}

export function findScenario(module: LoadedModuleVersion, scenarioId: string): Scenario | undefined {
  return module.content.scenarios.find((scenario) => scenario.id === scenarioId);
}

/** A node by scenario and node id; undefined when either is unknown (e.g. a stale or forged form post). */
export function findNode(module: LoadedModuleVersion, scenarioId: string, nodeId: string): ScenarioNode | undefined {
  const scenario = findScenario(module, scenarioId);
  if (!scenario || !Object.hasOwn(scenario.nodes, nodeId)) return undefined;
  return scenario.nodes[nodeId];
}
