import { z } from 'zod';
import { objectId } from '../../shared/validation';

export const REMINDER_GROUPS = ['urgent', 'pending', 'all'] as const;
export type ReminderGroup = (typeof REMINDER_GROUPS)[number];

export const sendParams = z.object({ schoolId: objectId });
export const sendFormSchema = z.object({ group: z.enum(REMINDER_GROUPS, { error: 'reminders.errors.group' }) });

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((v) => v !== undefined);
const whole = (min: number, max: number, message: string) =>
  z
    .string({ error: message })
    .trim()
    .regex(/^\d{1,3}$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);

/** "7, 1" → [7, 1]: at most 5 distinct whole days from 1 to 90. */
const daysList = z
  .string({ error: 'reminders.errors.daysBefore' })
  .trim()
  .max(40, 'reminders.errors.daysBefore')
  .refine((v) => v === '' || /^\d{1,2}(\s*,\s*\d{1,2}){0,4}$/.test(v), 'reminders.errors.daysBefore')
  .transform((v) => (v === '' ? [] : [...new Set(v.split(',').map((d) => Number(d.trim())))].sort((a, b) => b - a)))
  .refine((days) => days.every((d) => d >= 1 && d <= 90), 'reminders.errors.daysBefore');

export const reminderSettingsFormSchema = z.object({
  reminders_enabled: checkbox,
  reminders_daysBefore: z.preprocess((v) => v ?? '', daysList),
  reminders_onDueDate: checkbox,
  reminders_afterEveryDays: whole(1, 90, 'reminders.errors.afterEveryDays'),
  reminders_afterTimes: whole(0, 12, 'reminders.errors.afterTimes'),
  reminders_principalDigest: checkbox,
  reminders_digestWeekday: whole(1, 7, 'reminders.errors.digestWeekday'),
  reminders_sendHour: whole(0, 23, 'reminders.errors.sendHour'),
});

export type ReminderSettingsInput = {
  enabled: boolean;
  daysBefore: number[];
  onDueDate: boolean;
  afterEveryDays: number;
  afterTimes: number;
  principalDigest: boolean;
  digestWeekday: number;
  /** Local hour (0–23) from which automatic reminders and digests of a day are queued. */
  sendHour: number;
};

export function toReminderSettingsInput(form: z.infer<typeof reminderSettingsFormSchema>): ReminderSettingsInput {
  return {
    enabled: form.reminders_enabled,
    daysBefore: form.reminders_daysBefore,
    onDueDate: form.reminders_onDueDate,
    afterEveryDays: form.reminders_afterEveryDays,
    afterTimes: form.reminders_afterTimes,
    principalDigest: form.reminders_principalDigest,
    digestWeekday: form.reminders_digestWeekday,
    sendHour: form.reminders_sendHour,
  };
}
