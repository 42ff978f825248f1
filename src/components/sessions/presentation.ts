import type { BilingualText, DecisionNode, LoadedModuleVersion, Outcome, Scenario, Source } from '../content';
// The player's own renderer, so the projected text reads exactly as learners see it (placeholders filled
// from the district's settings, values escaped). The training feature does not export it from index.ts.
import { formatIsoDate, type Renderer } from '../training/training.view';

/**
 * A module laid out for a facilitator to project and step through with a group: one step per decision
 * (the narrative leading to it on the same step), every choice with its feedback behind a reveal, and
 * what happens after each choice. Pure: content + renderer in, view model out. Every `*Html` field is the
 * content renderer's sanitized output (safe for `<%-`); everything else is plain text for `<%=`.
 *
 * The steps follow the path of the best choices (what the group should end up doing). A choice that
 * leaves that path shows, in its reveal, the narrative that follows it until the path is rejoined or the
 * scenario ends; a decision reached only off the path gets a step of its own after the scenario's path.
 * So every node of the module appears somewhere (the unit test checks it for the real modules).
 */

export type ChoiceReveal = Readonly<{
  id: string;
  /** A, B, C … — how the group refers to a choice aloud. */
  letter: string;
  labelHtml: string;
  outcome: Outcome;
  feedbackHtml: string;
  sources: readonly Source[];
  /** What happens next when the group takes this choice and it leaves the best path. */
  consequenceHtml: readonly string[];
  /** The off-path decision this choice leads to (the step number to go to), if any. */
  leadsToStep?: number;
}>;

export type DecisionStep = Readonly<{
  id: string;
  textHtml?: string;
  promptHtml: string;
  choices: readonly ChoiceReveal[];
}>;

export type Step =
  | Readonly<{ kind: 'opening'; number: number; introductionHtml: string; scenarioTitles: readonly string[] }>
  | Readonly<{
      kind: 'scenario';
      number: number;
      scenarioNumber: number;
      scenarioTitle: string;
      settingHtml: string;
      /** First step of its scenario: shows the setting. */
      isScenarioStart: boolean;
      /** A decision reached only by leaving the best path. */
      isOffPath: boolean;
      narrativeHtml: readonly string[];
      decision?: DecisionStep;
      endHtml?: string;
    }>
  | Readonly<{ kind: 'closing'; number: number; takeawaysHtml: readonly string[]; sources: readonly Source[] }>;

export type Presentation = Readonly<{
  slug: string;
  version: number;
  title: string;
  summary: string;
  currentAsOf: string;
  jurisdiction: string;
  estimatedMinutes: number;
  steps: readonly Step[];
}>;

const LETTERS = 'ABCDEFGHIJ';

/** The next node on the best path after a decision: the first best choice, else the first acceptable, else the first. */
function bestNext(node: DecisionNode): string {
  return (node.choices.find((c) => c.outcome === 'best') ?? node.choices.find((c) => c.outcome === 'acceptable') ?? node.choices[0]).next;
}

/** The scenario's best path from its start, in order (stops at an end node, or at a node already on it). */
export function bestPath(scenario: Scenario): string[] {
  const path: string[] = [];
  let id: string | undefined = scenario.start;
  while (id !== undefined && Object.hasOwn(scenario.nodes, id) && !path.includes(id)) {
    path.push(id);
    const node: Scenario['nodes'][string] = scenario.nodes[id];
    id = node.type === 'narrative' ? node.next : node.type === 'decision' ? bestNext(node) : undefined;
  }
  return path;
}

type Text = (text: BilingualText) => string;

export function buildPresentation(module: LoadedModuleVersion, r: Renderer): Presentation {
  const { content } = module;
  const steps: Step[] = [{ kind: 'opening', number: 1, introductionHtml: r.block(content.introduction), scenarioTitles: content.scenarios.map((s) => r.plain(s.title)) }];
  content.scenarios.forEach((scenario, index) => {
    for (const step of scenarioSteps(scenario, index + 1, steps.length + 1, content.sources, r)) steps.push(step);
  });
  steps.push({ kind: 'closing', number: steps.length + 1, takeawaysHtml: content.takeaways.map((t) => r.block(t)), sources: content.sources });
  return {
    slug: module.slug,
    version: module.version,
    title: r.plain(content.title),
    summary: r.plain(content.summary),
    currentAsOf: formatIsoDate(content.currentAsOf, r.lang),
    jurisdiction: content.jurisdiction,
    estimatedMinutes: content.estimatedMinutes,
    steps,
  };
}

function scenarioSteps(scenario: Scenario, scenarioNumber: number, firstNumber: number, sources: readonly Source[], r: Renderer): Step[] {
  const path = bestPath(scenario);
  const onPath = new Set(path);
  const offPathDecisions = Object.keys(scenario.nodes).filter((id) => !onPath.has(id) && scenario.nodes[id].type === 'decision');
  // Step numbers are known before rendering: one per decision or end on the path, then the off-path decisions.
  const pathStops = path.filter((id) => scenario.nodes[id].type !== 'narrative').length + (scenario.nodes[path[path.length - 1]]?.type === 'narrative' ? 1 : 0);
  const offPathStep = new Map(offPathDecisions.map((id, i) => [id, firstNumber + pathStops + i]));
  const block: Text = (text) => r.block(text);
  const base = { scenarioNumber, scenarioTitle: r.plain(scenario.title), settingHtml: r.inline(scenario.setting) };
  const steps: Step[] = [];
  let narratives: string[] = [];
  const push = (extra: { decision?: DecisionStep; endHtml?: string; isOffPath?: boolean }) => {
    steps.push({ kind: 'scenario', number: firstNumber + steps.length, ...base, isScenarioStart: steps.length === 0, isOffPath: extra.isOffPath ?? false, narrativeHtml: narratives, decision: extra.decision, endHtml: extra.endHtml });
    narratives = [];
  };
  for (const id of path) {
    const node = scenario.nodes[id];
    if (node.type === 'narrative') narratives.push(block(node.text));
    else if (node.type === 'end') push({ endHtml: block(node.text) });
    else push({ decision: decisionStep(scenario, id, node, onPath, offPathStep, sources, r) });
  }
  if (narratives.length > 0) push({});
  for (const id of offPathDecisions) {
    const node = scenario.nodes[id] as DecisionNode;
    push({ decision: decisionStep(scenario, id, node, onPath, offPathStep, sources, r), isOffPath: true });
  }
  return steps;
}

function decisionStep(
  scenario: Scenario,
  id: string,
  node: DecisionNode,
  onPath: ReadonlySet<string>,
  offPathStep: ReadonlyMap<string, number>,
  sources: readonly Source[],
  r: Renderer,
): DecisionStep {
  return {
    id,
    textHtml: node.text ? r.block(node.text) : undefined,
    promptHtml: r.block(node.prompt),
    choices: node.choices.map((choice, i) => {
      const cited = new Set(choice.facts);
      const consequenceHtml: string[] = [];
      let next: string | undefined = choice.next;
      const seen = new Set<string>();
      let leadsToStep: number | undefined;
      // Off the path: the narrative (and ending) that follows this choice, until the path is rejoined.
      while (next !== undefined && !onPath.has(next) && !seen.has(next) && Object.hasOwn(scenario.nodes, next)) {
        seen.add(next);
        const after: Scenario['nodes'][string] = scenario.nodes[next];
        if (after.type === 'decision') {
          leadsToStep = offPathStep.get(next);
          break;
        }
        consequenceHtml.push(r.block(after.text));
        next = after.type === 'narrative' ? after.next : undefined;
      }
      return {
        id: choice.id,
        letter: LETTERS[i] ?? String(i + 1),
        labelHtml: r.inline(choice.label),
        outcome: choice.outcome,
        feedbackHtml: r.block(choice.feedback),
        sources: sources.filter((source) => cited.has(source.id)),
        consequenceHtml,
        leadsToStep,
      };
    }),
  };
}
