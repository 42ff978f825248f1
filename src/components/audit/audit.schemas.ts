import { z } from 'zod';
import { MAX_ANCHOR_RECIPIENTS } from './audit-anchor';

const EMAIL = z.email();

/** Addresses one per line or separated by commas; each a valid email, at most MAX_ANCHOR_RECIPIENTS, duplicates dropped. */
export const anchorRecipientsSchema = z.object({
  emails: z
    .string({ error: 'audit.anchor.errors.emails' })
    .max(2_000, 'audit.anchor.errors.tooMany')
    .transform((value, ctx) => {
      const emails = [...new Set(value.split(/[\s,;]+/).map((e) => e.trim().toLowerCase()).filter(Boolean))];
      if (emails.some((e) => e.length > 254 || !EMAIL.safeParse(e).success)) ctx.addIssue({ code: 'custom', message: 'audit.anchor.errors.emails' });
      else if (emails.length > MAX_ANCHOR_RECIPIENTS) ctx.addIssue({ code: 'custom', message: 'audit.anchor.errors.tooMany' });
      return emails;
    }),
});

/** "Check a fingerprint you kept": both empty (no check), or an event number and a 64-hex fingerprint. */
export const fingerprintQuerySchema = z
  .object({
    seq: z.string().trim().regex(/^#?[1-9]\d{0,9}$/, 'audit.check.errors.seq').transform((v) => Number(v.replace('#', ''))),
    hash: z.string().trim().regex(/^[0-9a-fA-F]{64}$/, 'audit.check.errors.hash'),
  });
