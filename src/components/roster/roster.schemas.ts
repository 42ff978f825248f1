import { z } from 'zod';
import { objectId } from '../../shared/validation';

/** The upload form's fields besides the file (strings only; a checkbox is present or absent). */
export const uploadFormSchema = z.object({
  completeRoster: z
    .union([z.literal('yes'), z.array(z.string()).max(2)])
    .optional()
    .transform((v) => v !== undefined),
});

/** The apply form: the typed number of people to deactivate, when the guard asks for it. */
export const applyFormSchema = z.object({
  confirm: z
    .string()
    .max(20)
    .optional()
    .transform((v) => v?.trim() ?? ''),
});

export const previewParams = z.object({ id: objectId });

/** The import status page: ?refresh=off stops its automatic reload (anything else: ignored). */
export const importQuery = z.object({ refresh: z.literal('off').optional().catch(undefined) });
