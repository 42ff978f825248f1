import { z } from 'zod';

/** The admin page's "Provisioning may make people principals" form: one of two radio buttons. */
export const principalsSettingSchema = z.object({
  principals: z.enum(['on', 'off'], { error: 'scim.errors.principalsChoice' }),
});
