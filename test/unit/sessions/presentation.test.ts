import path from 'node:path';
import { DEFAULT_CONTENT_SETTINGS_BY_LANG, loadModules, type LoadedModuleVersion } from '../../../src/components/content';
import { bestPath, buildPresentation, type Step } from '../../../src/components/sessions/presentation';
import { createRenderer } from '../../../src/components/training/training.view';

let modules: LoadedModuleVersion[];

beforeAll(async () => {
  const real = await loadModules(path.join(__dirname, '../../../modules'));
  const fixtures = await loadModules(path.join(__dirname, '../../fixtures/modules'));
  expect(real.problems).toEqual([]);
  modules = [...real.modules, ...fixtures.modules];
});

const decisions = (steps: readonly Step[]) => steps.flatMap((s) => (s.kind === 'scenario' && s.decision ? [s.decision] : []));

describe('buildPresentation', () => {
  test('when any module is laid out, then every node of every scenario appears and every decision shows all its choices', () => {
    for (const module of modules) {
      for (const lang of ['en', 'es'] as const) {
        const r = createRenderer(DEFAULT_CONTENT_SETTINGS_BY_LANG[lang], lang);
        const deck = buildPresentation(module, r);
        const html = JSON.stringify(deck.steps);
        for (const scenario of module.content.scenarios) {
          for (const [id, node] of Object.entries(scenario.nodes)) {
            const text = node.type === 'decision' ? node.prompt : node.text;
            expect([module.slug, lang, id, html.includes(JSON.stringify(r.block(text)).slice(1, -1))]).toEqual([module.slug, lang, id, true]);
          }
        }
        const shown = decisions(deck.steps);
        const all = module.content.scenarios.flatMap((s) => Object.entries(s.nodes).filter(([, n]) => n.type === 'decision'));
        expect(shown).toHaveLength(all.length);
        for (const decision of shown) {
          const node = module.content.scenarios.flatMap((s) => Object.entries(s.nodes)).find(([id]) => id === decision.id)![1];
          expect(node.type === 'decision' && decision.choices.map((c) => c.id)).toEqual(node.type === 'decision' && node.choices.map((c) => c.id));
          for (const choice of decision.choices) expect(choice.sources.length).toBeGreaterThan(0);
        }
        expect(deck.steps[0].kind).toBe('opening');
        expect(deck.steps.at(-1)!.kind).toBe('closing');
        expect(deck.steps.map((s) => s.number)).toEqual(deck.steps.map((_s, i) => i + 1));
      }
    }
  });

  test('when a choice leaves the best path, then its reveal carries what follows until the path is rejoined', () => {
    const fixture = modules.find((m) => m.slug === 'fixture-basics')!;
    const deck = buildPresentation(fixture, createRenderer(DEFAULT_CONTENT_SETTINGS_BY_LANG.en, 'en'));
    const first = decisions(deck.steps).find((d) => d.id === 'first')!;
    expect(first.choices.map((c) => [c.letter, c.outcome])).toEqual([['A', 'best'], ['B', 'acceptable'], ['C', 'wrong']]);
    expect(first.choices[0].consequenceHtml).toEqual([]);
    expect(first.choices[2].consequenceHtml.join('')).toContain('The student is now at the counter.');
  });
});

describe('bestPath', () => {
  test('when a scenario is walked by its best choices, then the path starts at start, follows best choices and ends at an end node', () => {
    for (const module of modules) {
      for (const scenario of module.content.scenarios) {
        const path = bestPath(scenario);
        expect(path[0]).toBe(scenario.start);
        expect(scenario.nodes[path.at(-1)!].type).toBe('end');
        for (let i = 0; i < path.length - 1; i++) {
          const node = scenario.nodes[path[i]];
          if (node.type === 'decision') expect(node.choices.find((c) => c.next === path[i + 1])).toBeDefined();
        }
      }
    }
  });
});
