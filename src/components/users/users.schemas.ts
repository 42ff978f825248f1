import { z } from 'zod';
import { objectId } from '../../shared/validation';
import { JOB_TITLES, LANGUAGES, ROLES } from './user.model';

export const PASSWORD_MIN_LENGTH = 12;
export const PAGE_SIZE = 25;

/** A checkbox group or multi-select: absent, one value or repeated keys (an array); always a deduplicated array. */
const idList = (message: string) =>
  z.preprocess(
    (v) => (v === '' ? undefined : Array.isArray(v) ? v.filter((x) => x !== '') : v),
    z
      .union([objectId, z.array(objectId).max(100)], { message })
      .optional()
      .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])]),
  );

const optionalText = (max: number, message: string, pattern?: RegExp) =>
  z
    .string({ message })
    .trim()
    .max(max, message)
    .refine((v) => !pattern || v === '' || pattern.test(v), message)
    .optional()
    .transform((v) => (v ? v : undefined));

export const passwordField = z
  .string({ message: 'users.errors.passwordTooShort' })
  .min(PASSWORD_MIN_LENGTH, 'users.errors.passwordTooShort')
  .max(200, 'users.errors.passwordTooLong');

const userFields = {
  name: z.string({ message: 'users.errors.nameRequired' }).trim().min(1, 'users.errors.nameRequired').max(200, 'users.errors.nameTooLong'),
  email: z
    .string({ message: 'users.errors.emailRequired' })
    .trim()
    .toLowerCase()
    .min(1, 'users.errors.emailRequired')
    .max(254, 'users.errors.emailInvalid')
    .pipe(z.email('users.errors.emailInvalid')),
  employeeId: optionalText(40, 'users.errors.employeeIdInvalid', /^[A-Za-z0-9._-]+$/),
  role: z.enum(ROLES, { message: 'users.errors.roleRequired' }),
  jobTitle: z
    .union([z.literal(''), z.enum(JOB_TITLES)], { message: 'users.errors.jobTitleInvalid' })
    .optional()
    .transform((v) => (v ? v : undefined)),
  schools: idList('users.errors.schoolsInvalid'),
  // Region administrators only (ignored, and cleared, for any other role): the region(s) they oversee.
  regions: idList('users.errors.regionsInvalid'),
  preferredLanguage: z.enum(LANGUAGES, { message: 'users.errors.languageInvalid' }).default('en'),
  startDate: z
    .string({ message: 'users.errors.startDateInvalid' })
    .trim()
    .refine((v) => v === '' || (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))), 'users.errors.startDateInvalid')
    .optional()
    .transform((v) => (v ? new Date(`${v}T00:00:00Z`) : undefined)),
};

const ruleFields = z.object({ role: userFields.role, jobTitle: userFields.jobTitle, schools: userFields.schools, regions: userFields.regions });
type RuleFields = z.infer<typeof ruleFields>;
// Cross-field rules run even when unrelated fields are invalid, so the form lists every problem at once.
const whenRuleFieldsParse = { when: (payload: { value: unknown }) => ruleFields.safeParse(payload.value).success };

/** A principal needs at least one school; staff need a school and a job title; a region administrator a region. */
function withRoleRules<T extends z.ZodType<RuleFields>>(schema: T) {
  return schema
    .refine((v) => !(v.role === 'principal' && v.schools.length === 0), { path: ['schools'], message: 'users.errors.principalNeedsSchool', ...whenRuleFieldsParse })
    .refine((v) => !(v.role === 'staff' && v.schools.length === 0), { path: ['schools'], message: 'users.errors.staffNeedsSchool', ...whenRuleFieldsParse })
    .refine((v) => !(v.role === 'staff' && !v.jobTitle), { path: ['jobTitle'], message: 'users.errors.staffNeedsJobTitle', ...whenRuleFieldsParse })
    .refine((v) => !(v.role === 'region_admin' && v.regions.length === 0), { path: ['regions'], message: 'users.errors.regionAdminNeedsRegion', ...whenRuleFieldsParse });
}

export const userUpdateSchema = withRoleRules(z.object(userFields));

export const userCreateSchema = withRoleRules(
  z.object({
    ...userFields,
    // Optional at creation: without one the person cannot sign in until an admin sets it.
    password: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined))
      .pipe(passwordField.optional()),
  }),
);

export const setPasswordSchema = z.object({ password: passwordField });

export type UserInput = z.infer<typeof userUpdateSchema>;
export type UserCreateInput = z.infer<typeof userCreateSchema>;

const oneString = (max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (Array.isArray(v) ? v[0] : v)?.trim().slice(0, max) ?? '');

/** The list's query string: anything malformed falls back to "no filter" rather than an error page. */
export const userListQuerySchema = z.object({
  q: oneString(100),
  school: oneString(24).transform((v) => (/^[0-9a-f]{24}$/i.test(v) ? v : '')),
  role: oneString(20).transform((v) => ((ROLES as readonly string[]).includes(v) ? (v as (typeof ROLES)[number]) : '')),
  active: oneString(5).transform((v) => (v === 'true' || v === 'false' || v === 'all' ? v : 'true')),
  page: oneString(6).transform((v) => Math.max(1, Math.min(100_000, Number.parseInt(v, 10) || 1))),
});

export type UserListQuery = z.infer<typeof userListQuerySchema>;

export const idParams = z.object({ id: objectId });
