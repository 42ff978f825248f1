import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseModuleSource, type LoadedModuleVersion } from '../../../src/components/content';
import { applyChoice, applyContinue, decodePosition, encodePosition, initialPosition } from '../../../src/components/training/training.progress';
import { playContent, updateMinutes, updateOfferFor } from '../../../src/components/training/training.update';

const NOTE = { en: 'Phone call revised.', es: 'Llamada revisada.' };

/** fixture-basics as version 3 with update paths from 1 (the phone call) and from 2 (both scenarios, 7 minutes). */
function loadVersion3(): LoadedModuleVersion {
  const v1 = readFileSync(path.join(__dirname, '../../fixtures/modules/fixture-basics/v1.yaml'), 'utf8');
  const v3 = v1
    .replace('version: 1\n', 'version: 3\n')
    .replace('es: "Primera versión." } }\n', 'es: "Primera versión." } }\n  - { version: 3, date: 2026-05-01, note: { en: "Revised.", es: "Revisado." } }\n')
    .replace(
      'sources:\n',
      `updates:\n  - { from: 1, scenarios: [by-phone], note: { en: "${NOTE.en}", es: "${NOTE.es}" } }\n  - { from: 2, scenarios: [by-phone, front-desk], note: { en: "${NOTE.en}", es: "${NOTE.es}" }, estimatedMinutes: 7 }\nsources:\n`,
    );
  const { module, problems } = parseModuleSource(v3, 'fixture-basics/v3.yaml');
  if (!module) throw new Error(problems.map((p) => `${p.path}: ${p.reason}`).join('\n'));
  return module;
}

const v3 = loadVersion3();
const held = (moduleVersion: number, revoked = false) => ({ moduleVersion, completedAt: new Date('2026-01-10T00:00:00Z'), revokedAt: revoked ? new Date() : null });

describe('updateOfferFor', () => {
  test('when the highest version held has a declared path, then that update is offered with its scenarios and time', () => {
    const offer = updateOfferFor(v3, [held(1)]);
    expect(offer).toMatchObject({ from: 1, version: 3, note: NOTE, estimatedMinutes: 5 });
    expect(offer?.scenarios.map((s) => s.id)).toEqual(['by-phone']);
  });

  test('when several versions are held, then the highest decides (and the author’s minutes are used when given)', () => {
    const offer = updateOfferFor(v3, [held(1), held(2)]);
    expect(offer?.from).toBe(2);
    expect(offer?.estimatedMinutes).toBe(7);
    // The module's order, whatever the order of the list.
    expect(offer?.scenarios.map((s) => s.id)).toEqual(['front-desk', 'by-phone']);
  });

  test('when nothing is held, the latest is held, only revoked completions are held, or no path starts at the held version, then nothing is offered', () => {
    expect(updateOfferFor(v3, [])).toBeUndefined();
    expect(updateOfferFor(v3, [held(1), held(3)])).toBeUndefined();
    expect(updateOfferFor(v3, [held(1, true)])).toBeUndefined();
    const noPath = { ...v3, content: { ...v3.content, updates: [] } };
    expect(updateOfferFor(noPath, [held(1)])).toBeUndefined();
  });

  test('when a revoked higher version is held next to a valid lower one, then the lower one decides', () => {
    expect(updateOfferFor(v3, [held(1), held(2, true)])?.from).toBe(1);
  });

  test('updateMinutes scales the module time by the share of scenarios, at least 1', () => {
    expect(updateMinutes(v3, v3.content.updates![0]!)).toBe(5);
  });
});

describe('playContent and the player state machine for an update', () => {
  test('when an update attempt starts, then it stands on the first listed scenario and ends after it', () => {
    const content = playContent(v3, 1);
    expect(content.scenarios.map((s) => s.id)).toEqual(['by-phone']);
    expect(playContent(v3, 1)).toBe(content); // built once
    expect(playContent(v3)).toBe(v3.content);
    const start = initialPosition(content);
    expect(start).toEqual({ scenarioIndex: 0, nodeId: 'q1', step: 0, phase: 'node' });
    const first = applyChoice(content, start, 'refuse', new Date());
    expect(first.ok && first.isFinal).toBe(false);
    const q2 = applyContinue(content, first.ok ? first.position : start);
    const last = applyChoice(content, q2.ok ? q2.position : start, 'log', new Date());
    expect(last.ok && last.isFinal).toBe(true);
  });

  test('when a path is not declared, then playContent throws', () => {
    expect(() => playContent(v3, 4)).toThrow(/no update from version 4/);
  });

  test('when an update position is encoded, then the claim names the update and decodes back; a full claim has no updateFrom', () => {
    const position = { scenarioIndex: 0, nodeId: 'q2', step: 3, phase: 'feedback' as const, choiceId: 'log' };
    expect(encodePosition(3, position, 1)).toBe('v3u1.0.feedback.q2.log');
    expect(decodePosition('v3u1.0.feedback.q2.log')).toEqual({ version: 3, updateFrom: 1, scenarioIndex: 0, phase: 'feedback', nodeId: 'q2', choiceId: 'log' });
    expect(decodePosition('v3.0.node.q2')).toEqual({ version: 3, scenarioIndex: 0, phase: 'node', nodeId: 'q2' });
    for (const bad of ['v3u.0.node.q2', 'v3u0.0.node.q2', 'v3U1.0.node.q2', 'v3u1u2.0.node.q2']) expect(decodePosition(bad)).toBeUndefined();
  });
});
