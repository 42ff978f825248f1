/**
 * Compliance of one person with one assignment — the single definition used by /training, the school
 * and district pages, the stored compliance rows and the exports. Pure: no database, no clock.
 *
 * Two halves, so that stored rows stay correct as time passes without being rewritten:
 *   deriveState(rules, person, completions, attempts, timeZone) → the dated facts (stored per row)
 *   statusAt(state, now)                                         → the status at a moment
 * complianceStatus() composes them.
 */
import { addDays, addYears, endOfLocalDay, localDateOf, nextMonthDayOnOrAfter, type LocalDate } from './zoned-date';

export const COMPLIANCE_STATUSES = ['not_started', 'in_progress', 'completed', 'overdue', 'expired', 'outdated'] as const;
export type ComplianceStatus = (typeof COMPLIANCE_STATUSES)[number];

export type DueRule = { kind: 'fixed'; date: LocalDate } | { kind: 'relative'; days: number };
export type RecurrenceRule = { kind: 'none' } | { kind: 'annual' } | { kind: 'school_year'; cycleEnd: string };

export type AssignmentRules = {
  moduleSlug: string;
  audience: { roles: readonly string[]; jobTitles: readonly string[]; schools: readonly string[] };
  due: DueRule;
  recurrence: RecurrenceRule;
  /** Completions of this version or later satisfy the assignment. */
  minVersion: number;
  createdAt: Date;
};

export type PersonFacts = {
  role: string;
  jobTitle?: string | null;
  schools: readonly string[];
  active: boolean;
  startDate?: Date | null;
};

export type CompletionFact = {
  moduleVersion: number;
  completedAt: Date;
  /** None for a facilitated completion (a group session: nobody answered individually). */
  score?: number | null;
  method?: string | null;
  /** Update completions: the version updated from, and the instant recertification counts from. */
  updatedFrom?: number | null;
  recertifiedAt?: Date | null;
  certificateCode?: string | null;
  revokedAt?: Date | null;
};

export type AttemptFact = { status: string };

export type ComplianceState = {
  dueDate: LocalDate;
  /** The deadline instant: the end of dueDate in the district's zone. Overdue when now ≥ dueAt. */
  dueAt: Date;
  hasSatisfying: boolean;
  /** When the satisfying completion stops counting; null = never (no recurrence). */
  satisfiedUntil: Date | null;
  /** Completed only versions below the minimum. */
  isOutdated: boolean;
  /** Started (an open or failed attempt) without a satisfying completion. */
  isInProgress: boolean;
  /** The satisfying completion, or else the latest completion of an older version. */
  completion: {
    moduleVersion: number;
    completedAt: Date;
    score: number | null;
    method: 'facilitated' | 'update' | null;
    /** For an update completion: the version it updated from. */
    updatedFrom?: number;
    certificateCode: string | null;
  } | null;
};

/** Who an assignment is for: active people whose role, job title and school match (empty list = any). */
export function appliesTo(rules: AssignmentRules, person: PersonFacts): boolean {
  if (!person.active) return false;
  const { roles, jobTitles, schools } = rules.audience;
  if (roles.length > 0 && !roles.includes(person.role)) return false;
  if (jobTitles.length > 0 && !(person.jobTitle && jobTitles.includes(person.jobTitle))) return false;
  if (schools.length > 0 && !person.schools.some((s) => schools.includes(s))) return false;
  return true;
}

/**
 * The person's schools where an assignment applies, in their account's order: all of them, or only those its
 * audience names. A (person, assignment) row is listed and counted at these schools only — school pages, school
 * and region exports, digests — and once in district totals, under the first of them (docs/compliance.md).
 */
export function schoolsWhereApplies<T>(rules: Pick<AssignmentRules, 'audience'>, schools: readonly T[]): T[] {
  const named = rules.audience.schools;
  return named.length === 0 ? [...schools] : schools.filter((school) => named.includes(String(school)));
}

/** A fixed date, or N days after the later of the person's start date and the assignment's creation. */
export function dueDateFor(rules: AssignmentRules, person: PersonFacts, timeZone: string): { dueDate: LocalDate; dueAt: Date } {
  let dueDate: LocalDate;
  if (rules.due.kind === 'fixed') {
    dueDate = rules.due.date;
  } else {
    const start = person.startDate && person.startDate > rules.createdAt ? person.startDate : rules.createdAt;
    dueDate = addDays(localDateOf(start, timeZone), rules.due.days);
  }
  return { dueDate, dueAt: endOfLocalDay(dueDate, timeZone) };
}

/**
 * When a completion's recertification clock started: its own completedAt, except for an update (only the
 * changed scenarios were played), which keeps the clock of the full completion it updated.
 */
export function recertifiedAtOf(completion: Pick<CompletionFact, 'completedAt' | 'method' | 'recertifiedAt'>): Date {
  return completion.method === 'update' && completion.recertifiedAt ? completion.recertifiedAt : completion.completedAt;
}

/**
 * How long a completion counts: forever (none); through its first anniversary (annual: completed
 * 15 March 2025 counts through 15 March 2026); through the next cycle end date (school_year).
 */
export function validUntilFor(recurrence: RecurrenceRule, completedAt: Date, timeZone: string): Date | null {
  if (recurrence.kind === 'none') return null;
  const completedOn = localDateOf(completedAt, timeZone);
  const lastDay = recurrence.kind === 'annual' ? addYears(completedOn, 1) : nextMonthDayOnOrAfter(completedOn, recurrence.cycleEnd);
  return endOfLocalDay(lastDay, timeZone);
}

export function deriveState(
  rules: AssignmentRules,
  person: PersonFacts,
  completions: readonly CompletionFact[],
  attempts: readonly AttemptFact[],
  timeZone: string,
): ComplianceState {
  const { dueDate, dueAt } = dueDateFor(rules, person, timeZone);
  const valid = completions.filter((c) => !c.revokedAt);
  const latestOf = (list: readonly CompletionFact[]) =>
    list.reduce<CompletionFact | undefined>((best, c) => (!best || c.completedAt > best.completedAt ? c : best), undefined);
  // The satisfying completion that counts longest: validity grows with the recertification clock (an
  // update's is its base's), ties to the latest completed.
  const satisfying = valid
    .filter((c) => c.moduleVersion >= rules.minVersion)
    .reduce<CompletionFact | undefined>((best, c) => {
      if (!best) return c;
      const a = recertifiedAtOf(c).getTime();
      const b = recertifiedAtOf(best).getTime();
      return a > b || (a === b && c.completedAt > best.completedAt) ? c : best;
    }, undefined);
  const shown = satisfying ?? latestOf(valid);
  return {
    dueDate,
    dueAt,
    hasSatisfying: satisfying !== undefined,
    satisfiedUntil: satisfying ? validUntilFor(rules.recurrence, recertifiedAtOf(satisfying), timeZone) : null,
    isOutdated: satisfying === undefined && shown !== undefined,
    isInProgress: satisfying === undefined && attempts.some((a) => a.status === 'in_progress' || a.status === 'failed'),
    completion: shown
      ? {
          moduleVersion: shown.moduleVersion,
          completedAt: shown.completedAt,
          score: shown.score ?? null,
          method: shown.method === 'facilitated' || shown.method === 'update' ? shown.method : null,
          ...(shown.method === 'update' && shown.updatedFrom ? { updatedFrom: shown.updatedFrom } : {}),
          certificateCode: shown.certificateCode ?? null,
        }
      : null,
  };
}

type StatusInputs = Pick<ComplianceState, 'dueAt' | 'hasSatisfying' | 'satisfiedUntil' | 'isOutdated' | 'isInProgress'>;

/**
 * The status at `now`. Precedence: a satisfying completion decides (completed, or expired once it
 * lapses); else an older version only (outdated); else the deadline (overdue); else started or not.
 */
export function statusAt(state: StatusInputs, now: Date): ComplianceStatus {
  if (state.hasSatisfying) return state.satisfiedUntil === null || now < state.satisfiedUntil ? 'completed' : 'expired';
  if (state.isOutdated) return 'outdated';
  if (now >= state.dueAt) return 'overdue';
  return state.isInProgress ? 'in_progress' : 'not_started';
}

/** The status of a person for an assignment at `now`, or null when the assignment does not apply to them. */
export function complianceStatus(
  input: { rules: AssignmentRules; person: PersonFacts; completions: readonly CompletionFact[]; attempts: readonly AttemptFact[]; timeZone: string },
  now: Date,
): ComplianceStatus | null {
  if (!appliesTo(input.rules, input.person)) return null;
  return statusAt(deriveState(input.rules, input.person, input.completions, input.attempts, input.timeZone), now);
}

/** The MongoDB filter (over stored states) matching exactly the rows statusAt() gives `status` at `now`. */
export function statusFilter(status: ComplianceStatus, now: Date): Record<string, unknown> {
  switch (status) {
    case 'completed':
      return { hasSatisfying: true, $or: [{ satisfiedUntil: null }, { satisfiedUntil: { $gt: now } }] };
    case 'expired':
      return { hasSatisfying: true, satisfiedUntil: { $lte: now } };
    case 'outdated':
      return { hasSatisfying: false, isOutdated: true };
    case 'overdue':
      return { hasSatisfying: false, isOutdated: false, dueAt: { $lte: now } };
    case 'in_progress':
      return { hasSatisfying: false, isOutdated: false, dueAt: { $gt: now }, isInProgress: true };
    case 'not_started':
      return { hasSatisfying: false, isOutdated: false, dueAt: { $gt: now }, isInProgress: false };
  }
}

export type StatusCounts = Record<ComplianceStatus, number> & { total: number };

export function emptyCounts(): StatusCounts {
  return { not_started: 0, in_progress: 0, completed: 0, overdue: 0, expired: 0, outdated: 0, total: 0 };
}

export function addCounts(into: StatusCounts, from: StatusCounts): StatusCounts {
  for (const status of COMPLIANCE_STATUSES) into[status] += from[status];
  into.total += from.total;
  return into;
}

/** Share of required trainings (person × assignment) completed, 0–100, or null for none. */
export function compliancePercent(counts: StatusCounts): number | null {
  return counts.total === 0 ? null : Math.floor((counts.completed / counts.total) * 1000) / 10;
}
