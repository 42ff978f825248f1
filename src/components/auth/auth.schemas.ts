import { z } from 'zod';

// Strings only: an operator object (email[$ne]=x) or an array is a validation error, never a query.
export const signInSchema = z.object({
  email: z.string({ message: 'auth.errors.emailRequired' }).trim().min(1, 'auth.errors.emailRequired').max(254).email('auth.errors.emailInvalid'),
  password: z.string({ message: 'auth.errors.passwordRequired' }).min(1, 'auth.errors.passwordRequired').max(200),
  next: z.string().max(2000).optional(),
});

/** Only same-site relative paths; "//evil.example", "/\\evil", absolute URLs and control characters fall back to "/". */
export function safeRedirectPath(next: unknown): string {
  if (typeof next !== 'string') return '/';
  if (!/^\/(?![/\\])[^\s\\]*$/.test(next)) return '/';
  if (next.startsWith('/login') || next.startsWith('/logout')) return '/';
  return next;
}
