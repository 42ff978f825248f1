import { z } from 'zod';
import { objectId } from '../../shared/validation';

/** The upload form's fields besides the file (strings only; a checkbox is present or absent). */
export const uploadFormSchema = z.object({
  completeRoster: z
    .union([z.literal('yes'), z.array(z.string()).max(2)])
    .optional()
    .transform((v) => v !== undefined),
});

/**
 * The apply form: the typed number of people to deactivate, when the guard asks for it, and whether the
 * status page should reload itself while the import runs (a checkbox, ticked by default: the admin can
 * turn the reloading off before meeting it — WCAG 2.2.1).
 */
export const applyFormSchema = z.object({
  confirm: z
    .string()
    .max(20)
    .optional()
    .transform((v) => v?.trim() ?? ''),
  autoRefresh: z
    .union([z.literal('yes'), z.array(z.string()).max(2)])
    .optional()
    .transform((v) => v !== undefined),
});

export const previewParams = z.object({ id: objectId });

/** The import status page: ?refresh=on makes it reload itself while the import runs (anything else: ignored). */
export const importQuery = z.object({ refresh: z.literal('on').optional().catch(undefined) });
