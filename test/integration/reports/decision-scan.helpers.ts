import { Attempt } from '../../../src/components/completions';

export type ScannedFigures = { attempts: number; counts: Map<string, number> };

/**
 * The reference for the decision tallies: the insights page's former scan, kept as it was — every finished attempt
 * (passed or failed) the match selects, each stored decision counted under scenario \0 node \0 choice.
 */
export async function scanDecisions(match: Record<string, unknown>): Promise<ScannedFigures> {
  const counts = new Map<string, number>();
  let attempts = 0;
  const cursor = Attempt.collection.find({ ...match, status: { $in: ['passed', 'failed'] } }, { projection: { _id: 0, decisions: 1 } });
  for await (const doc of cursor) {
    attempts += 1;
    for (const d of (doc.decisions ?? []) as { scenarioId: string; nodeId: string; choiceId: string }[]) {
      const key = `${d.scenarioId}\u0000${d.nodeId}\u0000${d.choiceId}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return { attempts, counts };
}
