import { keyPlan, PUBLISH_AHEAD_MS, RETIRED_PUBLISHED_MS } from '../../../src/components/lti/lti-tool-key';

/** Which tool key signs, which are published, which are deleted, and when the next is made (docs/lti.md "The tool's key"). */
const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const row = (generation: number, activeFromDays: number) => ({ kid: `k${generation}`, generation, activeFrom: at(activeFromDays), publicJwk: { kty: 'RSA', n: 'n', e: 'AQAB' } });
const kids = (rows: readonly { kid: string }[]) => rows.map((r) => r.kid);

test('when the signing key is younger than its age less two days, then nothing is made and only it is published', () => {
  const plan = keyPlan([row(1, 0)], at(177.9), 180);
  expect(plan.signing?.kid).toBe('k1');
  expect(kids(plan.published)).toEqual(['k1']);
  expect(plan.next).toBeUndefined();
  expect(plan.expired).toEqual([]);
});

test('when it is two days from its age, then the next generation is due, to sign exactly at the age; later than that, two days from now', () => {
  expect(keyPlan([row(1, 0)], at(178), 180).next).toEqual({ generation: 2, activeFrom: at(180) });
  // The server was off on the due day: the next still gets its two days in the key set.
  expect(keyPlan([row(1, 0)], at(400), 180).next).toEqual({ generation: 2, activeFrom: new Date(at(400).getTime() + PUBLISH_AHEAD_MS) });
  expect(keyPlan([row(1, 0)], at(400), 0).next).toBeUndefined();
});

test('when the next key exists but its date has not come, then the current one signs and both are published', () => {
  const plan = keyPlan([row(1, 0), row(2, 180)], at(179), 180);
  expect(plan.signing?.kid).toBe('k1');
  expect(kids(plan.published)).toEqual(['k1', 'k2']);
  expect(plan.next).toBeUndefined();
});

test('when the next key\'s date has come, then it signs; the old one is published a week more, then expires', () => {
  const rows = [row(2, 180), row(1, 0)];
  const switched = keyPlan(rows, at(180), 180);
  expect(switched.signing?.kid).toBe('k2');
  expect(kids(switched.published)).toEqual(['k1', 'k2']);
  expect(switched.published[0].retiresAt).toEqual(new Date(at(180).getTime() + RETIRED_PUBLISHED_MS));
  const later = keyPlan(rows, at(187), 180);
  expect(kids(later.published)).toEqual(['k2']);
  expect(kids(later.expired)).toEqual(['k1']);
});

test('when there are no keys, then nothing signs and nothing is due (the first key is made on need)', () => {
  expect(keyPlan([], at(0), 180)).toEqual({ signing: undefined, published: [], expired: [], next: undefined });
});
