/** What the pages show about an import (a preview someone pressed Apply on): pure, from the stored record. */
import type { RosterPreviewRecord } from './roster.model';
import { ROWS_KEEP_MS } from './roster.service';

/** Why an import failed; the page explains each and says what to do. */
export const IMPORT_FAILURES = ['requester_not_admin', 'stale', 'rows_gone', 'stopped_repeatedly', 'error'] as const;
export type ImportFailure = (typeof IMPORT_FAILURES)[number];
export type ImportStatus = 'queued' | 'applying' | 'done' | 'failed';

/** A little before the rows' TTL removes them: a retry must find every row it needs. */
const RETRY_MARGIN_MS = 10 * 60 * 1000;

export function rowsKeptUntil(preview: Pick<RosterPreviewRecord, 'expiresAt'>): Date {
  return new Date(preview.expiresAt.getTime() + ROWS_KEEP_MS - RETRY_MARGIN_MS);
}

/** queued / applying / done / failed; null for a preview nobody applied. */
export function importStatusOf(preview: Pick<RosterPreviewRecord, 'state' | 'owner' | 'progress' | 'requestedAt'>): ImportStatus | null {
  if (!preview.requestedAt) return null;
  if (preview.state === 'applying') return !preview.owner && !preview.progress?.done ? 'queued' : 'applying';
  if (preview.state === 'applied') return 'done';
  if (preview.state === 'failed' || preview.state === 'stale') return 'failed';
  return null;
}

export function failureOf(preview: Pick<RosterPreviewRecord, 'state' | 'error'>): ImportFailure | null {
  if (preview.state === 'stale') return 'stale';
  if (preview.state !== 'failed') return null;
  return (IMPORT_FAILURES as readonly string[]).includes(preview.error ?? '') ? (preview.error as ImportFailure) : 'error';
}

/** A failed import can be applied again (its writes are idempotent) while its rows are kept — not a stale one. */
export function canApplyAgain(preview: Pick<RosterPreviewRecord, 'state' | 'error' | 'expiresAt'>, now = new Date()): boolean {
  return preview.state === 'failed' && preview.error !== 'rows_gone' && now < rowsKeptUntil(preview);
}

export function changeTotal(preview: Pick<RosterPreviewRecord, 'counts'>): number {
  const c = preview.counts;
  return c.create + c.update + c.reactivate + c.deactivate;
}
