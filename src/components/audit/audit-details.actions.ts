/**
 * One formatter per audit action recorded in src (the unit test collects them from the source and fails on a
 * missing one). `keys` lists every detail key the action stores — also those left out of the words on purpose:
 * job, attempt and export ids (ObjectIds mean nothing to a reader; the "stored values" disclosure keeps them).
 * The words live in locales/<lang>/audit.json under `describe.<action with _>`.
 */
import type { AuditFormatter } from './audit-words';
import { PEOPLE_FORMATTERS } from './audit-details.people';
import { TRAINING_FORMATTERS } from './audit-details.training';

export const AUDIT_FORMATTERS: Readonly<Record<string, AuditFormatter>> = Object.freeze({ ...TRAINING_FORMATTERS, ...PEOPLE_FORMATTERS });
