import { z } from 'zod';
import { objectId } from '../../shared/validation';
import { contactsFormSchema, toContactsInput, type ContactsInput } from '../settings';

export const regionFormSchema = z
  .object({
    code: z
      .string({ message: 'regions.errors.codeRequired' })
      .trim()
      .toUpperCase()
      .min(1, 'regions.errors.codeRequired')
      .max(20, 'regions.errors.codeInvalid')
      .regex(/^[A-Z0-9_-]+$/, 'regions.errors.codeInvalid'),
    name: z.string({ message: 'regions.errors.nameRequired' }).trim().min(1, 'regions.errors.nameRequired').max(200, 'regions.errors.nameTooLong'),
  })
  .and(contactsFormSchema);

export type RegionInput = { code: string; name: string; contacts: ContactsInput };

export function toRegionInput(form: z.infer<typeof regionFormSchema>): RegionInput {
  return { code: form.code, name: form.name, contacts: toContactsInput(form) };
}

export const idParams = z.object({ id: objectId });
