import { z } from 'zod';
import { objectId } from '../../shared/validation';

export const PAGE_SIZE = 50;

export const schoolFormSchema = z.object({
  code: z
    .string({ message: 'schools.errors.codeRequired' })
    .trim()
    .toUpperCase()
    .min(1, 'schools.errors.codeRequired')
    .max(20, 'schools.errors.codeInvalid')
    .regex(/^[A-Z0-9_-]+$/, 'schools.errors.codeInvalid'),
  name: z.string({ message: 'schools.errors.nameRequired' }).trim().min(1, 'schools.errors.nameRequired').max(200, 'schools.errors.nameTooLong'),
  // '' = no region; a region of another district is refused by the service.
  region: z.string({ message: 'schools.errors.regionInvalid' }).trim().regex(/^(?:[0-9a-f]{24})?$/i, 'schools.errors.regionInvalid').default(''),
});

export type SchoolInput = z.infer<typeof schoolFormSchema>;

const oneString = (max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (Array.isArray(v) ? v[0] : v)?.trim().slice(0, max) ?? '');

/** The list's query string: anything malformed falls back to "no filter". */
export const schoolListQuerySchema = z.object({
  q: oneString(100),
  active: oneString(5).transform((v) => (v === 'true' || v === 'false' || v === 'all' ? v : 'true')),
  region: oneString(24).transform((v) => (/^[0-9a-f]{24}$/i.test(v) ? v : '')),
  page: oneString(6).transform((v) => Math.max(1, Math.min(100_000, Number.parseInt(v, 10) || 1))),
});

export type SchoolListQuery = z.infer<typeof schoolListQuerySchema>;

export const idParams = z.object({ id: objectId });
