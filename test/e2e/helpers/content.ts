import path from 'node:path';
import { loadModuleCatalog, type ModuleCatalog } from '../../../src/components/content';
import type { DecisionNode, Outcome } from '../../../src/components/content';

const modulesDir = path.join(__dirname, '..', '..', '..', 'modules');
let catalog: Promise<ModuleCatalog> | undefined;

/** The published training content, as the app loads it (the answer key for the journeys). */
export function moduleCatalog(): Promise<ModuleCatalog> {
  catalog ??= loadModuleCatalog(modulesDir);
  return catalog;
}

export type DecisionKey = { scenarioId: string; nodeId: string; choices: { id: string; outcome: Outcome; label: { en: string; es: string } }[] };

/** Every decision node of the latest version of a module, with its choices' outcomes. */
export async function decisionKeys(slug: string): Promise<DecisionKey[]> {
  const module = (await moduleCatalog()).getLatest(slug);
  if (!module) throw new Error(`no module ${slug} in modules/`);
  const keys: DecisionKey[] = [];
  for (const scenario of module.content.scenarios) {
    for (const [nodeId, node] of Object.entries(scenario.nodes)) {
      if (node.type !== 'decision') continue;
      const decision = node as DecisionNode;
      keys.push({ scenarioId: scenario.id, nodeId, choices: decision.choices.map((c) => ({ id: c.id, outcome: c.outcome, label: { en: c.label.en, es: c.label.es } })) });
    }
  }
  return keys;
}

/**
 * Given the choice values offered on a decision page, the id of the choice with the wanted outcome.
 * The decision is identified by its exact set of choice ids (and the node id when the page carries it).
 */
export function pickChoice(keys: DecisionKey[], offered: string[], want: Outcome, nodeId?: string): string {
  const offeredSet = [...offered].sort().join('|');
  const candidates = keys.filter((k) => (nodeId ? k.nodeId === nodeId : true) && k.choices.map((c) => c.id).sort().join('|') === offeredSet);
  if (candidates.length === 0) throw new Error(`no decision in the content offers choices [${offered.join(', ')}]${nodeId ? ` at node ${nodeId}` : ''}`);
  const outcomes = new Set(candidates.map((k) => k.choices.find((c) => c.outcome === want)?.id));
  if (outcomes.size !== 1) throw new Error(`ambiguous decision for choices [${offered.join(', ')}]`);
  const id = [...outcomes][0];
  if (!id) throw new Error(`decision [${offered.join(', ')}] has no ${want} choice`);
  return id;
}

/** The outcomes a decision offers, identified by its choice ids. */
export function availableOutcomes(keys: DecisionKey[], offered: string[]): Outcome[] {
  const offeredSet = [...offered].sort().join('|');
  const key = keys.find((k) => k.choices.map((c) => c.id).sort().join('|') === offeredSet);
  return key ? [...new Set(key.choices.map((c) => c.outcome))] : [];
}

export async function moduleTitle(slug: string, lang: 'en' | 'es'): Promise<string> {
  const module = (await moduleCatalog()).getLatest(slug);
  if (!module) throw new Error(`no module ${slug} in modules/`);
  return module.content.title[lang];
}
