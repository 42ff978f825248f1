import { z } from 'zod';
import { objectId } from '../../shared/validation';
import { JOB_TITLES } from '../users';
import { isLocalDate } from './zoned-date';

// Region administrators take training like principals (docs/compliance.md, "Region administrators"): an assignment may name them.
export const ASSIGNABLE_ROLES = ['staff', 'principal', 'region_admin'] as const;

/** A checkbox group: absent, one value or repeated keys; always a deduplicated array. */
const checkboxes = <T extends readonly [string, ...string[]]>(values: T, message: string) =>
  z
    .union([z.enum(values), z.array(z.enum(values)).max(values.length)], { message })
    .optional()
    .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])]);

const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** The fields an admin can change on an existing assignment (the module stays fixed: history refers to it). */
const ruleFields = {
  roles: checkboxes(ASSIGNABLE_ROLES, 'assignments.errors.rolesInvalid'),
  jobTitles: checkboxes(JOB_TITLES, 'assignments.errors.jobTitlesInvalid'),
  // School codes separated by commas, spaces or new lines; blank = the whole district.
  schoolCodes: z
    .string({ message: 'assignments.errors.schoolCodesInvalid' })
    .max(20_000, 'assignments.errors.schoolCodesInvalid')
    .optional()
    .transform((v) => [...new Set((v ?? '').split(/[\s,;]+/).map((c) => c.trim()).filter(Boolean))])
    .refine((codes) => codes.every((c) => /^[A-Za-z0-9._-]{1,20}$/.test(c)), 'assignments.errors.schoolCodesInvalid'),
  dueKind: z.enum(['fixed', 'relative'], { message: 'assignments.errors.dueKindRequired' }),
  dueDate: z.string({ message: 'assignments.errors.dueDateInvalid' }).trim().max(10).optional(),
  dueDays: z.string({ message: 'assignments.errors.dueDaysInvalid' }).trim().max(5).optional(),
  recurrence: z.enum(['none', 'annual', 'school_year'], { message: 'assignments.errors.recurrenceRequired' }),
  cycleEnd: z.string({ message: 'assignments.errors.cycleEndInvalid' }).trim().max(5).optional(),
  minVersion: z
    .string({ message: 'assignments.errors.minVersionInvalid' })
    .trim()
    .regex(/^[1-9]\d{0,3}$/, 'assignments.errors.minVersionInvalid')
    .transform(Number),
};

type RawRules = {
  dueKind: 'fixed' | 'relative';
  dueDate?: string;
  dueDays?: string;
  recurrence: 'none' | 'annual' | 'school_year';
  cycleEnd?: string;
};

function dependentFields(value: RawRules, ctx: z.RefinementCtx): void {
  if (value.dueKind === 'fixed' && !(value.dueDate && isLocalDate(value.dueDate))) {
    ctx.addIssue({ code: 'custom', path: ['dueDate'], message: 'assignments.errors.dueDateInvalid' });
  }
  if (value.dueKind === 'relative' && !(value.dueDays && /^\d{1,4}$/.test(value.dueDays) && Number(value.dueDays) <= 3650)) {
    ctx.addIssue({ code: 'custom', path: ['dueDays'], message: 'assignments.errors.dueDaysInvalid' });
  }
  if (value.recurrence === 'school_year' && !(value.cycleEnd && MONTH_DAY.test(value.cycleEnd))) {
    ctx.addIssue({ code: 'custom', path: ['cycleEnd'], message: 'assignments.errors.cycleEndInvalid' });
  }
}

function normalize<T extends RawRules & { roles: string[]; jobTitles: string[]; schoolCodes: string[]; minVersion: number }>(v: T) {
  return {
    roles: v.roles,
    jobTitles: v.jobTitles,
    schoolCodes: v.schoolCodes,
    due: v.dueKind === 'fixed' ? { kind: 'fixed' as const, date: v.dueDate as string } : { kind: 'relative' as const, days: Number(v.dueDays) },
    recurrence:
      v.recurrence === 'school_year' ? { kind: 'school_year' as const, cycleEnd: v.cycleEnd as string } : { kind: v.recurrence as 'none' | 'annual' },
    minVersion: v.minVersion,
  };
}

export const assignmentUpdateSchema = z.object(ruleFields).superRefine(dependentFields).transform(normalize);

export const assignmentCreateSchema = z
  .object({
    moduleSlug: z.string({ message: 'assignments.errors.moduleRequired' }).trim().regex(/^[a-z0-9-]{1,80}$/, 'assignments.errors.moduleRequired'),
    ...ruleFields,
  })
  .superRefine(dependentFields)
  .transform((v) => ({ moduleSlug: v.moduleSlug, ...normalize(v) }));

export type AssignmentUpdateInput = z.infer<typeof assignmentUpdateSchema>;
export type AssignmentCreateInput = z.infer<typeof assignmentCreateSchema>;

export const assignmentIdParams = z.object({ id: objectId });
export const assignmentListQuery = z.object({ show: z.enum(['active', 'archived']).optional().default('active') });
// Where a Retry or "Recalculate now" button sends the admin back to (a fixed choice, never a URL from the request).
export const jobRequestForm = z.object({ from: z.enum(['list', 'edit']).optional().default('list') });
