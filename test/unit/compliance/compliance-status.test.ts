import { Query } from 'mingo';
import {
  COMPLIANCE_STATUSES,
  appliesTo,
  complianceStatus,
  deriveState,
  schoolsWhereApplies,
  statusAt,
  statusFilter,
  type AssignmentRules,
  type ComplianceState,
  type CompletionFact,
  type PersonFacts,
} from '../../../src/components/assignments/compliance-status';
import { countRows, countsAt, tallyRows } from '../../../src/components/assignments/compliance-tally';

const LA = 'America/Los_Angeles';

function rules(overrides: Partial<AssignmentRules> = {}): AssignmentRules {
  return {
    moduleSlug: 'foundations',
    audience: { roles: [], jobTitles: [], schools: [] },
    due: { kind: 'fixed', date: '2026-03-10' },
    recurrence: { kind: 'none' },
    minVersion: 1,
    createdAt: new Date('2026-01-05T17:00:00Z'),
    ...overrides,
  };
}

const person = (overrides: Partial<PersonFacts> = {}): PersonFacts => ({ role: 'staff', jobTitle: 'teacher', schools: ['s1'], active: true, ...overrides });
const completion = (version: number, completedAt: string, extra: Partial<CompletionFact> = {}): CompletionFact => ({
  moduleVersion: version,
  completedAt: new Date(completedAt),
  score: 90,
  certificateCode: `CODE${version}`,
  ...extra,
});

function status(at: string, input: { rules?: AssignmentRules; person?: PersonFacts; completions?: CompletionFact[]; attempts?: { status: string }[] } = {}) {
  return complianceStatus(
    { rules: input.rules ?? rules(), person: input.person ?? person(), completions: input.completions ?? [], attempts: input.attempts ?? [], timeZone: LA },
    new Date(at),
  );
}

describe('complianceStatus', () => {
  test('when nothing was started and the due date is ahead, then not_started', () => {
    expect(status('2026-02-01T12:00:00Z')).toBe('not_started');
  });

  test('when an attempt is open or failed and the due date is ahead, then in_progress', () => {
    expect(status('2026-02-01T12:00:00Z', { attempts: [{ status: 'in_progress' }] })).toBe('in_progress');
    expect(status('2026-02-01T12:00:00Z', { attempts: [{ status: 'failed' }] })).toBe('in_progress');
  });

  test('when a satisfying version was completed, then completed even after the due date', () => {
    expect(status('2026-05-01T12:00:00Z', { completions: [completion(1, '2026-02-01T12:00:00Z')] })).toBe('completed');
  });

  test('when the due date passed without a completion, then overdue (even if in progress)', () => {
    expect(status('2026-03-12T12:00:00Z')).toBe('overdue');
    expect(status('2026-03-12T12:00:00Z', { attempts: [{ status: 'in_progress' }] })).toBe('overdue');
  });

  test('when it is due today, then it is not overdue at any time of that local day', () => {
    // 10 March 2026, 23:59 in Los Angeles (PDT, UTC−7) is 06:59 UTC on the 11th.
    expect(status('2026-03-10T08:00:00Z')).toBe('not_started');
    expect(status('2026-03-11T06:59:59.999Z')).toBe('not_started');
  });

  test('when local midnight after the due date passes in the district time zone, then overdue at exactly that instant', () => {
    expect(status('2026-03-11T07:00:00.000Z')).toBe('overdue');
    // Standard time (UTC−8): due 10 January ends at 08:00 UTC on the 11th, not at UTC midnight.
    const january = rules({ due: { kind: 'fixed', date: '2026-01-10' } });
    expect(status('2026-01-11T00:30:00Z', { rules: january })).toBe('not_started');
    expect(status('2026-01-11T07:59:59.999Z', { rules: january })).toBe('not_started');
    expect(status('2026-01-11T08:00:00.000Z', { rules: january })).toBe('overdue');
  });

  test('when an annual completion reaches its anniversary, then it counts through that day and expires at the next local midnight', () => {
    const annual = rules({ recurrence: { kind: 'annual' } });
    const done = [completion(1, '2025-03-15T20:00:00Z')]; // 15 March 2025, 13:00 in Los Angeles
    expect(status('2026-03-16T06:59:59.999Z', { rules: annual, completions: done })).toBe('completed');
    expect(status('2026-03-16T07:00:00.000Z', { rules: annual, completions: done })).toBe('expired');
  });

  test('when a completion late in the evening is already the next day in UTC, then the anniversary uses the local date', () => {
    const annual = rules({ recurrence: { kind: 'annual' } });
    const done = [completion(1, '2025-03-16T05:30:00Z')]; // 15 March 2025, 22:30 in Los Angeles
    expect(status('2026-03-16T06:00:00Z', { rules: annual, completions: done })).toBe('completed');
    expect(status('2026-03-16T07:00:00Z', { rules: annual, completions: done })).toBe('expired');
  });

  test('when a school-year completion reaches the cycle end date, then it expires after that local day', () => {
    const schoolYear = rules({ recurrence: { kind: 'school_year', cycleEnd: '06-30' } });
    const done = [completion(1, '2025-09-10T16:00:00Z')];
    expect(status('2026-07-01T06:59:59Z', { rules: schoolYear, completions: done })).toBe('completed');
    expect(status('2026-07-01T07:00:00Z', { rules: schoolYear, completions: done })).toBe('expired');
    // Completed on 1 July: counts for the whole next school year.
    const july = [completion(1, '2026-07-01T16:00:00Z')];
    expect(status('2027-06-30T20:00:00Z', { rules: schoolYear, completions: july })).toBe('completed');
  });

  test('when an expired person completes again, then completed again', () => {
    const annual = rules({ recurrence: { kind: 'annual' } });
    const done = [completion(1, '2024-03-01T20:00:00Z'), completion(1, '2026-04-01T20:00:00Z')];
    expect(status('2026-05-01T12:00:00Z', { rules: annual, completions: done })).toBe('completed');
  });

  test('when the minimum version is raised after a completion, then outdated until the new version is completed', () => {
    const v2 = rules({ minVersion: 2 });
    const v1Done = [completion(1, '2026-02-01T12:00:00Z')];
    expect(status('2026-02-10T12:00:00Z', { rules: rules(), completions: v1Done })).toBe('completed');
    expect(status('2026-02-10T12:00:00Z', { rules: v2, completions: v1Done })).toBe('outdated');
    expect(status('2026-02-10T12:00:00Z', { rules: v2, completions: [...v1Done, completion(2, '2026-02-09T12:00:00Z')] })).toBe('completed');
  });

  test('when the only completion was revoked, then it does not count', () => {
    expect(status('2026-02-01T12:00:00Z', { completions: [completion(1, '2026-01-20T12:00:00Z', { revokedAt: new Date('2026-01-25T00:00:00Z') })] })).toBe('not_started');
  });

  test('when the person is inactive or outside the audience, then the assignment does not apply (null)', () => {
    expect(status('2026-02-01T12:00:00Z', { person: person({ active: false }) })).toBeNull();
    const frontOffice = rules({ audience: { roles: ['staff'], jobTitles: ['front_office'], schools: [] } });
    expect(status('2026-02-01T12:00:00Z', { rules: frontOffice })).toBeNull();
    expect(status('2026-02-01T12:00:00Z', { rules: frontOffice, person: person({ jobTitle: 'front_office' }) })).toBe('not_started');
    const twoSchools = rules({ audience: { roles: [], jobTitles: [], schools: ['s2', 's3'] } });
    expect(appliesTo(twoSchools, person())).toBe(false);
    expect(appliesTo(twoSchools, person({ schools: ['s1', 's3'] }))).toBe(true);
    expect(appliesTo(rules({ audience: { roles: ['principal'], jobTitles: [], schools: [] } }), person())).toBe(false);
  });

  test('when an assignment names schools, then it applies at those of the person’s schools only, in their account’s order; naming none, at all of them', () => {
    const named = rules({ audience: { roles: [], jobTitles: [], schools: ['s3', 's1'] } });
    expect(schoolsWhereApplies(named, ['s1', 's2', 's3'])).toEqual(['s1', 's3']);
    expect(schoolsWhereApplies(named, ['s2'])).toEqual([]);
    expect(schoolsWhereApplies(rules(), ['s2', 's1'])).toEqual(['s2', 's1']);
    // Stored ids (ObjectId-like) compare by their string form and come back as they were.
    const ids = [{ toString: () => 's2' }, { toString: () => 's3' }];
    expect(schoolsWhereApplies(named, ids)).toEqual([ids[1]]);
  });

  test('when due N days after start, then the later of start date and assignment creation counts, in local dates', () => {
    const relative = rules({ due: { kind: 'relative', days: 30 }, createdAt: new Date('2026-01-05T17:00:00Z') });
    // Started long before: 30 days after creation (5 Jan) = 4 Feb.
    expect(deriveState(relative, person({ startDate: new Date('2020-08-01T00:00:00Z') }), [], [], LA).dueDate).toBe('2026-02-04');
    // No start date: from creation too.
    expect(deriveState(relative, person(), [], [], LA).dueDate).toBe('2026-02-04');
    // Started after creation: from the start date (local date in Los Angeles: 1 Feb 20:00 = 1 Feb).
    expect(deriveState(relative, person({ startDate: new Date('2026-02-02T04:00:00Z') }), [], [], LA).dueDate).toBe('2026-03-03');
  });
});

describe('statusFilter and tallies agree with statusAt', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const instants = [new Date('2026-02-01T00:00:00Z'), now, new Date('2026-04-01T00:00:00Z')];
  const states: ComplianceState[] = [];
  for (const dueAt of instants) {
    for (const until of [null, ...instants]) {
      for (const hasSatisfying of [true, false]) {
        for (const isOutdated of [true, false]) {
          for (const isInProgress of [true, false]) {
            if (hasSatisfying && isOutdated) continue;
            states.push({ dueDate: '2026-01-01', dueAt, hasSatisfying, satisfiedUntil: hasSatisfying ? until : null, isOutdated, isInProgress, completion: null });
          }
        }
      }
    }
  }

  test('when rows are filtered by a status query, then exactly the rows statusAt gives that status match', () => {
    for (const s of COMPLIANCE_STATUSES) {
      const query = new Query(statusFilter(s, now));
      for (const state of states) expect([s, query.test(state as unknown as Record<string, unknown>)]).toEqual([s, statusAt(state, now) === s]);
    }
  });

  test('when rows are tallied, then counts at any moment equal counting statusAt over the rows', () => {
    const tally = tallyRows(states);
    for (const at of [new Date('2026-01-01T00:00:00Z'), ...instants, new Date('2027-01-01T00:00:00Z')]) {
      expect(countsAt(tally, at)).toEqual(countRows(states, at));
    }
    expect(countsAt(tally, now).total).toBe(states.length);
  });
});
