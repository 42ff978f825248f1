/**
 * Per-(school, assignment) tallies that give exact status counts at any moment without touching rows:
 * the only time-dependent transitions (completed → expired, not started/in progress → overdue) happen
 * at stored instants, so the tally keeps counts keyed by those instants and countsAt() compares them
 * with now. Pure; the summaries collection stores these.
 */
import { emptyCounts, statusAt, type ComplianceState, type StatusCounts } from './compliance-status';

type TallyInput = Pick<ComplianceState, 'dueAt' | 'hasSatisfying' | 'satisfiedUntil' | 'isOutdated' | 'isInProgress'>;

export type Tally = {
  rows: number;
  outdated: number;
  /** [satisfiedUntil ms or null (never lapses), count] */
  satisfied: [number | null, number][];
  /** [dueAt ms, 1 if in progress else 0, count] for rows with no completion at all */
  open: [number, number, number][];
};

export function emptyTally(): Tally {
  return { rows: 0, outdated: 0, satisfied: [], open: [] };
}

/** Builds a tally one row at a time (rows can be streamed from a cursor). */
export class TallyBuilder {
  private rows = 0;
  private outdated = 0;
  private readonly satisfied = new Map<number | null, number>();
  private readonly open = new Map<string, [number, number, number]>();

  add(row: TallyInput): void {
    this.rows += 1;
    if (row.hasSatisfying) {
      const key = row.satisfiedUntil ? row.satisfiedUntil.getTime() : null;
      this.satisfied.set(key, (this.satisfied.get(key) ?? 0) + 1);
    } else if (row.isOutdated) {
      this.outdated += 1;
    } else {
      const due = row.dueAt.getTime();
      const flag = row.isInProgress ? 1 : 0;
      const key = `${due}:${flag}`;
      const bucket = this.open.get(key);
      if (bucket) bucket[2] += 1;
      else this.open.set(key, [due, flag, 1]);
    }
  }

  build(): Tally {
    return { rows: this.rows, outdated: this.outdated, satisfied: [...this.satisfied.entries()], open: [...this.open.values()].map((b) => [...b] as [number, number, number]) };
  }
}

export function tallyRows(rows: Iterable<TallyInput>): Tally {
  const builder = new TallyBuilder();
  for (const row of rows) builder.add(row);
  return builder.build();
}

/** The status counts at `now` — equal to counting statusAt() over the tallied rows. */
export function countsAt(tally: Tally, now: Date): StatusCounts {
  const counts = emptyCounts();
  const t = now.getTime();
  for (const [until, n] of tally.satisfied) {
    if (until === null || t < until) counts.completed += n;
    else counts.expired += n;
  }
  counts.outdated += tally.outdated;
  for (const [due, inProgress, n] of tally.open) {
    if (t >= due) counts.overdue += n;
    else if (inProgress) counts.in_progress += n;
    else counts.not_started += n;
  }
  counts.total = tally.rows;
  return counts;
}

/** Counts statusAt() over rows directly (for small sets already in memory, e.g. one school's page). */
export function countRows(rows: Iterable<TallyInput>, now: Date): StatusCounts {
  const counts = emptyCounts();
  for (const row of rows) {
    counts[statusAt(row, now)] += 1;
    counts.total += 1;
  }
  return counts;
}
