import { z } from 'zod';
import { passwordField } from '../users/users.schemas';

export const resetRequestSchema = z.object({
  email: z.string({ message: 'auth.errors.emailRequired' }).trim().min(1, 'auth.errors.emailRequired').max(254).email('auth.errors.emailInvalid'),
});

/** The same password rules as the account page. */
export const choosePasswordSchema = z
  .object({
    newPassword: passwordField,
    confirmPassword: z.string({ message: 'account.errors.passwordsDiffer' }).max(200),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ['confirmPassword'], message: 'account.errors.passwordsDiffer' });

/** A link's token: 32 random bytes in base64url (43 characters). Anything else is not looked up. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
