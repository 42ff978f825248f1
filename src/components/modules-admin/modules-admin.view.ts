import { OUTCOME_POINTS, type LoadedModuleVersion, type Outcome, type Scenario, type ScenarioNode, type Source } from '../content';
// The player's own renderer, so the preview reads exactly as learners see it (placeholders filled from the
// district's settings, values escaped). The training feature does not export it from its index.ts.
import { formatIsoDate, type Renderer } from '../training/training.view';
import { updateMinutes, updateScenarios } from '../training';
import { reviewOf, type CounselReviews } from '../counsel-reviews';
import type { ModuleAssignment, ModuleDetail, ModuleOverview, VersionCompletions } from './modules-admin.service';

/** Counsel's review of a version as the pages print it (the date in the page's language). */
export type ReviewView = Readonly<{ reviewer: string; reviewedOn: string }>;

function reviewView(reviews: CounselReviews, module: LoadedModuleVersion, r: Renderer): ReviewView | undefined {
  const review = reviewOf(reviews, module.slug, module.version);
  return review ? { reviewer: review.reviewer, reviewedOn: formatIsoDate(review.reviewedOn, r.lang) } : undefined;
}

/**
 * Module content → what the admin pages print. Every `*Html` field is the content renderer's sanitized
 * output (safe for `<%-`); everything else is plain text for `<%=`.
 */

export type ModuleRowView = Readonly<{
  slug: string;
  title: string;
  latestVersion: number;
  currentAsOf: string;
  estimatedMinutes: number;
  scenarioCount: number;
  decisionCount: number;
  passMark: number;
  roles: readonly string[];
  jobTitles: readonly string[];
  assignments: readonly ModuleAssignment[];
  completions: readonly VersionCompletions[];
  /** Counsel's review of the latest version, when the district recorded one. */
  review?: ReviewView;
}>;

function countDecisions(module: LoadedModuleVersion): number {
  return module.content.scenarios.reduce((sum, scenario) => sum + Object.values(scenario.nodes).filter((node) => node.type === 'decision').length, 0);
}

export function moduleRow(overview: ModuleOverview, r: Renderer): ModuleRowView {
  const { latest } = overview;
  const { content } = latest;
  return {
    slug: latest.slug,
    title: r.plain(content.title),
    latestVersion: latest.version,
    currentAsOf: formatIsoDate(content.currentAsOf, r.lang),
    estimatedMinutes: content.estimatedMinutes,
    scenarioCount: content.scenarios.length,
    decisionCount: countDecisions(latest),
    passMark: content.passMark,
    roles: content.audience.roles,
    jobTitles: content.audience.jobTitles ?? [],
    assignments: overview.assignments,
    completions: overview.completions,
    review: reviewView(overview.reviews, latest, r),
  };
}

/** A link inside the preview: the target node's id and its anchor. */
export type NodeLink = Readonly<{ id: string; anchor: string }>;

export type ChoicePreview = Readonly<{
  id: string;
  labelHtml: string;
  outcome: Outcome;
  points: number;
  feedbackHtml: string;
  facts: readonly NodeLink[];
  next: NodeLink;
}>;

export type NodePreview = Readonly<{
  id: string;
  anchor: string;
  kind: ScenarioNode['type'];
  textHtml?: string;
  promptHtml?: string;
  choices?: readonly ChoicePreview[];
  next?: NodeLink;
}>;

export type ScenarioPreview = Readonly<{ id: string; anchor: string; number: number; title: string; settingHtml: string; nodes: readonly NodePreview[] }>;

export type ChangelogLine = Readonly<{ date: string; noteHtml: string }>;

/** An update path of a version (content `updates:`): what someone holding `from` plays to be current. */
export type UpdatePathView = Readonly<{ from: number; scenarios: readonly NodeLink[]; scenarioTitles: readonly string[]; minutes: number; noteHtml: string }>;

export type VersionView = Readonly<{
  version: number;
  anchor: string;
  isLatest: boolean;
  currentAsOf: string;
  jurisdiction: string;
  estimatedMinutes: number;
  passMark: number;
  completions: number;
  review?: ReviewView;
  changelog: readonly ChangelogLine[];
  updates: readonly UpdatePathView[];
  sources: readonly (Source & { anchor: string })[];
  /** The module's introduction: where the content states its "not legal advice, reviewed by counsel" notice. */
  introductionHtml: string;
  scenarios: readonly ScenarioPreview[];
}>;

export type ModuleDetailView = Readonly<{
  slug: string;
  title: string;
  summary: string;
  roles: readonly string[];
  jobTitles: readonly string[];
  latest: VersionView;
  versions: readonly VersionView[];
  assignments: readonly ModuleAssignment[];
}>;

export function moduleDetail(detail: ModuleDetail, r: Renderer): ModuleDetailView {
  const counts = new Map(detail.completions.map((c) => [c.version, c.count]));
  const versions = detail.versions.map((module, i) => versionView(module, i === 0, counts.get(module.version) ?? 0, reviewView(detail.reviews, module, r), r));
  const latest = detail.versions[0];
  return {
    slug: latest.slug,
    title: r.plain(latest.content.title),
    summary: r.plain(latest.content.summary),
    roles: latest.content.audience.roles,
    jobTitles: latest.content.audience.jobTitles ?? [],
    latest: versions[0],
    versions,
    assignments: detail.assignments,
  };
}

// Anchors join kebab ids with "--", which a kebab id cannot contain, so two targets never share one.
const anchorOf = (...parts: Array<string | number>) => parts.join('--');

function versionView(module: LoadedModuleVersion, isLatest: boolean, completions: number, review: ReviewView | undefined, r: Renderer): VersionView {
  const { content, version } = module;
  const prefix = `v${version}`;
  return {
    version,
    anchor: prefix,
    isLatest,
    currentAsOf: formatIsoDate(content.currentAsOf, r.lang),
    jurisdiction: content.jurisdiction,
    estimatedMinutes: content.estimatedMinutes,
    passMark: content.passMark,
    completions,
    review,
    // The lines this version added (a file's changelog also repeats the earlier versions' lines).
    changelog: (content.changelog ?? [])
      .filter((entry) => entry.version === version)
      .map((entry) => ({ date: formatIsoDate(entry.date, r.lang), noteHtml: r.inline(entry.note) })),
    updates: (content.updates ?? []).map((update) => {
      const scenarios = updateScenarios(module, update);
      return {
        from: update.from,
        scenarios: scenarios.map((scenario) => ({ id: scenario.id, anchor: anchorOf(prefix, scenario.id) })),
        scenarioTitles: scenarios.map((scenario) => r.plain(scenario.title)),
        minutes: updateMinutes(module, update),
        noteHtml: r.block(update.note),
      };
    }),
    sources: content.sources.map((source) => ({ ...source, anchor: anchorOf(prefix, 'source', source.id) })),
    introductionHtml: r.block(content.introduction),
    scenarios: content.scenarios.map((scenario, i) => scenarioPreview(prefix, scenario, i + 1, r)),
  };
}

function scenarioPreview(prefix: string, scenario: Scenario, number: number, r: Renderer): ScenarioPreview {
  const link = (id: string): NodeLink => ({ id, anchor: anchorOf(prefix, scenario.id, id) });
  const fact = (id: string): NodeLink => ({ id, anchor: anchorOf(prefix, 'source', id) });
  const nodes = orderNodes(scenario).map((id): NodePreview => {
    const node = scenario.nodes[id];
    const base = { id, anchor: link(id).anchor, kind: node.type };
    if (node.type === 'narrative') return { ...base, textHtml: r.block(node.text), next: link(node.next) };
    if (node.type === 'end') return { ...base, textHtml: r.block(node.text) };
    return {
      ...base,
      textHtml: node.text ? r.block(node.text) : undefined,
      promptHtml: r.block(node.prompt),
      choices: node.choices.map((choice) => ({
        id: choice.id,
        labelHtml: r.inline(choice.label),
        outcome: choice.outcome,
        points: OUTCOME_POINTS[choice.outcome],
        feedbackHtml: r.block(choice.feedback),
        facts: choice.facts.map(fact),
        next: link(choice.next),
      })),
    };
  });
  return { id: scenario.id, anchor: anchorOf(prefix, scenario.id), number, title: r.plain(scenario.title), settingHtml: r.inline(scenario.setting), nodes };
}

function successors(node: ScenarioNode): string[] {
  if (node.type === 'narrative') return [node.next];
  if (node.type === 'decision') return node.choices.map((choice) => choice.next);
  return [];
}

/**
 * The scenario's nodes in reading order: every node after all the nodes that lead to it (the loader
 * guarantees an acyclic graph, every node reachable from `start`), ties in the order the file lists them.
 * Anything left over (impossible for validated content) follows in file order, so no node is ever hidden.
 */
export function orderNodes(scenario: Scenario): string[] {
  const ids = Object.keys(scenario.nodes);
  const incoming = new Map(ids.map((id) => [id, 0]));
  for (const id of ids) for (const next of new Set(successors(scenario.nodes[id]))) if (incoming.has(next)) incoming.set(next, (incoming.get(next) ?? 0) + 1);
  const ordered: string[] = [];
  const placed = new Set<string>();
  const ready = (id: string) => !placed.has(id) && incoming.get(id) === 0;
  let nextId: string | undefined = Object.hasOwn(scenario.nodes, scenario.start) && incoming.get(scenario.start) === 0 ? scenario.start : ids.find(ready);
  while (nextId !== undefined) {
    ordered.push(nextId);
    placed.add(nextId);
    for (const next of new Set(successors(scenario.nodes[nextId]))) if (incoming.has(next)) incoming.set(next, (incoming.get(next) ?? 0) - 1);
    nextId = ids.find(ready);
  }
  return [...ordered, ...ids.filter((id) => !placed.has(id))];
}
