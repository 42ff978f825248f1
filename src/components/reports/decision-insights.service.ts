/**
 * Per-decision insights (research/anchors.md, "gaps": which choice did people make?): for one module
 * version, at every decision point, how many finished attempts chose each answer — so a district can see
 * the misconception that is most common (e.g. "asked the officer to wait in the lobby and fetched the
 * student") and where, and coach it. Aggregated counts only: never who chose what. Groups smaller than
 * the district's small-group threshold are not shown.
 *
 * Counted over finished attempts — passed or failed, first tries and retakes alike — at the attempt's own
 * school (`school` as stored). Read from the decision tallies (components/completions/decision-tallies.ts),
 * which the transaction finishing each attempt keeps current: the district's figures are the sum of at
 * most one small document per school, a school's are one document. A district and version whose tallies
 * were never built (attempts from before them, a seed or an import) is recounted from the attempts first.
 */
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { decisionKey, ensureDecisionTallies, readDecisionTallies } from '../completions';
import { listModuleOptions, type ModuleOption } from '../assignments';
import type { Outcome } from '../content';
import { getModuleVersion } from '../training/training.content';
import type { Renderer } from '../training/training.view';
import { orderNodes } from '../modules-admin/modules-admin.view';
import type { RegionOption } from '../regions';
import { resolveRegion, schoolIdsIn } from './report-regions';
import { districtOf, schoolDirectory, visibleSchool, type VisibleSchool } from './report-scope';

/** region: a region administrator's choice among their own regions (anyone else: not read). */
export type InsightsQuery = { module?: string; version?: number; school?: string; region?: string };

export type ChoiceFigure = Readonly<{ id: string; labelHtml: string; outcome: Outcome; count: number; percent: number }>;
export type DecisionFigure = Readonly<{
  scenarioNumber: number;
  scenarioTitle: string;
  /** 1, 2, … within the scenario, in reading order. */
  decisionNumber: number;
  nodeId: string;
  promptHtml: string;
  answered: number;
  choices: readonly ChoiceFigure[];
  /** Share of answers that were the best choice. */
  bestPercent: number | null;
  /** The wrong answer chosen most often (if any was chosen). */
  topWrong: ChoiceFigure | null;
}>;

export type DecisionInsights = Readonly<{
  modules: readonly ModuleOption[];
  module: ModuleOption;
  version: number;
  school: VisibleSchool | null;
  /** A region administrator's region-wide figures (no school chosen). */
  region: RegionOption | null;
  attempts: number;
  threshold: number;
  suppressed: boolean;
  decisions: readonly DecisionFigure[];
  /** Decision points by share of best answers, lowest first (the ones to coach). */
  hardest: readonly DecisionFigure[];
  /** When the figures were read: they include every attempt finished before (the tallies are kept current). */
  computedAt: Date;
}>;

export async function getDecisionInsights(actor: Actor, query: InsightsQuery, r: Renderer): Promise<DecisionInsights> {
  let schoolId = query.school;
  // A principal sees their own school (the only one, or the one asked for); a district admin the district or any school.
  if (actor.role === 'principal' && !schoolId) schoolId = actor.schoolIds[0];
  if (actor.role === 'principal' && !schoolId) throw notFound();
  // A region administrator sees a school of their region or, without one, their region (never the district).
  const regionScope = actor.role === 'region_admin' && !schoolId ? (await resolveRegion(actor, query.region)).scope : undefined;
  const region = regionScope?.kind === 'region' ? regionScope.region : null;
  const [modules, district, school, regionSchools] = await Promise.all([
    listModuleOptions(),
    districtOf(actor),
    schoolId ? visibleSchool(actor, schoolId) : Promise.resolve(null),
    regionScope ? schoolDirectory(actor.districtId).then((directory) => schoolIdsIn(regionScope, directory)) : Promise.resolve(null),
  ]);
  if (modules.length === 0) throw notFound();
  const module = query.module ? modules.find((m) => m.slug === query.module) : modules[0];
  if (!module) throw notFound();
  const version = query.version ?? module.latest;
  if (!module.versions.includes(version)) throw notFound();
  const content = getModuleVersion(module.slug, version).content;

  const scope = { district: actor.districtId, moduleSlug: module.slug, moduleVersion: version };
  await ensureDecisionTallies(scope);
  // One school's document, the region's schools' documents, or every school's in the district.
  const figures = await readDecisionTallies(scope, school ? [school.id] : (regionSchools ?? undefined));
  const computedAt = new Date();

  const threshold = district.smallGroupThreshold;
  const suppressed = threshold > 0 && figures.attempts > 0 && figures.attempts < threshold;
  const decisions: DecisionFigure[] = [];
  content.scenarios.forEach((scenario, i) => {
    let decisionNumber = 0;
    for (const nodeId of orderNodes(scenario)) {
      const node = scenario.nodes[nodeId];
      if (node.type !== 'decision') continue;
      decisionNumber += 1;
      const counts = node.choices.map((choice) => (suppressed ? 0 : (figures.counts.get(decisionKey(scenario.id, nodeId, choice.id)) ?? 0)));
      const answered = counts.reduce((a, b) => a + b, 0);
      const choices = node.choices.map((choice, j): ChoiceFigure => ({
        id: choice.id,
        labelHtml: r.inline(choice.label),
        outcome: choice.outcome,
        count: counts[j],
        percent: answered ? Math.round((100 * counts[j]) / answered) : 0,
      }));
      const best = choices.filter((c) => c.outcome === 'best').reduce((a, c) => a + c.count, 0);
      const wrong = choices.filter((c) => c.outcome === 'wrong' && c.count > 0).sort((a, b) => b.count - a.count);
      decisions.push({
        scenarioNumber: i + 1,
        scenarioTitle: r.plain(scenario.title),
        decisionNumber,
        nodeId,
        promptHtml: r.inline(node.prompt),
        answered,
        choices,
        bestPercent: answered ? Math.round((100 * best) / answered) : null,
        topWrong: wrong[0] ?? null,
      });
    }
  });
  const hardest = decisions
    .filter((d) => d.bestPercent !== null)
    .sort((a, b) => (a.bestPercent ?? 0) - (b.bestPercent ?? 0))
    .slice(0, 3);
  return { modules, module, version, school, region, attempts: suppressed ? 0 : figures.attempts, threshold, suppressed, decisions, hardest, computedAt };
}
