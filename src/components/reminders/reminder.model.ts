import { Schema, model, type Types } from 'mongoose';

export const REMINDER_KINDS = ['manual', 'before_due', 'on_due', 'after_due', 'digest'] as const;
export const REMINDER_STATUSES = ['queued', 'sent', 'failed', 'cancelled'] as const;
/** Statuses a reminder never leaves; records in them are deleted after the retention period. */
export const FINAL_REMINDER_STATUSES = ['sent', 'failed', 'cancelled'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

/**
 * The outbox: one record per reminder email (reminder-runner.ts sends them). Holds who and why, never the
 * message body: the text is rendered at send time from the current compliance rows, so a person who
 * completed the training in the meantime is not emailed (the record ends 'cancelled').
 */
const reminderSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    // The school the reminder is about (manual: the principal's page; digest: null = all the principal's schools).
    school: { type: Schema.Types.ObjectId, ref: 'School', default: null },
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    kind: { type: String, enum: REMINDER_KINDS, required: true },
    // Automatic per-training reminders name their assignment; manual reminders and digests cover several (null).
    assignment: { type: Schema.Types.ObjectId, ref: 'Assignment', default: null },
    moduleSlug: { type: String, default: null },
    // The due date the reminder is about ('YYYY-MM-DD', district time), for automatic reminders.
    dueDate: { type: String, default: null },
    // Which occasion: '<dueDate>@-7' (7 days before), '<dueDate>@0', '<dueDate>@+14'; a manual reminder or a
    // digest: the local date it was asked for. With user, assignment and kind it is unique.
    cycle: { type: String, required: true },
    language: { type: String, enum: ['en', 'es'], required: true, default: 'en' },
    status: { type: String, enum: REMINDER_STATUSES, required: true, default: 'queued' },
    attempts: { type: Number, required: true, default: 0 },
    // A queued reminder is not tried before this (backoff after an SMTP failure).
    nextAttemptAt: { type: Date, required: true },
    // The runner holding it ("host:pid:random") until leaseUntil; a lapsed lease may be claimed again.
    owner: { type: String, default: null },
    leaseUntil: { type: Date, default: null },
    lastError: { type: String, default: null, maxlength: 500 },
    // Why a queued reminder was not sent (completed in the meantime, inactive, no email).
    cancelReason: { type: String, default: null },
    requestedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date, default: null },
    // When it reached a final status (sent, cancelled, failed): the retention period counts from here.
    closedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

// Guarantees one reminder per (person, training, kind, occasion) whatever the number of sweeps or clicks at
// once: a second insert fails with a duplicate key and is counted as already queued.
reminderSchema.index({ user: 1, assignment: 1, kind: 1, cycle: 1 }, { unique: true });
// Serves: the runner's claim — the queued reminder due longest ago.
reminderSchema.index({ status: 1, nextAttemptAt: 1 });
// Serves: "last reminded" per person on the school reminders page and the 24-hour rule for manual sends.
reminderSchema.index({ user: 1, createdAt: -1 });
// Serves: the district's recent failures (settings page).
reminderSchema.index({ district: 1, status: 1, createdAt: -1 });
// Serves: pruning final records older than the retention period (reminder-retention.ts).
reminderSchema.index({ closedAt: 1 });

export type ReminderRecord = {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  school: Types.ObjectId | null;
  user: Types.ObjectId;
  kind: ReminderKind;
  assignment: Types.ObjectId | null;
  moduleSlug: string | null;
  dueDate: string | null;
  cycle: string;
  language: 'en' | 'es';
  status: ReminderStatus;
  attempts: number;
  nextAttemptAt: Date;
  owner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  cancelReason: string | null;
  requestedBy: Types.ObjectId | null;
  createdAt: Date;
  sentAt: Date | null;
  closedAt: Date | null;
};

export const Reminder = model('Reminder', reminderSchema, 'reminders');
