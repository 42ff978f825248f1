import path from 'node:path';
import { createModuleCatalog, findEditedVersions, formatProblem, loadModules, type LoadedModuleVersion, type ModuleCatalog } from '../content';
import { AppError } from '../../shared/errors';
import { TrainingModule } from './training-module.model';

/** The repository's modules/ folder. */
export const DEFAULT_MODULES_DIR = path.resolve(__dirname, '../../../modules');

// Content is immutable per version, so the catalog is loaded once at start and shared by every request.
let catalog: ModuleCatalog | undefined;

export class TrainingContentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Training content cannot be used (${problems.length} problem(s)); the server will not start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TrainingContentError';
  }
}

/**
 * Validates every module file and records each (slug, version, contentHash) as published. Throws a
 * TrainingContentError listing every `file: path: reason` when a file is invalid, when a published version
 * was edited in place, or when a published version's file was removed (its attempts and certificates
 * still point at it). Called by the server before it listens; tests pass a fixtures directory.
 */
export async function prepareTrainingContent(dir: string = DEFAULT_MODULES_DIR): Promise<ModuleCatalog> {
  const { modules, problems } = await loadModules(dir);
  if (problems.length > 0) throw new TrainingContentError(problems.map(formatProblem));
  const loaded = createModuleCatalog(modules);

  // Upsert-then-compare is atomic per version, so two instances starting together agree on one hash.
  const published = await Promise.all(modules.map((module) => publish(module)));
  const edited = findEditedVersions(loaded, published).map(
    (version) => `${version.file} changed after publication; publish it as v${nextVersion(loaded, version.slug)} with a changelog line`,
  );
  const missing = (await TrainingModule.find({}, { slug: 1, version: 1 }).lean())
    .filter((record) => !loaded.get(record.slug, record.version))
    .map((record) => `${path.basename(dir)}/${record.slug}/v${record.version}.yaml was published and is missing; published versions cannot be removed`);
  const refusals = [...edited, ...missing];
  if (refusals.length > 0) throw new TrainingContentError(refusals);

  catalog = loaded;
  return loaded;
}

async function publish(module: LoadedModuleVersion): Promise<{ slug: string; version: number; contentHash: string }> {
  const record = await TrainingModule.findOneAndUpdate(
    { slug: module.slug, version: module.version },
    {
      $setOnInsert: {
        slug: module.slug,
        version: module.version,
        contentHash: module.contentHash,
        title: { en: module.content.title.en, es: module.content.title.es },
        publishedAt: new Date(),
      },
    },
    { upsert: true, returnDocument: 'after', lean: true },
  );
  if (!record) throw new Error(`could not record ${module.file}`);
  return { slug: record.slug, version: record.version, contentHash: record.contentHash };
}

function nextVersion(loaded: ModuleCatalog, slug: string): number {
  return (loaded.getLatest(slug)?.version ?? 0) + 1;
}

/** The loaded catalog; the player cannot run before prepareTrainingContent() succeeded. */
export function getCatalog(): ModuleCatalog {
  if (!catalog) throw new AppError(503, 'content_not_ready', 'Training content is not loaded');
  return catalog;
}

/** A module version the learner can play, or 404. */
export function getModuleVersion(slug: string, version?: number): LoadedModuleVersion {
  const found = version === undefined ? getCatalog().getLatest(slug) : getCatalog().get(slug, version);
  if (!found) throw new AppError(404, 'not_found', 'Not found');
  return found;
}
