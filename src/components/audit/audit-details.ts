/**
 * The audit log's "Details" in plain words: one sentence (and, for rule-like events, a short labelled list) per
 * event, in the reader's language. Display only — the stored event and its hash are never touched.
 *
 * Each action has a formatter (audit-details.actions.ts) that names every detail key it knows. An event whose
 * details hold a key the formatter does not know, or a value of an unexpected shape (an old event, a future
 * action), is shown as today's key=value text instead: never a half sentence, never "undefined".
 */
import type { TFunction } from 'i18next';
import type { Language } from '../users/user.model';
import { AUDIT_FORMATTERS } from './audit-details.actions';
import { NO_REFS, read, Words, type AuditDescription, type AuditFact, type AuditRefs } from './audit-words';

export type { AuditDescription, AuditFact, AuditRefs } from './audit-words';

/** A detail value as short text: nested objects as key=value, lists joined; never more than 200 characters. */
export function detailText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  // An out-of-range date (possible in BSON) has no ISO form: toISOString would throw.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Array.isArray(value)) return value.map(detailText).join(', ');
  if (typeof value === 'object') {
    const hex = (value as { toHexString?: () => string }).toHexString;
    if (typeof hex === 'function') return hex.call(value);
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${detailText(v)}`)
      .join(', ');
  }
  return String(value).slice(0, 200);
}

/** The stored details as key / value text (the fallback, and the "stored values" disclosure). */
export function rawFacts(details: unknown): AuditFact[] {
  const obj = read.obj(details);
  if (!obj) return details === null || details === undefined ? [] : [{ label: 'details', value: detailText(details) }];
  return Object.entries(obj).map(([label, v]) => ({ label, value: detailText(v) }));
}

/** Whether the action has a formatter (the unit test checks every action recorded in src has one). */
export function hasAuditFormatter(action: string): boolean {
  return Object.prototype.hasOwnProperty.call(AUDIT_FORMATTERS, action);
}

/** The event's details in words; the key=value text when the action or the shape is not known. Never throws. */
export function describeAuditDetails(event: { action: string; details?: unknown }, t: TFunction, lang: Language, refs: AuditRefs = NO_REFS): AuditDescription {
  const fallback = (): AuditDescription => ({ text: '', facts: rawFacts(event.details), isRaw: true });
  const formatter = hasAuditFormatter(event.action) ? AUDIT_FORMATTERS[event.action] : undefined;
  if (!formatter) return fallback();
  const details = event.details === null || event.details === undefined ? {} : read.obj(event.details);
  if (!details) return fallback();
  // Keys set to undefined are not stored; a key the formatter does not know means another shape.
  if (Object.entries(details).some(([k, v]) => v !== undefined && !formatter.keys.includes(k))) return fallback();
  try {
    const words = formatter.describe(details, new Words(t, lang, refs));
    if (!words || !isClean(words.text) || (words.facts ?? []).some((f) => !isClean(f.label) || !isClean(f.value))) return fallback();
    return { text: words.text, facts: words.facts ?? [], isRaw: false };
  } catch {
    return fallback();
  }
}

/** A sentence that leaked a missing key or value is worse than the raw values: fall back instead. */
function isClean(text: string): boolean {
  return typeof text === 'string' && text.length > 0 && !/undefined|\[object |NaN|audit\.describe\.|\{\{/.test(text);
}
