/**
 * In-process notifications between features that must not import each other (users is below
 * assignments: assignments reads people, so users cannot call into assignments). Subscribers run
 * in order and are awaited, so derived data is current when the request that caused it answers.
 */
export type RosterChangedHandler = (userIds: readonly string[]) => Promise<void>;

const rosterHandlers: RosterChangedHandler[] = [];

/** Called once at load by features that keep data derived from people (e.g. compliance rows). */
export function onRosterChanged(handler: RosterChangedHandler): void {
  rosterHandlers.push(handler);
}

/** People were created, edited, moved between schools, activated or deactivated. */
export async function rosterChanged(userIds: readonly string[]): Promise<void> {
  for (const handler of rosterHandlers) await handler(userIds);
}
