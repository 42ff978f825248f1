import { validateModuleData, type ContentProblem } from '../../../src/components/content';
import { buildValidModule, type FixtureChoice, type ModuleFixture } from './fixtures/module.fixture';

const FILE = 'modules/sample-module/v1.yaml';
const EXPECTED = { slug: 'sample-module', version: 1 };

function problemsOf(mutate: (module: ModuleFixture) => void): ContentProblem[] {
  const module = buildValidModule();
  mutate(module);
  return validateModuleData(module, FILE, EXPECTED).problems;
}

function decision(module: ModuleFixture, scenario: number, nodeId: string): { choices: FixtureChoice[] } {
  const choices = module.scenarios[scenario]?.nodes[nodeId]?.choices;
  if (!choices) throw new Error(`fixture has no decision ${nodeId}`);
  return { choices };
}

describe('validateModuleData', () => {
  it('when the module is valid, then it reports no problems and returns the parsed module', () => {
    const result = validateModuleData(buildValidModule(), FILE, EXPECTED);

    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.module?.scenarios).toHaveLength(2);
  });

  it('when a choice links to a node that does not exist, then the dangling next is reported at its path', () => {
    const problems = problemsOf((m) => {
      decision(m, 0, 'first').choices[1]!.next = 'nowhere';
    });

    expect(problems).toContainEqual({
      file: FILE,
      path: 'scenarios[0].nodes.first.choices[1].next',
      reason: '"nowhere" is not a node of scenario "front-desk"',
    });
  });

  it('when start names a missing node, then start is reported', () => {
    const problems = problemsOf((m) => {
      m.scenarios[1]!.start = 'missing';
    });

    expect(problems.map((p) => p.path)).toContain('scenarios[1].start');
  });

  it('when a node cannot be reached from start, then that node is reported as unreachable', () => {
    const problems = problemsOf((m) => {
      m.scenarios[0]!.nodes['orphan'] = { type: 'end', text: { en: 'Lost.', es: 'Perdido.' } };
    });

    expect(problems).toEqual([{ file: FILE, path: 'scenarios[0].nodes.orphan', reason: 'node is not reachable from start "arrival"' }]);
  });

  it('when a choice leads back to an earlier node, then the cycle is reported at the next that closes it', () => {
    const problems = problemsOf((m) => {
      decision(m, 0, 'second').choices[1]!.next = 'arrival';
    });

    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('scenarios[0].nodes.second.choices[1].next');
    expect(problems[0]?.reason).toMatch(/cycle \(arrival → first → second → arrival\)/);
  });

  it('when a narrative links to itself, then the path with no end is reported', () => {
    const problems = problemsOf((m) => {
      m.scenarios[0]!.nodes['consequence']!.next = 'consequence';
    });

    expect(problems.map((p) => [p.path, /cycle/.test(p.reason)])).toContainEqual(['scenarios[0].nodes.consequence.next', true]);
  });

  it('when no path through the module reaches the pass mark, then passMark is reported with the best score', () => {
    const problems = problemsOf((m) => {
      for (const choice of decision(m, 1, 'q1').choices) choice.outcome = 'acceptable';
      m.passMark = 90;
    });

    // best path: 2+2 in scenario 0, 1+2 in scenario 1 → 7 of 8 points = 87.5%
    expect(problems).toEqual([{ file: FILE, path: 'passMark', reason: 'no path through the module reaches the pass mark of 90% (the best path scores 87.5%)' }]);
  });

  it('when the best path scores exactly the pass mark, then the module passes', () => {
    const problems = problemsOf((m) => {
      for (const choice of decision(m, 1, 'q1').choices) choice.outcome = 'acceptable';
      for (const choice of decision(m, 1, 'q2').choices) choice.outcome = 'acceptable';
      m.passMark = 75;
    });

    expect(problems).toEqual([]);
  });

  it('when a scenario has fewer than two decisions on every path, then the scenario is reported', () => {
    const problems = problemsOf((m) => {
      decision(m, 1, 'q1').choices.forEach((choice) => {
        choice.next = 'wrap-up';
      });
      delete m.scenarios[1]!.nodes['q2'];
    });

    expect(problems).toEqual([
      { file: FILE, path: 'scenarios[1]', reason: 'scenario "by-phone" has at most 1 decision(s) on any path; it needs at least 2 on some path' },
    ]);
  });

  it('when a Spanish string is missing or blank, then each is reported at its language path', () => {
    const problems = problemsOf((m) => {
      delete decision(m, 0, 'first').choices[0]!.label.es;
      m.takeaways[0]!.es = '   ';
    });

    expect(problems).toEqual([
      { file: FILE, path: 'scenarios[0].nodes.first.choices[0].label.es', reason: 'the Spanish text is missing' },
      { file: FILE, path: 'takeaways[0].es', reason: 'the Spanish text must not be empty' },
    ]);
  });

  it('when a text uses an unknown placeholder, then the placeholder is named', () => {
    const problems = problemsOf((m) => {
      m.introduction.es = 'Llame a {{principle}} o a {{principal.email}}.';
    });

    expect(problems).toEqual([
      { file: FILE, path: 'introduction.es', reason: 'unknown placeholder {{principle}}' },
      { file: FILE, path: 'introduction.es', reason: 'unknown placeholder {{principal.email}}' },
    ]);
  });

  it('when a placeholder is malformed, then it is reported', () => {
    const problems = problemsOf((m) => {
      m.summary.en = 'Call {{principal} now.';
    });

    expect(problems.map((p) => [p.path, p.reason.startsWith('malformed placeholder')])).toEqual([['summary.en', true]]);
  });

  it('when a choice cites a fact that is not in sources, then the fact is reported', () => {
    const problems = problemsOf((m) => {
      decision(m, 1, 'q2').choices[0]!.facts = ['F7', 'F99'];
    });

    expect(problems).toEqual([{ file: FILE, path: 'scenarios[1].nodes.q2.choices[0].facts[1]', reason: 'fact F99 is not listed in sources' }]);
  });

  it('when version and slug differ from the file location, then both are reported', () => {
    const result = validateModuleData(buildValidModule(), 'modules/other/v2.yaml', { slug: 'other', version: 2 });

    expect(result.problems.map((p) => p.path)).toEqual(['slug', 'version']);
    expect(result.problems[1]?.reason).toBe('version 1 must equal the file name\'s version (v2.yaml)');
  });

  it('when a version after the first has no changelog entry for itself, then changelog is reported', () => {
    const module = buildValidModule();
    module.version = 2;

    const result = validateModuleData(module, 'modules/sample-module/v2.yaml', { slug: 'sample-module', version: 2 });

    expect(result.problems).toEqual([{ file: 'modules/sample-module/v2.yaml', path: 'changelog', reason: 'a changelog entry for version 2 is required' }]);
  });

  it('when a field name has a typo, then the unknown field is reported', () => {
    const problems = problemsOf((m) => {
      m.scenarios[0]!.nodes['consequence']!['nxt'] = 'second';
    });

    expect(problems).toContainEqual({ file: FILE, path: 'scenarios[0].nodes.consequence.nxt', reason: 'unknown field "nxt" (typo?)' });
  });

  it('when schema values are out of range, then each field is reported', () => {
    const problems = problemsOf((m) => {
      m.passMark = 0;
      m.audience.roles = ['staff', 'teacher'];
      m.sources[0]!.id = 'X7';
      decision(m, 0, 'first').choices[0]!.outcome = 'great';
    });

    expect(problems.map((p) => p.path)).toEqual([
      'passMark',
      'audience.roles[1]',
      'sources[0].id',
      'scenarios[0].nodes.first.choices[0].outcome',
    ]);
  });

  it('when text contains raw HTML, then it is rejected', () => {
    const problems = problemsOf((m) => {
      m.introduction.en = 'Hello <b>there</b>';
    });

    expect(problems).toEqual([{ file: FILE, path: 'introduction.en', reason: 'raw HTML is not allowed (use the Markdown subset)' }]);
  });

  it('when two choices of a node share an id, then the repeat is reported', () => {
    const problems = problemsOf((m) => {
      decision(m, 0, 'second').choices[1]!.id = 'decline';
    });

    expect(problems).toEqual([{ file: FILE, path: 'scenarios[0].nodes.second.choices[1].id', reason: 'choice id "decline" is used more than once' }]);
  });
});
