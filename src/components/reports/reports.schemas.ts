import { z } from 'zod';
import { objectId } from '../../shared/validation';
import { COMPLIANCE_STATUSES } from '../assignments';
import { JOB_TITLES } from '../users';

/** An optional filter from a GET form: '' (the "all" option) means absent; anything else must be a known value. */
const optionalEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.literal(''), z.enum(values)])
    .optional()
    .transform((v) => (v ? v : undefined));

const moduleSlug = z
  .union([z.literal(''), z.string().regex(/^[a-z0-9-]{1,80}$/)])
  .optional()
  .transform((v) => (v ? v : undefined));

const page = z
  .string()
  .regex(/^[1-9]\d{0,5}$/)
  .optional()
  .transform((v) => (v ? Number(v) : 1));

/** A region of the district's (checked by the service: another district's is 404), 'none' for schools without one, '' for all. */
const region = z
  .union([z.literal(''), z.literal('none'), objectId])
  .optional()
  .transform((v) => (v ? v.toLowerCase() : undefined));

export const schoolParams = z.object({ schoolId: objectId });
export const personParams = z.object({ schoolId: objectId, userId: objectId });

export const SCHOOL_SORTS = ['name', 'status', 'due', 'completed', 'module'] as const;
export const schoolQuerySchema = z.object({
  status: optionalEnum(COMPLIANCE_STATUSES),
  jobTitle: optionalEnum(JOB_TITLES),
  module: moduleSlug,
  sort: z.enum(SCHOOL_SORTS).optional().default('name'),
  dir: z.enum(['asc', 'desc']).optional().default('asc'),
  page,
});
export type SchoolQuery = z.infer<typeof schoolQuerySchema>;

export const DISTRICT_SORTS = ['compliance', 'name', 'code', 'count'] as const;
export const districtQuerySchema = z.object({
  status: optionalEnum(COMPLIANCE_STATUSES),
  module: moduleSlug,
  region,
  sort: z.enum(DISTRICT_SORTS).optional().default('compliance'),
  dir: z.enum(['asc', 'desc']).optional(),
  page,
});
export type DistrictQuery = z.infer<typeof districtQuerySchema>;

export const exportQuerySchema = z.object({
  school: z
    .union([z.literal(''), objectId])
    .optional()
    .transform((v) => (v ? v : undefined)),
  status: optionalEnum(COMPLIANCE_STATUSES),
  jobTitle: optionalEnum(JOB_TITLES),
  module: moduleSlug,
  /** District-wide exports only: with a school, the school is the scope (its rows name its region). */
  region,
});
// region optional: callers that predate regions (the export benchmark) leave it out.
export type ExportQuery = Omit<z.infer<typeof exportQuerySchema>, 'region'> & { region?: string };
