import { z } from 'zod';
import { objectId } from '../../shared/validation';
import { JOB_TITLES } from '../users';
import { isCalendarDate } from './session-dates';

export const schoolParams = z.object({ schoolId: objectId });
export const sessionParams = z.object({ schoolId: objectId, id: objectId });

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+){0,10}$/;

/** Start a session: a module of the catalog and the day it is held. */
export const newSessionSchema = z.object({
  module: z.string({ error: 'sessions.errors.module' }).max(80, 'sessions.errors.module').regex(SLUG, 'sessions.errors.module'),
  sessionDate: z.string({ error: 'sessions.errors.date' }).refine(isCalendarDate, 'sessions.errors.date'),
});
export type NewSessionInput = z.infer<typeof newSessionSchema>;

// One id, or several from repeated form fields; anything else (objects such as {"$gt": ""}, numbers) fails.
const MAX_PEOPLE = 5000;
const idList = z
  .union([objectId.transform((id) => [id]), z.array(objectId, { error: 'sessions.errors.attendees' }).max(MAX_PEOPLE, 'sessions.errors.attendees')], { error: 'sessions.errors.attendees' })
  .optional()
  .transform((ids) => [...new Set((ids ?? []).map((id) => id.toLowerCase()))]);

/**
 * Attendance as the checklist posts it: the people shown on the page (`shown`, hidden fields) and those
 * checked (`attendees`). Saving changes only the people shown, so a filtered page never drops others.
 * `intent`: save the checks, or mark everyone shown present / absent (the no-JavaScript "select all").
 */
export const attendanceSchema = z.object({
  attendees: idList,
  shown: idList,
  intent: z.enum(['save', 'all_shown', 'none_shown'], { error: 'sessions.errors.attendees' }).default('save'),
});
export type AttendanceInput = z.infer<typeof attendanceSchema>;

export const attendanceQuery = z.object({ jobTitle: z.enum(JOB_TITLES).optional().catch(undefined) });

export const presentQuery = z.object({
  step: z.string().regex(/^\d{1,3}$/).transform(Number).optional(),
});

export const finishSchema = z.object({ confirm: z.literal('yes', { error: 'sessions.errors.confirm' }) });

export const discardSchema = z.object({ confirm: z.literal('yes', { error: 'sessions.errors.confirmDiscard' }) });
