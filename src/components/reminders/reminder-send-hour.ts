/**
 * The district's send hour: automatic reminders and the weekly digest of a local day are queued only once
 * the district's wall clock has reached it (default 07:00), so nobody is emailed just after midnight. Compared
 * on the wall clock, so daylight-saving days need no special case: on a spring-forward day an hour that does
 * not exist (02:00 in Los Angeles) counts as reached at 03:00; on a fall-back day the repeated hour is reached
 * the first time, and the outbox's unique key stops the second one from queueing anything again.
 */
import { localDateOf, localHourOf } from '../assignments';

export function hasReachedSendHour(now: Date, timeZone: string, sendHour: number): boolean {
  return localHourOf(now, timeZone) >= sendHour;
}

/** Whether the send hour came after `since` and by `now`: the runner's minute check sweeps such districts at once. */
export function reachedSendHourSince(since: Date, now: Date, timeZone: string, sendHour: number): boolean {
  if (!hasReachedSendHour(now, timeZone, sendHour)) return false;
  return localDateOf(since, timeZone) !== localDateOf(now, timeZone) || !hasReachedSendHour(since, timeZone, sendHour);
}
