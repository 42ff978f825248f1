import type { ComplianceStatus } from '../assignments';

export type ReminderGroupName = 'urgent' | 'pending';

/**
 * Who a reminder is for, by compliance status: overdue or expired training is urgent; not started, in
 * progress or outdated is pending; completed is never reminded. A person with anything urgent counts as
 * urgent only. Shared by the reminders page's lists and the emails it sends, so both group people alike.
 */
export function reminderGroupOf(status: ComplianceStatus): ReminderGroupName | null {
  if (status === 'overdue' || status === 'expired') return 'urgent';
  if (status === 'not_started' || status === 'in_progress' || status === 'outdated') return 'pending';
  return null;
}
