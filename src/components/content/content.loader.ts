import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { TrainingModuleContent } from './content.schemas';
import { deepFreeze } from './deep-freeze';
import { parsePath, validateModuleData, type ContentProblem, type ExpectedIdentity } from './content.validate';

/** One published version of a module as loaded from `modules/<slug>/v<version>.yaml`. */
export interface LoadedModuleVersion {
  slug: string;
  version: number;
  /** Display path, e.g. `modules/foundations/v1.yaml`. */
  file: string;
  /** sha256 (hex) of the file bytes; the app stores it at publication and refuses in-place edits. */
  contentHash: string;
  content: TrainingModuleContent;
}

export interface LoadResult {
  modules: LoadedModuleVersion[];
  problems: ContentProblem[];
}

const VERSION_FILE = /^v([1-9]\d*)\.yaml$/;
const YAML_FILE = /\.ya?ml$/i;
const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function hashContent(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Parses and validates one module file. Pure apart from hashing: the caller supplies the bytes.
 * YAML syntax errors and validation problems both carry the line they point at, when it can be found.
 */
export function parseModuleSource(
  bytes: Buffer | string,
  file: string,
  expected: ExpectedIdentity = {},
): { module?: LoadedModuleVersion; problems: ContentProblem[] } {
  const source = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true, schema: 'core' });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const line = lineCounter.linePos(error.pos[0]).line;
      return { file, path: '', line, reason: `YAML syntax error: ${firstLine(error.message)}` };
    });
    return { problems };
  }

  const result = validateModuleData(doc.toJS({ maxAliasCount: 100 }), file, expected);
  if (!result.ok) {
    return { problems: result.problems.map((problem) => withLine(problem, doc, lineCounter)) };
  }
  const module: LoadedModuleVersion = {
    slug: result.module.slug,
    version: result.module.version,
    file,
    contentHash: hashContent(bytes),
    content: deepFreeze(result.module),
  };
  return { module: Object.freeze(module), problems: [] };
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

/** Finds the YAML node at the problem's path, or its nearest existing ancestor (for a missing field). */
function withLine(problem: ContentProblem, doc: Document, lineCounter: LineCounter): ContentProblem {
  const segments = parsePath(problem.path);
  for (let length = segments.length; length >= 0; length -= 1) {
    const node = length === 0 ? doc.contents : doc.getIn(segments.slice(0, length), true);
    if (isNode(node) && node.range) {
      return { ...problem, line: lineCounter.linePos(node.range[0]).line };
    }
  }
  return problem;
}

/**
 * Reads every `<dir>/<slug>/v<N>.yaml`, parses and validates each. Valid versions are returned even
 * when other files have problems, so the content checker can report everything in one run.
 */
export async function loadModules(dir: string): Promise<LoadResult> {
  const modules: LoadedModuleVersion[] = [];
  const problems: ContentProblem[] = [];
  const label = path.basename(path.resolve(dir));

  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  for (const folder of folders) {
    const folderLabel = `${label}/${folder}`;
    if (!KEBAB.test(folder)) {
      problems.push({ file: folderLabel, path: '', reason: 'module folder name must be lowercase-kebab (it is the slug)' });
      continue;
    }
    const files = (await readdir(path.join(dir, folder), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && YAML_FILE.test(entry.name))
      .map((entry) => entry.name)
      .sort(compareVersionFiles);
    for (const name of files) {
      const file = `${folderLabel}/${name}`;
      const match = VERSION_FILE.exec(name);
      if (!match) {
        problems.push({ file, path: '', reason: 'a module file must be named v<version>.yaml (e.g. v1.yaml)' });
        continue;
      }
      const bytes = await readFile(path.join(dir, folder, name));
      const parsed = parseModuleSource(bytes, file, { slug: folder, version: Number(match[1]) });
      problems.push(...parsed.problems);
      if (parsed.module) modules.push(parsed.module);
    }
    problems.push(...checkUpdateSources(modules.filter((module) => module.slug === folder), files));
  }
  return { modules, problems };
}

/** An update path's `from` must be a version file of the same folder (valid or not: a broken file is reported on its own). */
function checkUpdateSources(versions: readonly LoadedModuleVersion[], files: readonly string[]): ContentProblem[] {
  const present = new Set(files.map((name) => Number(VERSION_FILE.exec(name)?.[1] ?? 0)));
  const problems: ContentProblem[] = [];
  for (const module of versions) {
    (module.content.updates ?? []).forEach((update, u) => {
      if (update.from < module.version && !present.has(update.from)) {
        problems.push({ file: module.file, path: `updates[${u}].from`, reason: `there is no version ${update.from} of "${module.slug}" (no v${update.from}.yaml)` });
      }
    });
  }
  return problems;
}

function compareVersionFiles(a: string, b: string): number {
  const va = Number(VERSION_FILE.exec(a)?.[1] ?? Number.MAX_SAFE_INTEGER);
  const vb = Number(VERSION_FILE.exec(b)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return va - vb || a.localeCompare(b);
}
