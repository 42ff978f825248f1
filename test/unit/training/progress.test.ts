import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModuleSource, type TrainingModuleContent } from '../../../src/components/content';
import {
  applyChoice,
  applyContinue,
  decodePosition,
  encodePosition,
  grade,
  hasDecisionAhead,
  initialPosition,
  type PlayPosition,
} from '../../../src/components/training/training.progress';

function loadFixture(): TrainingModuleContent {
  const file = path.join(__dirname, '../../fixtures/modules/fixture-basics/v1.yaml');
  const { module, problems } = parseModuleSource(readFileSync(file), 'fixture-basics/v1.yaml');
  if (!module) throw new Error(problems.map((p) => p.reason).join('\n'));
  return module.content;
}

const content = loadFixture();
const at = new Date('2026-03-02T10:00:00Z');
const pos = (overrides: Partial<PlayPosition>): PlayPosition => ({ scenarioIndex: 0, nodeId: 'arrival', step: 0, phase: 'node', ...overrides });

describe('initialPosition', () => {
  test('when an attempt starts, then it stands on the first scenario’s start node at step 0', () => {
    expect(initialPosition(content)).toEqual({ scenarioIndex: 0, nodeId: 'arrival', step: 0, phase: 'node' });
  });
});

describe('applyContinue', () => {
  test('when on a narrative, then it moves to its next node and counts a step', () => {
    expect(applyContinue(content, pos({}))).toEqual({ ok: true, position: pos({ nodeId: 'first', step: 1 }) });
  });

  test('when on feedback, then it moves to the chosen choice’s next node', () => {
    const move = applyContinue(content, pos({ nodeId: 'first', phase: 'feedback', choiceId: 'call-student', step: 3 }));
    expect(move).toEqual({ ok: true, position: pos({ nodeId: 'consequence', step: 4 }) });
  });

  test('when on the end of a scenario, then the next scenario starts; after the last one, the results', () => {
    expect(applyContinue(content, pos({ nodeId: 'done', step: 6 }))).toEqual({ ok: true, position: pos({ scenarioIndex: 1, nodeId: 'q1', step: 7 }) });
    expect(applyContinue(content, pos({ scenarioIndex: 1, nodeId: 'wrap-up', step: 12 }))).toEqual({
      ok: true,
      position: pos({ scenarioIndex: 1, nodeId: 'wrap-up', step: 13, phase: 'results' }),
    });
  });

  test('when on a decision, the results or an unknown node, then it is refused', () => {
    expect(applyContinue(content, pos({ nodeId: 'first' }))).toEqual({ ok: false, reason: 'not_a_decision' });
    expect(applyContinue(content, pos({ phase: 'results' }))).toEqual({ ok: false, reason: 'finished' });
    expect(applyContinue(content, pos({ nodeId: 'no-such-node' }))).toEqual({ ok: false, reason: 'not_current' });
    expect(applyContinue(content, pos({ nodeId: '__proto__' }))).toEqual({ ok: false, reason: 'not_current' });
    expect(applyContinue(content, pos({ nodeId: 'first', phase: 'feedback', choiceId: 'nope' }))).toEqual({ ok: false, reason: 'not_current' });
  });
});

describe('applyChoice', () => {
  test('when a choice of the current decision is made, then the decision is recorded with its outcome and points and the feedback is next', () => {
    const move = applyChoice(content, pos({ nodeId: 'first', step: 1 }), 'stall', at);
    expect(move).toEqual({
      ok: true,
      decision: { scenarioId: 'front-desk', nodeId: 'first', choiceId: 'stall', outcome: 'acceptable', points: 1, at },
      position: pos({ nodeId: 'first', step: 2, phase: 'feedback', choiceId: 'stall' }),
      isFinal: false,
    });
  });

  test('when the choice is unknown, the node is not a decision or the position is not a node, then it is refused', () => {
    expect(applyChoice(content, pos({ nodeId: 'first' }), 'decline', at)).toEqual({ ok: false, reason: 'unknown_choice' });
    expect(applyChoice(content, pos({ nodeId: 'arrival' }), 'notify', at)).toEqual({ ok: false, reason: 'not_a_decision' });
    expect(applyChoice(content, pos({ nodeId: 'first', phase: 'feedback', choiceId: 'notify' }), 'notify', at)).toEqual({ ok: false, reason: 'not_current' });
    expect(applyChoice(content, pos({ phase: 'results' }), 'notify', at)).toEqual({ ok: false, reason: 'finished' });
  });

  test('when the last decision of the last scenario is made, then it is final even though a narrative and the end still follow', () => {
    expect(applyChoice(content, pos({ scenarioIndex: 1, nodeId: 'q1' }), 'refuse', at)).toMatchObject({ ok: true, isFinal: false });
    expect(applyChoice(content, pos({ scenarioIndex: 1, nodeId: 'q2' }), 'forget', at)).toMatchObject({ ok: true, isFinal: true });
    expect(applyChoice(content, pos({ nodeId: 'second' }), 'decline', at)).toMatchObject({ ok: true, isFinal: false });
  });
});

describe('hasDecisionAhead', () => {
  test('when a later scenario exists, then a decision is ahead; in the last one, only if the path reaches one', () => {
    expect(hasDecisionAhead(content, 0, 'done')).toBe(true);
    expect(hasDecisionAhead(content, 1, 'q2')).toBe(true);
    expect(hasDecisionAhead(content, 1, 'after-call')).toBe(false);
    expect(hasDecisionAhead(content, 1, 'wrap-up')).toBe(false);
  });
});

describe('grade', () => {
  test('when every answer is best, then 100% passes; when all are wrong, 0% fails', () => {
    expect(grade(8, 4, 70)).toEqual({ score: 100, isPassed: true });
    expect(grade(0, 4, 70)).toEqual({ score: 0, isPassed: false });
  });

  test('when the percentage is exactly the pass mark, then it passes', () => {
    expect(grade(7, 5, 70)).toEqual({ score: 70, isPassed: true });
  });

  test('when the percentage is just under the pass mark, then the shown score is rounded down so it never reads as a pass', () => {
    // 39 of 56 points = 69.64 %
    expect(grade(39, 28, 70)).toEqual({ score: 69, isPassed: false });
    // 2 of 3 points-worth: 66.67 % shows 66
    expect(grade(4, 3, 60)).toEqual({ score: 66, isPassed: true });
  });

  test('when no decision was answered, then the score is 0 and fails', () => {
    expect(grade(0, 0, 1)).toEqual({ score: 0, isPassed: false });
  });
});

describe('a whole play-through', () => {
  test('when the best choice is taken at every decision, then the walk visits every step in order and ends in the results', () => {
    let position = initialPosition(content);
    const visited: string[] = [];
    let points = 0;
    let decisions = 0;
    for (let guard = 0; guard < 50 && position.phase !== 'results'; guard += 1) {
      visited.push(`${position.phase}:${position.nodeId}`);
      const node = content.scenarios[position.scenarioIndex].nodes[position.nodeId];
      if (position.phase === 'node' && node.type === 'decision') {
        const move = applyChoice(content, position, node.choices[0].id, at);
        if (!move.ok) throw new Error(move.reason);
        points += move.decision.points;
        decisions += 1;
        position = move.position;
      } else {
        const move = applyContinue(content, position);
        if (!move.ok) throw new Error(move.reason);
        position = move.position;
      }
    }
    expect(visited).toEqual([
      'node:arrival',
      'node:first',
      'feedback:first',
      'node:second',
      'feedback:second',
      'node:done',
      'node:q1',
      'feedback:q1',
      'node:q2',
      'feedback:q2',
      'node:after-call',
      'node:wrap-up',
    ]);
    expect(position.step).toBe(12);
    expect(grade(points, decisions, content.passMark)).toEqual({ score: 100, isPassed: true });
  });
});

describe('encodePosition / decodePosition (the form’s `at`)', () => {
  test('when a node or a feedback position is encoded, then it decodes to the same version and position', () => {
    const node = pos({ scenarioIndex: 2, nodeId: 'q1', step: 7 });
    const feedback = pos({ scenarioIndex: 0, nodeId: 'first', step: 2, phase: 'feedback', choiceId: 'call-student' });

    expect(encodePosition(3, node)).toBe('v3.2.node.q1');
    expect(encodePosition(1, feedback)).toBe('v1.0.feedback.first.call-student');
    expect(decodePosition('v3.2.node.q1')).toEqual({ version: 3, scenarioIndex: 2, phase: 'node', nodeId: 'q1' });
    expect(decodePosition('v1.0.feedback.first.call-student')).toEqual({ version: 1, scenarioIndex: 0, phase: 'feedback', nodeId: 'first', choiceId: 'call-student' });
  });

  test('when the value is not a claim (results phase, missing or extra parts, wrong case, operators, too long), then it decodes to nothing', () => {
    for (const value of [
      undefined,
      '',
      'v1.0.results.first',
      'v0.0.node.first',
      'v1.0.node',
      'v1.0.node.first.extra',
      'v1.0.feedback.first',
      'v1.0.node.First',
      'v1.0.node.first.a.b',
      '{"$gt":""}',
      'v1.0.node.__proto__',
      `v1.0.node.${'a'.repeat(300)}`,
    ]) {
      expect(decodePosition(value)).toBeUndefined();
    }
  });
});
