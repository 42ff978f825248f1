import type { Scenario } from '../../../src/components/content';
import { orderNodes } from '../../../src/components/modules-admin/modules-admin.view';

const text = { en: 'x', es: 'x' };
const choice = (id: string, next: string) => ({ id, label: text, outcome: 'best' as const, feedback: text, facts: ['F1'], next });

function scenario(start: string, nodes: Scenario['nodes']): Scenario {
  return { id: 's', title: text, setting: text, start, nodes };
}

describe('orderNodes', () => {
  test('when a wrong choice branches to a consequence listed before the next decision, then every node follows all the nodes that lead to it', () => {
    const order = orderNodes(
      scenario('arrival', {
        done: { type: 'end', text },
        second: { type: 'decision', prompt: text, choices: [choice('a', 'done'), choice('b', 'done')] },
        consequence: { type: 'narrative', text, next: 'second' },
        first: { type: 'decision', prompt: text, choices: [choice('good', 'second'), choice('bad', 'consequence')] },
        arrival: { type: 'narrative', text, next: 'first' },
      }),
    );

    expect(order).toEqual(['arrival', 'first', 'consequence', 'second', 'done']);
  });

  test('when two nodes are ready at once, then they keep the order the file lists them in', () => {
    const order = orderNodes(
      scenario('q', {
        q: { type: 'decision', prompt: text, choices: [choice('x', 'end-b'), choice('y', 'end-a')] },
        'end-a': { type: 'end', text },
        'end-b': { type: 'end', text },
      }),
    );

    expect(order).toEqual(['q', 'end-a', 'end-b']);
  });

  test('when the graph has a cycle (refused by the loader), then no node is left out', () => {
    const order = orderNodes(
      scenario('a', {
        a: { type: 'narrative', text, next: 'b' },
        b: { type: 'narrative', text, next: 'a' },
      }),
    );

    expect(order.sort()).toEqual(['a', 'b']);
  });
});
