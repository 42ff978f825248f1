/**
 * "Working at": people at several schools (substitutes, itinerant nurses, bus drivers) choose which school's
 * contacts the training and the quick-reference card name. The choice is kept in the session only — where
 * someone works today is not a fact about them worth storing (least data; docs/contacts.md) — and is checked
 * against their own schools on every read, so a school taken off their account stops counting at once.
 */
import type { Request } from 'express';
import type { Workplace } from '../schools';

declare module 'express-session' {
  interface SessionData {
    workingAt?: string;
  }
}

/** The school chosen in this session, while it is still one of the person's schools (no query). */
export function workingAtOf(req: Request): string | undefined {
  const chosen = req.session?.workingAt;
  return chosen && req.user?.schoolIds.includes(chosen) ? chosen : undefined;
}

export function rememberWorkingAt(req: Request, schoolId: string): void {
  req.session.workingAt = schoolId;
}

/** What the choice form shows: the person's schools and the one in use (the chosen one, else the first). */
export type WorkingAtView = { places: Workplace[]; current: string; next: string };

export function workingAtView(places: Workplace[], chosen: string | undefined, next: string): WorkingAtView {
  const current = places.find((place) => place.id === chosen)?.id ?? places[0]?.id ?? '';
  return { places, current, next };
}
