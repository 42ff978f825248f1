import { bestModuleScore, isPassingScore, pathOutcomes, scorePercent, validateModuleData, type TrainingModuleContent } from '../../../src/components/content';
import { buildValidModule } from './fixtures/module.fixture';

function parsed(): TrainingModuleContent {
  const result = validateModuleData(buildValidModule(), 'x.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.module;
}

describe('scoring', () => {
  it('when points and decisions are given, then the score is points over 2 × decisions in percent', () => {
    expect(scorePercent(7, 4)).toBe(87.5);
    expect(scorePercent(0, 0)).toBe(0);
    expect(isPassingScore(70, 70)).toBe(true);
    expect(isPassingScore(69.9, 70)).toBe(false);
  });

  it('when a scenario branches, then every distinct (points, decisions) outcome is listed', () => {
    const outcomes = pathOutcomes(parsed().scenarios[0]!);

    expect(outcomes.map((o) => `${o.points}/${o.decisions}`).sort()).toEqual(['1/2', '2/2', '3/2', '4/2']);
  });

  it('when the best path of one scenario is partly right, then the module best combines all scenarios', () => {
    const module = buildValidModule();
    module.scenarios[1]!.nodes['q2']!.choices![0]!.outcome = 'wrong';
    const result = validateModuleData({ ...module, passMark: 50 }, 'x.yaml');

    expect(result.ok).toBe(true);
    expect(bestModuleScore(result.module!)).toBe(75);
  });
});
