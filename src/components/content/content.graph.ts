import { OUTCOME_POINTS, POINTS_PER_DECISION, type Scenario, type ScenarioNode, type TrainingModuleContent } from './content.schemas';

/** A problem found in a module before the file name is attached; `segments` is the path inside the file. */
export interface LocalProblem {
  segments: (string | number)[];
  reason: string;
}

interface Edge {
  target: string;
  segments: (string | number)[];
}

/** Outgoing links of a node, each with the path of the `next` field that makes it. */
export function listEdges(scenarioIndex: number, nodeId: string, node: ScenarioNode): Edge[] {
  const base = ['scenarios', scenarioIndex, 'nodes', nodeId];
  if (node.type === 'narrative') return [{ target: node.next, segments: [...base, 'next'] }];
  if (node.type === 'decision') {
    return node.choices.map((choice, k) => ({ target: choice.next, segments: [...base, 'choices', k, 'next'] }));
  }
  return [];
}

/**
 * Graph checks of one scenario: start exists, no dangling `next`, every node reachable, no cycles (so,
 * with the schema guaranteeing that only end nodes lack a `next`, every path ends at an end node), and
 * at least two decisions on some path. Returns whether the graph is sound enough to score.
 */
export function checkScenarioGraph(scenario: Scenario, index: number): { problems: LocalProblem[]; isSound: boolean } {
  const problems: LocalProblem[] = [];
  const nodes = new Map(Object.entries(scenario.nodes));
  const hasStart = nodes.has(scenario.start);
  if (!hasStart) {
    problems.push({ segments: ['scenarios', index, 'start'], reason: `"${scenario.start}" is not a node of scenario "${scenario.id}"` });
  }

  let hasDangling = false;
  const successors = new Map<string, Edge[]>();
  for (const [id, node] of nodes) {
    const edges = listEdges(index, id, node);
    for (const edge of edges) {
      if (!nodes.has(edge.target)) {
        hasDangling = true;
        problems.push({ segments: edge.segments, reason: `"${edge.target}" is not a node of scenario "${scenario.id}"` });
      }
    }
    successors.set(id, edges.filter((edge) => nodes.has(edge.target)));
  }

  if (hasStart) {
    const reached = new Set<string>([scenario.start]);
    const queue = [scenario.start];
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      for (const edge of successors.get(id) ?? []) {
        if (!reached.has(edge.target)) {
          reached.add(edge.target);
          queue.push(edge.target);
        }
      }
    }
    for (const id of nodes.keys()) {
      if (!reached.has(id)) {
        problems.push({ segments: ['scenarios', index, 'nodes', id], reason: `node is not reachable from start "${scenario.start}"` });
      }
    }
  }

  const cycleProblems = findCycles(successors, hasStart ? scenario.start : undefined);
  problems.push(...cycleProblems);

  const isSound = hasStart && !hasDangling && cycleProblems.length === 0;
  if (isSound) {
    const most = maxDecisions(scenario);
    if (most < 2) {
      problems.push({
        segments: ['scenarios', index],
        reason: `scenario "${scenario.id}" has at most ${most} decision(s) on any path; it needs at least 2 on some path`,
      });
    }
  }
  return { problems, isSound };
}

/** Depth-first search with colours; each back edge is one cycle, reported at the `next` that closes it. */
function findCycles(successors: Map<string, Edge[]>, start: string | undefined): LocalProblem[] {
  const problems: LocalProblem[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];

  const visit = (id: string): void => {
    state.set(id, 'open');
    trail.push(id);
    for (const edge of successors.get(id) ?? []) {
      const seen = state.get(edge.target);
      if (seen === 'open') {
        const loop = [...trail.slice(trail.indexOf(edge.target)), edge.target].join(' → ');
        problems.push({
          segments: edge.segments,
          reason: `"${edge.target}" leads back into a cycle (${loop}); every path must end at an end node`,
        });
      } else if (seen === undefined) {
        visit(edge.target);
      }
    }
    trail.pop();
    state.set(id, 'done');
  };

  const order = start === undefined ? [...successors.keys()] : [start, ...successors.keys()];
  for (const id of order) if (!state.has(id)) visit(id);
  return problems;
}

function maxDecisions(scenario: Scenario): number {
  let most = 0;
  for (const outcome of pathOutcomes(scenario)) most = Math.max(most, outcome.decisions);
  return most;
}

/** A path's result: points earned and decisions answered. */
export interface PathOutcome {
  points: number;
  decisions: number;
}

const pairKey = (outcome: PathOutcome) => `${outcome.points}/${outcome.decisions}`;

/** Every distinct (points, decisions) a learner can end a scenario with. Requires a sound (acyclic) graph. */
export function pathOutcomes(scenario: Scenario): PathOutcome[] {
  const memo = new Map<string, PathOutcome[]>();
  const from = (id: string): PathOutcome[] => {
    const cached = memo.get(id);
    if (cached) return cached;
    const node = scenario.nodes[id];
    let result: PathOutcome[] = [];
    if (node === undefined || node.type === 'end') {
      result = [{ points: 0, decisions: 0 }];
    } else if (node.type === 'narrative') {
      result = from(node.next);
    } else {
      const seen = new Map<string, PathOutcome>();
      for (const choice of node.choices) {
        for (const rest of from(choice.next)) {
          const outcome = { points: rest.points + OUTCOME_POINTS[choice.outcome], decisions: rest.decisions + 1 };
          seen.set(pairKey(outcome), outcome);
        }
      }
      result = [...seen.values()];
    }
    memo.set(id, result);
    return result;
  };
  return from(scenario.start);
}

/** Score of a play-through, per docs/content-format.md: points over 2 × decisions answered, in percent. */
export function scorePercent(points: number, decisions: number): number {
  if (decisions <= 0) return 0;
  return (100 * points) / (POINTS_PER_DECISION * decisions);
}

export function isPassingScore(percent: number, passMark: number): boolean {
  return percent >= passMark;
}

/** The best score one scenario can reach on its own. Requires a sound (acyclic) graph. */
export function bestScenarioScore(scenario: Scenario): number {
  let best = 0;
  for (const outcome of pathOutcomes(scenario)) best = Math.max(best, scorePercent(outcome.points, outcome.decisions));
  return best;
}

/**
 * The best score any path through the whole module can reach (scenarios are played in order, so a
 * module path is one path per scenario). Combines the per-scenario outcome sets; they stay small
 * because points ≤ 2 × decisions.
 */
export function bestModuleScore(module: TrainingModuleContent): number {
  let combined = new Map<string, PathOutcome>([['0/0', { points: 0, decisions: 0 }]]);
  for (const scenario of module.scenarios) {
    const outcomes = pathOutcomes(scenario);
    const next = new Map<string, PathOutcome>();
    for (const sofar of combined.values()) {
      for (const outcome of outcomes) {
        const sum = { points: sofar.points + outcome.points, decisions: sofar.decisions + outcome.decisions };
        next.set(pairKey(sum), sum);
      }
    }
    combined = next;
  }
  let best = 0;
  for (const outcome of combined.values()) best = Math.max(best, scorePercent(outcome.points, outcome.decisions));
  return best;
}
