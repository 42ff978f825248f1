import { z } from 'zod';
import { ACTOR_IDS } from './xapi-feed.model';

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true'), z.literal('')])
  .optional()
  .transform((v) => v !== undefined && v !== '');

/** The LRS's xAPI base address: https (http only outside production), no credentials, query or fragment in it. */
function endpointField(requireHttps: boolean) {
  return z
    .string({ error: 'xapi.errors.endpoint' })
    .trim()
    .min(1, 'xapi.errors.endpointRequired')
    .max(500, 'xapi.errors.endpoint')
    .refine((value) => URL.canParse(value), 'xapi.errors.endpoint')
    // zod runs every check even after one failed: each reads the URL only if it parses.
    .refine((value) => {
      const url = URL.parse(value);
      return !url || url.protocol === 'https:' || (!requireHttps && url.protocol === 'http:');
    }, requireHttps ? 'xapi.errors.endpointHttps' : 'xapi.errors.endpoint')
    .refine((value) => {
      const url = URL.parse(value);
      return !url || (!url.username && !url.password && !url.search && !url.hash);
    }, 'xapi.errors.endpointParts')
    .transform((value) => (value.endsWith('/') ? value : `${value}/`));
}

/**
 * The settings form. The secret is write-only: blank keeps the stored one (required when none is stored,
 * checked by the service). Printable characters only, no colon in the key (Basic auth joins them with one).
 */
export function xapiSettingsFormSchema(requireHttps: boolean) {
  return z.object({
    endpoint: endpointField(requireHttps),
    authKey: z
      .string({ error: 'xapi.errors.authKey' })
      .trim()
      .min(1, 'xapi.errors.authKey')
      .max(200, 'xapi.errors.authKey')
      .regex(/^[\x21-\x39\x3b-\x7e]+$/, 'xapi.errors.authKey'),
    secret: z
      .string({ error: 'xapi.errors.secret' })
      .max(500, 'xapi.errors.secret')
      .regex(/^[\x20-\x7e]*$/, 'xapi.errors.secret')
      .optional()
      .transform((v) => (v ? v : undefined)),
    actorId: z.enum(ACTOR_IDS, { error: 'xapi.errors.actorId' }),
    enabled: checkbox,
  });
}

export type XapiSettingsInput = z.infer<ReturnType<typeof xapiSettingsFormSchema>>;

/**
 * The start of every IRI the feed sends (docs/xapi.md, "IRIs"): an absolute http(s) address (https in
 * production), no user name, password, query or fragment; kept without a trailing slash (IRIs add "/districts/…").
 * Changing it needs the confirmation: every learner's history in the LRS is split in two.
 */
export function xapiIriBaseFormSchema(requireHttps: boolean) {
  return z.object({
    iriBase: z
      .string({ error: 'xapi.errors.iriBase' })
      .trim()
      .min(1, 'xapi.errors.iriBaseRequired')
      .max(400, 'xapi.errors.iriBase')
      .refine((value) => URL.canParse(value), 'xapi.errors.iriBase')
      .refine((value) => {
        const url = URL.parse(value);
        return !url || url.protocol === 'https:' || (!requireHttps && url.protocol === 'http:');
      }, requireHttps ? 'xapi.errors.iriBaseHttps' : 'xapi.errors.iriBase')
      .refine((value) => {
        const url = URL.parse(value);
        return !url || (!url.username && !url.password && !url.search && !url.hash && !value.includes('?') && !value.includes('#'));
      }, 'xapi.errors.iriBaseParts')
      // The parsed form (lower-case scheme and host), without the trailing slash.
      .transform((value) => (URL.parse(value)?.href ?? value).replace(/\/+$/, '')),
    confirmIriBase: checkbox,
  });
}

export type XapiIriBaseInput = z.infer<ReturnType<typeof xapiIriBaseFormSchema>>;
