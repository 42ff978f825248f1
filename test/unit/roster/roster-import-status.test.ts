import { canApplyAgain, failureOf, importStatusOf, rowsKeptUntil } from '../../../src/components/roster/roster-import.status';
import { valueFreeProblem } from '../../../src/components/roster/roster.service';

const requestedAt = new Date('2026-03-01T10:00:00Z');
const expiresAt = new Date('2026-03-01T11:00:00Z');

describe('importStatusOf', () => {
  test('when nobody pressed Apply, then it is no import at all', () => {
    expect(importStatusOf({ state: 'ready', owner: null, progress: { done: 0, total: 5 }, requestedAt: null })).toBeNull();
    expect(importStatusOf({ state: 'invalid', owner: null, progress: { done: 0, total: 0 }, requestedAt: null })).toBeNull();
  });

  test('when applying without an owner or progress, then queued; with a runner or progress written, then applying', () => {
    expect(importStatusOf({ state: 'applying', owner: null, progress: { done: 0, total: 5 }, requestedAt })).toBe('queued');
    expect(importStatusOf({ state: 'applying', owner: 'host:1:ab', progress: { done: 0, total: 5 }, requestedAt })).toBe('applying');
    // Handed back at shutdown after a batch: still under way, not back to queued.
    expect(importStatusOf({ state: 'applying', owner: null, progress: { done: 3, total: 5 }, requestedAt })).toBe('applying');
  });

  test('when applied, then done; failed or stale, then failed', () => {
    expect(importStatusOf({ state: 'applied', owner: 'x', progress: { done: 5, total: 5 }, requestedAt })).toBe('done');
    expect(importStatusOf({ state: 'failed', owner: null, progress: { done: 0, total: 5 }, requestedAt })).toBe('failed');
    expect(importStatusOf({ state: 'stale', owner: null, progress: { done: 0, total: 5 }, requestedAt })).toBe('failed');
  });
});

describe('failureOf and canApplyAgain', () => {
  test('when stale, then the reason is stale and it cannot be applied again', () => {
    expect(failureOf({ state: 'stale', error: 'stale' })).toBe('stale');
    expect(canApplyAgain({ state: 'stale', error: 'stale', expiresAt }, expiresAt)).toBe(false);
  });

  test('when failed with an unknown code, then the reason is the generic one', () => {
    expect(failureOf({ state: 'failed', error: 'something internal' })).toBe('error');
    expect(failureOf({ state: 'failed', error: 'requester_not_admin' })).toBe('requester_not_admin');
    expect(failureOf({ state: 'applied', error: null })).toBeNull();
  });

  test('when failed, then it can be applied again until shortly before its rows are removed (a day after expiry), unless they are gone', () => {
    const failed = { state: 'failed' as const, error: 'error', expiresAt };
    expect(canApplyAgain(failed, new Date('2026-03-02T10:00:00Z'))).toBe(true);
    expect(rowsKeptUntil(failed).getTime()).toBeLessThan(expiresAt.getTime() + 24 * 60 * 60 * 1000);
    expect(canApplyAgain(failed, new Date('2026-03-02T11:00:00Z'))).toBe(false);
    expect(canApplyAgain({ ...failed, error: 'rows_gone' }, expiresAt)).toBe(false);
  });
});

describe('valueFreeProblem', () => {
  test('when a problem quotes a cell, then only line numbers and counts are kept', () => {
    expect(valueFreeProblem({ line: 4, column: 'email', code: 'email_invalid', value: 'maria@' })).toEqual({ column: 'email', code: 'email_invalid' });
    expect(valueFreeProblem({ line: 8, column: 'email', code: 'email_taken', value: 'a@b.example', other: 'E12' })).toEqual({ column: 'email', code: 'email_taken' });
    expect(valueFreeProblem({ line: 9, column: 'employee_id', code: 'duplicate_employee_id', value: 'E4', other: '5' })).toEqual({ column: 'employee_id', code: 'duplicate_employee_id', other: '5' });
    expect(valueFreeProblem({ line: 9, column: '', code: 'column_count', value: '3', other: '8' })).toEqual({ column: '', code: 'column_count', value: '3', other: '8' });
    // A "line" that is not a number is dropped, whatever the code.
    expect(valueFreeProblem({ line: 9, column: 'email', code: 'duplicate_email', value: 'x', other: 'x@y' })).toEqual({ column: 'email', code: 'duplicate_email' });
  });
});
