import { z } from 'zod';

/** A module slug in the path (lowercase-kebab, as the content format requires); anything else is not a module (404). */
export const moduleSlugParams = z.object({
  slug: z
    .string()
    .max(80)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
});
