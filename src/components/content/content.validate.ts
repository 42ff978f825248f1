import type { z } from 'zod';
import { bestModuleScore, bestScenarioScore, checkScenarioGraph, type LocalProblem } from './content.graph';
import { trainingModuleSchema, type BilingualText, type TrainingModuleContent } from './content.schemas';
import { hasMalformedPlaceholder, isKnownPlaceholder, listPlaceholders } from './placeholders';

/** One reason a module file cannot be published: which file, where in it, and why. */
export interface ContentProblem {
  file: string;
  /** Like `scenarios[1].nodes.first-response.choices[2].next`; array indexes are 0-based. */
  path: string;
  reason: string;
  /** 1-based line in the file, when the loader could locate the path. */
  line?: number;
}

/** What the file's location says the module must be: `modules/<slug>/v<version>.yaml`. */
export interface ExpectedIdentity {
  slug?: string;
  version?: number;
}

export type ValidationResult =
  | { ok: true; module: TrainingModuleContent; problems: [] }
  | { ok: false; module?: undefined; problems: ContentProblem[] };

export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** The inverse of formatPath (node ids, keys and fact ids never contain dots or brackets). */
export function parsePath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[1] !== undefined) segments.push(match[1]);
  }
  return segments;
}

/**
 * Validates parsed YAML data: schema first (a module that fails it cannot be walked safely), then file
 * identity, graph, scoring, facts, placeholders and markup. Pure: no file system access.
 */
export function validateModuleData(data: unknown, file: string, expected: ExpectedIdentity = {}): ValidationResult {
  const parsed = trainingModuleSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.flatMap((issue) => describeIssue(issue, file)) };
  }
  const local = checkModule(parsed.data, expected);
  if (local.length > 0) {
    return { ok: false, problems: local.map((problem) => ({ file, path: formatPath(problem.segments), reason: problem.reason })) };
  }
  return { ok: true, module: parsed.data, problems: [] };
}

function describeIssue(issue: z.core.$ZodIssue, file: string): ContentProblem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ file, path: formatPath([...path, key]), reason: `unknown field "${key}" (typo?)` }));
  }
  const last = path[path.length - 1];
  const isMissing = !('input' in issue) || issue.input === undefined;
  let reason = issue.message;
  if (issue.code === 'invalid_type' && isMissing) {
    reason = last === 'en' ? 'the English text is missing' : last === 'es' ? 'the Spanish text is missing' : 'is required';
  } else if (issue.code === 'invalid_key') {
    reason = 'id must be lowercase-kebab (a-z, 0-9, single hyphens)';
  }
  return [{ file, path: formatPath(path), reason }];
}

export function checkModule(module: TrainingModuleContent, expected: ExpectedIdentity = {}): LocalProblem[] {
  const problems: LocalProblem[] = [];
  problems.push(...checkIdentity(module, expected));
  problems.push(...checkUniqueIds(module));

  let isScorable = true;
  const sound = new Set<string>();
  module.scenarios.forEach((scenario, index) => {
    const graph = checkScenarioGraph(scenario, index);
    problems.push(...graph.problems);
    if (!graph.isSound) isScorable = false;
    else sound.add(scenario.id);
  });
  if (isScorable) {
    const best = bestModuleScore(module);
    if (best < module.passMark) {
      problems.push({
        segments: ['passMark'],
        reason: `no path through the module reaches the pass mark of ${module.passMark}% (the best path scores ${formatPercent(best)}%)`,
      });
    }
  }

  problems.push(...checkUpdates(module, sound));
  problems.push(...checkFacts(module));
  for (const { segments, text } of listTexts(module)) problems.push(...checkText(segments, text));
  return problems;
}

function formatPercent(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function checkIdentity(module: TrainingModuleContent, expected: ExpectedIdentity): LocalProblem[] {
  const problems: LocalProblem[] = [];
  if (expected.slug !== undefined && module.slug !== expected.slug) {
    problems.push({ segments: ['slug'], reason: `slug "${module.slug}" must equal its folder name "${expected.slug}"` });
  }
  if (expected.version !== undefined && module.version !== expected.version) {
    problems.push({ segments: ['version'], reason: `version ${module.version} must equal the file name's version (v${expected.version}.yaml)` });
  }
  module.changelog?.forEach((entry, index) => {
    if (entry.version > module.version) {
      problems.push({ segments: ['changelog', index, 'version'], reason: `changelog entry for version ${entry.version} is newer than the module (${module.version})` });
    }
  });
  if (module.version > 1 && !module.changelog?.some((entry) => entry.version === module.version)) {
    problems.push({ segments: ['changelog'], reason: `a changelog entry for version ${module.version} is required` });
  }
  return problems;
}

function checkUniqueIds(module: TrainingModuleContent): LocalProblem[] {
  const problems: LocalProblem[] = [];
  const reportRepeats = (ids: string[], segmentsOf: (index: number) => (string | number)[], what: string) => {
    const seen = new Set<string>();
    ids.forEach((id, index) => {
      if (seen.has(id)) problems.push({ segments: segmentsOf(index), reason: `${what} "${id}" is used more than once` });
      seen.add(id);
    });
  };
  reportRepeats(module.sources.map((source) => source.id), (i) => ['sources', i, 'id'], 'source');
  reportRepeats(module.scenarios.map((scenario) => scenario.id), (i) => ['scenarios', i, 'id'], 'scenario id');
  module.scenarios.forEach((scenario, s) => {
    for (const [nodeId, node] of Object.entries(scenario.nodes)) {
      if (node.type !== 'decision') continue;
      const base = ['scenarios', s, 'nodes', nodeId, 'choices'];
      reportRepeats(node.choices.map((choice) => choice.id), (i) => [...base, i, 'id'], 'choice id');
    }
  });
  return problems;
}

/**
 * The update paths: each `from` an earlier version, declared once; each listed scenario an id of this
 * version, listed once, and able to reach the pass mark on its own (an update is scored over the decisions
 * played, so a scenario that cannot pass would make the update impossible to pass with it alone).
 */
function checkUpdates(module: TrainingModuleContent, sound: ReadonlySet<string>): LocalProblem[] {
  const problems: LocalProblem[] = [];
  const ids = new Map(module.scenarios.map((scenario) => [scenario.id, scenario]));
  const seenFrom = new Set<number>();
  (module.updates ?? []).forEach((update, u) => {
    if (update.from >= module.version) {
      problems.push({ segments: ['updates', u, 'from'], reason: `version ${update.from} is not earlier than this version (${module.version})` });
    }
    if (seenFrom.has(update.from)) {
      problems.push({ segments: ['updates', u, 'from'], reason: `an update from version ${update.from} is declared more than once` });
    }
    seenFrom.add(update.from);
    const listed = new Set<string>();
    update.scenarios.forEach((id, k) => {
      const at = ['updates', u, 'scenarios', k];
      const scenario = ids.get(id);
      if (!scenario) {
        problems.push({ segments: at, reason: `"${id}" is not a scenario of this version` });
        return;
      }
      if (listed.has(id)) problems.push({ segments: at, reason: `scenario "${id}" is listed more than once` });
      listed.add(id);
      if (!sound.has(id)) return; // its graph problems are reported already
      const best = bestScenarioScore(scenario);
      if (best < module.passMark) {
        problems.push({
          segments: at,
          reason: `scenario "${id}" cannot reach the pass mark of ${module.passMark}% on its own (its best path scores ${formatPercent(best)}%)`,
        });
      }
    });
  });
  return problems;
}

function checkFacts(module: TrainingModuleContent): LocalProblem[] {
  const listed = new Set(module.sources.map((source) => source.id));
  const problems: LocalProblem[] = [];
  module.scenarios.forEach((scenario, s) => {
    for (const [nodeId, node] of Object.entries(scenario.nodes)) {
      if (node.type !== 'decision') continue;
      node.choices.forEach((choice, c) => {
        choice.facts.forEach((fact, f) => {
          if (!listed.has(fact)) {
            problems.push({ segments: ['scenarios', s, 'nodes', nodeId, 'choices', c, 'facts', f], reason: `fact ${fact} is not listed in sources` });
          }
        });
      });
    }
  });
  return problems;
}

/** Every learner-facing bilingual text of a module with its path. */
export function* listTexts(module: TrainingModuleContent): Generator<{ segments: (string | number)[]; text: BilingualText }> {
  yield { segments: ['title'], text: module.title };
  yield { segments: ['summary'], text: module.summary };
  yield { segments: ['introduction'], text: module.introduction };
  for (const [i, entry] of (module.changelog ?? []).entries()) yield { segments: ['changelog', i, 'note'], text: entry.note };
  for (const [i, update] of (module.updates ?? []).entries()) yield { segments: ['updates', i, 'note'], text: update.note };
  for (const [s, scenario] of module.scenarios.entries()) {
    yield { segments: ['scenarios', s, 'title'], text: scenario.title };
    yield { segments: ['scenarios', s, 'setting'], text: scenario.setting };
    for (const [nodeId, node] of Object.entries(scenario.nodes)) {
      const base = ['scenarios', s, 'nodes', nodeId];
      if (node.text) yield { segments: [...base, 'text'], text: node.text };
      if (node.type !== 'decision') continue;
      yield { segments: [...base, 'prompt'], text: node.prompt };
      for (const [c, choice] of node.choices.entries()) {
        yield { segments: [...base, 'choices', c, 'label'], text: choice.label };
        yield { segments: [...base, 'choices', c, 'feedback'], text: choice.feedback };
      }
    }
  }
  for (const [i, takeaway] of module.takeaways.entries()) yield { segments: ['takeaways', i], text: takeaway };
}

const RAW_HTML = /<\/?[A-Za-z][^<>]*>|<!--/;

function checkText(segments: (string | number)[], text: BilingualText): LocalProblem[] {
  const problems: LocalProblem[] = [];
  for (const lang of ['en', 'es'] as const) {
    const value = text[lang];
    const at = [...segments, lang];
    for (const key of new Set(listPlaceholders(value))) {
      if (!isKnownPlaceholder(key)) problems.push({ segments: at, reason: `unknown placeholder {{${key}}}` });
    }
    if (hasMalformedPlaceholder(value)) {
      problems.push({ segments: at, reason: 'malformed placeholder: "{{" or "}}" without a matching {{key}}' });
    }
    if (RAW_HTML.test(value)) problems.push({ segments: at, reason: 'raw HTML is not allowed (use the Markdown subset)' });
  }
  return problems;
}
