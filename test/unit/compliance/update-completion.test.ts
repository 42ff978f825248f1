import {
  complianceStatus,
  deriveState,
  recertifiedAtOf,
  type AssignmentRules,
  type CompletionFact,
  type PersonFacts,
} from '../../../src/components/assignments/compliance-status';

const LA = 'America/Los_Angeles';

function rules(overrides: Partial<AssignmentRules> = {}): AssignmentRules {
  return {
    moduleSlug: 'foundations',
    audience: { roles: [], jobTitles: [], schools: [] },
    due: { kind: 'fixed', date: '2026-09-30' },
    recurrence: { kind: 'annual' },
    minVersion: 2,
    createdAt: new Date('2026-01-05T17:00:00Z'),
    ...overrides,
  };
}

const person: PersonFacts = { role: 'staff', jobTitle: 'teacher', schools: ['s1'], active: true };
const full = (version: number, completedAt: string, extra: Partial<CompletionFact> = {}): CompletionFact => ({
  moduleVersion: version,
  completedAt: new Date(completedAt),
  score: 90,
  method: 'played',
  certificateCode: `FULL${version}`,
  ...extra,
});
const update = (version: number, from: number, completedAt: string, recertifiedAt: string): CompletionFact => ({
  moduleVersion: version,
  completedAt: new Date(completedAt),
  score: 100,
  method: 'update',
  updatedFrom: from,
  recertifiedAt: new Date(recertifiedAt),
  certificateCode: `UPD${version}`,
});

const V1 = '2026-03-15T18:00:00Z'; // 15 March 2026, 11:00 in Los Angeles
const V2_UPDATE = '2026-09-01T18:00:00Z';

function state(completions: CompletionFact[], overrides: Partial<AssignmentRules> = {}) {
  return deriveState(rules(overrides), person, completions, [], LA);
}

describe('update completions and the recertification clock', () => {
  test('when the base completion was played, then recertifiedAtOf is its completedAt; for an update, its recertifiedAt', () => {
    expect(recertifiedAtOf(full(1, V1))).toEqual(new Date(V1));
    expect(recertifiedAtOf(update(2, 1, V2_UPDATE, V1))).toEqual(new Date(V1));
  });

  test('when someone holds v1 only and the assignment requires v2, then outdated', () => {
    expect(complianceStatus({ rules: rules(), person, completions: [full(1, V1)], attempts: [], timeZone: LA }, new Date('2026-09-02T00:00:00Z'))).toBe('outdated');
  });

  test('when they completed the v2 update, then the assignment requiring v2 is completed', () => {
    const completions = [full(1, V1), update(2, 1, V2_UPDATE, V1)];
    expect(complianceStatus({ rules: rules(), person, completions, attempts: [], timeZone: LA }, new Date('2026-09-02T00:00:00Z'))).toBe('completed');
  });

  test('when they completed the v2 update, then it counts until the base completion lapses (annual: 15 March 2027), not a year after the update', () => {
    const s = state([full(1, V1), update(2, 1, V2_UPDATE, V1)]);

    expect(s.hasSatisfying).toBe(true);
    // End of 15 March 2027 in Los Angeles (PDT): 16 March 07:00 UTC.
    expect(s.satisfiedUntil).toEqual(new Date('2027-03-16T07:00:00Z'));
    expect(s.completion).toMatchObject({ moduleVersion: 2, method: 'update', updatedFrom: 1, certificateCode: 'UPD2' });
    const at = (iso: string) => complianceStatus({ rules: rules(), person, completions: [full(1, V1), update(2, 1, V2_UPDATE, V1)], attempts: [], timeZone: LA }, new Date(iso));
    expect(at('2027-03-16T06:59:59Z')).toBe('completed');
    expect(at('2027-03-16T07:00:00Z')).toBe('expired');
  });

  test('when the assignment is school-year, then the update counts through the cycle end after the base completion', () => {
    const s = state([update(2, 1, V2_UPDATE, V1)], { recurrence: { kind: 'school_year', cycleEnd: '06-30' } });
    // Base completed 15 March 2026 → counts through 30 June 2026, although the update was played in September.
    expect(s.satisfiedUntil).toEqual(new Date('2026-07-01T07:00:00Z'));
  });

  test('when a later version was played in full after the update, then that full completion renews the clock and is the one shown', () => {
    const s = state([full(1, V1), update(2, 1, V2_UPDATE, V1), full(3, '2026-10-01T18:00:00Z')]);
    expect(s.satisfiedUntil).toEqual(new Date('2027-10-02T07:00:00Z'));
    expect(s.completion).toMatchObject({ moduleVersion: 3, method: null });
  });

  test('when an older full completion of a satisfying version has a later clock than a newer update, then the longest-counting one decides', () => {
    // v2 played in full on 1 May 2026; later a v3 update from v2 carries v2's clock (1 May 2026) — the
    // same; but a v3 update whose base is an older v1 clock must not shorten validity.
    const s = state([full(2, '2026-05-01T18:00:00Z'), update(3, 1, '2026-09-10T18:00:00Z', V1)]);
    expect(s.satisfiedUntil).toEqual(new Date('2027-05-02T07:00:00Z'));
    expect(s.completion).toMatchObject({ moduleVersion: 2 });
  });

  test('when the recurrence is none, then an update counts for good like any completion', () => {
    expect(state([update(2, 1, V2_UPDATE, V1)], { recurrence: { kind: 'none' } }).satisfiedUntil).toBeNull();
  });

  test('when an update is revoked, then it does not count and the person is outdated again', () => {
    const revoked = { ...update(2, 1, V2_UPDATE, V1), revokedAt: new Date('2026-09-05T00:00:00Z') };
    const s = state([full(1, V1), revoked]);
    expect(s.hasSatisfying).toBe(false);
    expect(s.isOutdated).toBe(true);
  });

  test('when the assignment requires v3, then a v2 update is an older version (outdated)', () => {
    const s = state([full(1, V1), update(2, 1, V2_UPDATE, V1)], { minVersion: 3 });
    expect(s.isOutdated).toBe(true);
    expect(s.completion).toMatchObject({ moduleVersion: 2, method: 'update', updatedFrom: 1 });
  });
});
