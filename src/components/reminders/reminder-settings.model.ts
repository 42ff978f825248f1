import { Schema, model, type Types } from 'mongoose';
import type { ReminderSettingsInput } from './reminders.schemas';

/**
 * A district's automatic reminder schedule (edited on the district settings page). Off by default: a
 * district turns it on deliberately. Kept beside the reminders rather than in District so it evolves alone.
 */
const reminderSettingsSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    enabled: { type: Boolean, required: true, default: false },
    // Days before the due date (e.g. [7, 1]).
    daysBefore: { type: [Number], default: [7, 1] },
    onDueDate: { type: Boolean, required: true, default: true },
    // After the due date: every N days, at most M times (0 = none).
    afterEveryDays: { type: Number, required: true, default: 7, min: 1, max: 90 },
    afterTimes: { type: Number, required: true, default: 3, min: 0, max: 12 },
    // A weekly digest to each principal of their overdue staff, on this weekday (1 = Monday … 7 = Sunday).
    principalDigest: { type: Boolean, required: true, default: true },
    digestWeekday: { type: Number, required: true, default: 1, min: 1, max: 7 },
    // The local hour (0–23, district time zone) from which a day's automatic reminders and digests go out.
    sendHour: { type: Number, required: true, default: 7, min: 0, max: 23 },
    updatedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

// Serves: the one settings record of a district (read by the sweep and the settings page).
reminderSettingsSchema.index({ district: 1 }, { unique: true });

export type ReminderSettingsRecord = ReminderSettingsInput & { _id: Types.ObjectId; district: Types.ObjectId };

export const ReminderSettings = model('ReminderSettings', reminderSettingsSchema, 'remindersettings');
