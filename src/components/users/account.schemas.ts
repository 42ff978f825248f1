import { z } from 'zod';
import { LANGUAGES } from './user.model';
import { passwordField } from './users.schemas';

export const languageSchema = z.object({
  language: z.enum(LANGUAGES, { message: 'account.errors.languageInvalid' }),
});

export const changePasswordSchema = z
  .object({
    currentPassword: z.string({ message: 'account.errors.currentPasswordRequired' }).min(1, 'account.errors.currentPasswordRequired').max(200),
    newPassword: passwordField,
    confirmPassword: z.string({ message: 'account.errors.passwordsDiffer' }).max(200),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ['confirmPassword'], message: 'account.errors.passwordsDiffer' });
