/** The change one roster row makes to one person: pure, shared by the preview and the apply. */
import type { RosterRow } from './roster-row';
import type { RowAction, Snapshot } from './roster.model';

/** The stored person's roster fields (what the import owns), normalised for comparison. */
export type StoredPerson = {
  _id: { toString(): string };
  employeeId?: string | null;
  email: string;
  name: string;
  role: string;
  jobTitle?: string | null;
  schools?: { toString(): string }[] | null;
  preferredLanguage?: string | null;
  startDate?: Date | null;
  active?: boolean | null;
};

export const DIFF_FIELDS = ['employeeId', 'email', 'name', 'role', 'jobTitle', 'schools', 'preferredLanguage', 'startDate'] as const;
export type DiffField = (typeof DIFF_FIELDS)[number];

export function snapshotOf(u: StoredPerson): Snapshot {
  return {
    employeeId: u.employeeId ?? null,
    email: u.email,
    name: u.name,
    role: u.role,
    jobTitle: u.jobTitle ?? null,
    // In order: the first school is the person's default workplace and where district totals count them.
    schools: (u.schools ?? []).map(String),
    preferredLanguage: u.preferredLanguage ?? 'en',
    startDate: u.startDate ? u.startDate.toISOString().slice(0, 10) : null,
    active: u.active !== false,
  };
}

/** What the person should look like after the import. Blank language / start date keep the stored value. */
export function targetOf(row: RosterRow, before: Snapshot | null): Snapshot {
  return {
    employeeId: row.employeeId,
    email: row.email,
    name: row.name,
    role: row.role,
    jobTitle: row.role === 'staff' ? row.jobTitle : null,
    schools: [...row.schoolIds],
    preferredLanguage: row.language ?? before?.preferredLanguage ?? 'en',
    startDate: row.startDate ?? before?.startDate ?? null,
    active: true,
  };
}

function same(a: Snapshot[DiffField], b: Snapshot[DiffField]): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

export function changedFields(before: Snapshot, after: Snapshot): DiffField[] {
  return DIFF_FIELDS.filter((f) => !same(before[f], after[f]));
}

export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return changedFields(a, b).length === 0 && a.active === b.active;
}

/** create / reactivate / update, or null when nothing changes. */
export function actionFor(before: Snapshot | null, changes: readonly DiffField[]): RowAction | null {
  if (!before) return 'create';
  if (!before.active) return 'reactivate';
  return changes.length ? 'update' : null;
}
