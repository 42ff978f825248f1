/** Reminder emails: the outbox and its runner, the automatic sweep, the principal's send and the district schedule. */
export { remindersRouter } from './reminders.routes';
export { Reminder, FINAL_REMINDER_STATUSES, type ReminderRecord, type ReminderKind, type ReminderStatus } from './reminder.model';
export { ReminderSettings } from './reminder-settings.model';
export { startReminderRunner, runQueuedReminders, pokeReminderRunner, MAX_SEND_ATTEMPTS, type ReminderRunner } from './reminder-runner';
export { sweepReminders, type SweepResult } from './reminder-sweep';
export { pruneReminders, configureReminderRetention, reminderRetentionDays, DEFAULT_RETENTION_DAYS } from './reminder-retention';
export { hasReachedSendHour } from './reminder-send-hour';
export { dueReminder, reminderOffsets, DEFAULT_SEND_HOUR, type ReminderSchedule } from './reminder-schedule';
export { getReminderOverview, sendSchoolReminders, getReminderSettingsView, updateReminderSettings, reminderFormValues, type ReminderOverview } from './reminders.service';
export { reminderSettingsFormSchema, toReminderSettingsInput } from './reminders.schemas';
