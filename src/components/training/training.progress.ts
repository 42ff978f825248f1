import {
  OUTCOME_POINTS,
  POINTS_PER_DECISION,
  isPassingScore,
  scorePercent,
  type Choice,
  type DecisionNode,
  type Outcome,
  type Scenario,
  type ScenarioNode,
  type TrainingModuleContent,
} from '../content';

/**
 * The player as a state machine over a module's scenario graphs. Pure: the service stores the result
 * with one conditional update, so these functions decide *what* happens and the database decides *whether*
 * it happens (only the request that still sees the expected `step` wins).
 *
 * Phases: `node` shows a node (narrative/end → Continue; decision → choices); `feedback` shows the
 * consequence of the choice just made (→ Continue to the choice's `next`); `results` is the end of the
 * attempt. `step` counts accepted moves, so a form carries the step it was rendered at.
 */

export type PlayPhase = 'node' | 'feedback' | 'results';

export type PlayPosition = Readonly<{
  scenarioIndex: number;
  nodeId: string;
  step: number;
  phase: PlayPhase;
  choiceId?: string;
}>;

export type DecisionRecord = Readonly<{
  scenarioId: string;
  nodeId: string;
  choiceId: string;
  outcome: Outcome;
  points: number;
  at: Date;
}>;

export type MoveRefusal = 'not_current' | 'unknown_choice' | 'not_a_decision' | 'finished';

export type ChoiceMove = Readonly<{
  ok: true;
  decision: DecisionRecord;
  position: PlayPosition;
  /** The attempt has no decision left after this one: score it now, whatever the learner reads next. */
  isFinal: boolean;
}>;

export type ContinueMove = Readonly<{ ok: true; position: PlayPosition }>;

export type Located = Readonly<{ scenario: Scenario; node: ScenarioNode }>;

export function initialPosition(module: TrainingModuleContent): PlayPosition {
  const first = module.scenarios[0];
  if (!first) throw new Error(`module ${module.slug} has no scenario`);
  return { scenarioIndex: 0, nodeId: first.start, step: 0, phase: 'node' };
}

/** The scenario and node at a position; undefined if the position does not fit the module (never for stored attempts of the same version). */
export function locate(module: TrainingModuleContent, position: Pick<PlayPosition, 'scenarioIndex' | 'nodeId'>): Located | undefined {
  const scenario = module.scenarios[position.scenarioIndex];
  if (!scenario || !Object.hasOwn(scenario.nodes, position.nodeId)) return undefined;
  const node = scenario.nodes[position.nodeId];
  return node ? { scenario, node } : undefined;
}

export function findChoice(node: DecisionNode, choiceId: string): Choice | undefined {
  return node.choices.find((choice) => choice.id === choiceId);
}

/**
 * Whether a decision remains after arriving at `nodeId`: narratives have one `next`, so the path from a node
 * to the next decision or end is a straight line; later scenarios always hold a decision (the validator
 * requires two on some path, and a path from `start` passes the first decision of every path).
 */
export function hasDecisionAhead(module: TrainingModuleContent, scenarioIndex: number, nodeId: string): boolean {
  if (scenarioIndex < module.scenarios.length - 1) return true;
  const scenario = module.scenarios[scenarioIndex];
  if (!scenario) return false;
  const seen = new Set<string>();
  let id: string | undefined = nodeId;
  while (id !== undefined && !seen.has(id)) {
    seen.add(id);
    const node: ScenarioNode | undefined = Object.hasOwn(scenario.nodes, id) ? scenario.nodes[id] : undefined;
    if (!node || node.type === 'end') return false;
    if (node.type === 'decision') return true;
    id = node.next;
  }
  return false;
}

/** A choice at the current decision node → the decision to record and the feedback position. */
export function applyChoice(
  module: TrainingModuleContent,
  position: PlayPosition,
  choiceId: string,
  at: Date,
): ChoiceMove | { ok: false; reason: MoveRefusal } {
  if (position.phase !== 'node') return { ok: false, reason: position.phase === 'results' ? 'finished' : 'not_current' };
  const here = locate(module, position);
  if (!here) return { ok: false, reason: 'not_current' };
  if (here.node.type !== 'decision') return { ok: false, reason: 'not_a_decision' };
  const choice = findChoice(here.node, choiceId);
  if (!choice) return { ok: false, reason: 'unknown_choice' };
  return {
    ok: true,
    decision: {
      scenarioId: here.scenario.id,
      nodeId: position.nodeId,
      choiceId: choice.id,
      outcome: choice.outcome,
      points: OUTCOME_POINTS[choice.outcome],
      at,
    },
    position: { scenarioIndex: position.scenarioIndex, nodeId: position.nodeId, step: position.step + 1, phase: 'feedback', choiceId: choice.id },
    isFinal: !hasDecisionAhead(module, position.scenarioIndex, choice.next),
  };
}

/** Continue from a narrative, an end node or a feedback page. A decision node needs a choice instead. */
export function applyContinue(module: TrainingModuleContent, position: PlayPosition): ContinueMove | { ok: false; reason: MoveRefusal } {
  if (position.phase === 'results') return { ok: false, reason: 'finished' };
  const here = locate(module, position);
  if (!here) return { ok: false, reason: 'not_current' };
  const step = position.step + 1;
  if (position.phase === 'feedback') {
    if (here.node.type !== 'decision' || position.choiceId === undefined) return { ok: false, reason: 'not_current' };
    const choice = findChoice(here.node, position.choiceId);
    if (!choice) return { ok: false, reason: 'not_current' };
    return { ok: true, position: { scenarioIndex: position.scenarioIndex, nodeId: choice.next, step, phase: 'node' } };
  }
  if (here.node.type === 'decision') return { ok: false, reason: 'not_a_decision' };
  if (here.node.type === 'narrative') {
    return { ok: true, position: { scenarioIndex: position.scenarioIndex, nodeId: here.node.next, step, phase: 'node' } };
  }
  const nextScenario = module.scenarios[position.scenarioIndex + 1];
  if (nextScenario) return { ok: true, position: { scenarioIndex: position.scenarioIndex + 1, nodeId: nextScenario.start, step, phase: 'node' } };
  return { ok: true, position: { scenarioIndex: position.scenarioIndex, nodeId: position.nodeId, step, phase: 'results' } };
}

/**
 * Where a form was rendered, as one hidden field (`at`): module version, scenario index, phase, node and, in
 * the feedback phase, the choice. With it a move can be computed before reading the attempt and stored with
 * one update conditional on exactly this position (play.service). It is a claim, never trusted: a position
 * that is not the attempt's simply matches nothing.
 */
export type ClaimedPosition = Readonly<{ version: number; updateFrom?: number; scenarioIndex: number; phase: 'node' | 'feedback'; nodeId: string; choiceId?: string }>;

// An update attempt's claim also names the version it updates from (`v2u1.…`): its scenario indexes count
// within the update's scenarios, so a claim must never be read against the other kind of attempt.
const CLAIM = /^v([1-9]\d{0,5})(?:u([1-9]\d{0,5}))?\.(\d{1,3})\.(node|feedback)\.([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.([a-z0-9]+(?:-[a-z0-9]+)*))?$/;

export function encodePosition(version: number, position: PlayPosition, updateFrom?: number): string {
  const base = `v${version}${updateFrom !== undefined ? `u${updateFrom}` : ''}.${position.scenarioIndex}.${position.phase}.${position.nodeId}`;
  return position.phase === 'feedback' && position.choiceId !== undefined ? `${base}.${position.choiceId}` : base;
}

/** The claim in a form's `at`, or undefined for anything that is not one (the caller then reads the attempt). */
export function decodePosition(value: string | undefined): ClaimedPosition | undefined {
  if (value === undefined || value.length > 240) return undefined;
  const m = CLAIM.exec(value);
  if (!m) return undefined;
  const phase = m[4] as 'node' | 'feedback';
  if ((phase === 'feedback') !== (m[6] !== undefined)) return undefined;
  return {
    version: Number(m[1]),
    ...(m[2] !== undefined ? { updateFrom: Number(m[2]) } : {}),
    scenarioIndex: Number(m[3]),
    phase,
    nodeId: m[5],
    ...(m[6] !== undefined ? { choiceId: m[6] } : {}),
  };
}

export type Grade = Readonly<{ score: number; isPassed: boolean }>;

/**
 * Score in whole percent, rounded down so the shown number never contradicts pass/fail
 * (69.6 % with a pass mark of 70 shows 69 % and fails; the pass mark is an integer).
 */
export function grade(points: number, decisions: number, passMark: number): Grade {
  const percent = scorePercent(points, decisions);
  return { score: Math.floor(percent + 1e-9), isPassed: isPassingScore(percent, passMark) };
}

export function maxPointsFor(decisions: number): number {
  return POINTS_PER_DECISION * decisions;
}

