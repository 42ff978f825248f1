import { z } from 'zod';
import { notFound } from '../../shared/errors';

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+){0,10}$/;

/** A module slug from the path; anything else is simply not a module (404). */
export function parseSlug(value: unknown): string {
  if (typeof value !== 'string' || value.length > 80 || !SLUG.test(value)) throw notFound();
  return value;
}

/**
 * One move of the player: the step the page was rendered at, the choice for a decision (absent
 * for Continue) and the position it was rendered at. Strings only: arrays from repeated keys or anything else fail.
 */
export const moveSchema = z.object({
  step: z.string().regex(/^\d{1,9}$/).transform(Number),
  choice: z
    .string()
    .max(100)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/)
    .optional(),
  // The position the page was rendered at (training.progress encodePosition); optional so forms rendered
  // before it existed still work. Checked by its own parser; here only bounded.
  at: z.string().max(240).optional(),
});

/** Notices the play page may show after a redirect (only these keys are ever rendered). */
export const PLAY_NOTICES: readonly string[] = ['stale'];

/**
 * The "Working at" form: one of the person's schools (checked against their schools by the route: any other
 * id, of this district or another, gets the same answer) and the page to go back to.
 */
export const workingAtSchema = z.object({
  school: z.string().regex(/^[0-9a-f]{24}$/, 'workingAt.errors.notYours'),
  next: z.string().max(120).optional(),
});

const WORKING_AT_NEXT = /^\/training(?:\/([a-z0-9]+(?:-[a-z0-9]+){0,10})\/card(?:\?version=([1-9]\d{0,5}))?)?$/;

/** Where the form returns: the training list, or a module's card (with its version); anything else is the list. */
export function parseWorkingAtNext(value: unknown): { path: string; cardSlug?: string; cardVersion?: number } {
  const match = typeof value === 'string' ? WORKING_AT_NEXT.exec(value) : null;
  if (!match) return { path: '/training' };
  return { path: value as string, cardSlug: match[1], cardVersion: match[2] ? Number(match[2]) : undefined };
}
