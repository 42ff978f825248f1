import { z } from 'zod';
import { objectId } from '../../shared/validation';

/** https, or plain http to this machine only (tests, a local demo platform). */
export function isAcceptedUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

const url = (required: string) =>
  z
    .string({ message: required })
    .trim()
    .min(1, required)
    .max(1000, 'lti.errors.urlInvalid')
    .refine(isAcceptedUrl, 'lti.errors.urlInvalid');

/** One deployment id a line (or separated by commas); at least one. */
const deploymentIds = z
  .string({ message: 'lti.errors.deploymentRequired' })
  .transform((v) => [...new Set(v.split(/[\n,]/).map((d) => d.trim()).filter(Boolean))])
  .pipe(
    z
      .array(z.string().max(200, 'lti.errors.deploymentInvalid').regex(/^[\x21-\x7e]+$/, 'lti.errors.deploymentInvalid'))
      .min(1, 'lti.errors.deploymentRequired')
      .max(50, 'lti.errors.deploymentTooMany'),
  );

export const platformFormSchema = z.object({
  name: z.string({ message: 'lti.errors.nameRequired' }).trim().min(1, 'lti.errors.nameRequired').max(100, 'lti.errors.nameTooLong'),
  issuer: url('lti.errors.issuerRequired'),
  clientId: z.string({ message: 'lti.errors.clientIdRequired' }).trim().min(1, 'lti.errors.clientIdRequired').max(200, 'lti.errors.clientIdInvalid').regex(/^[\x21-\x7e]+$/, 'lti.errors.clientIdInvalid'),
  authLoginUrl: url('lti.errors.authLoginUrlRequired'),
  jwksUrl: url('lti.errors.jwksUrlRequired'),
  // Optional (only grade passback needs it): empty means none.
  tokenUrl: z
    .string()
    .trim()
    .max(1000, 'lti.errors.urlInvalid')
    .refine((v) => v === '' || isAcceptedUrl(v), 'lti.errors.urlInvalid')
    .optional()
    .transform((v) => v || undefined),
  deploymentIds,
  linkByEmail: z.union([z.string(), z.array(z.string())]).optional().transform((v) => v === 'yes'),
  // Checked only to accept launches without the browser binding: a form without the field keeps it required.
  allowUnbound: z.union([z.string(), z.array(z.string())]).optional().transform((v) => v === 'yes'),
}).transform(({ allowUnbound, ...rest }) => ({ ...rest, requireBrowserBinding: !allowUnbound }));

export type PlatformInput = z.infer<typeof platformFormSchema>;

export const idParams = z.object({ id: objectId });

/** What the values of a submitted form look like when re-rendered. */
export function enteredValues(body: unknown): Record<string, string> {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
  return {
    name: text('name'),
    issuer: text('issuer'),
    clientId: text('clientId'),
    authLoginUrl: text('authLoginUrl'),
    jwksUrl: text('jwksUrl'),
    tokenUrl: text('tokenUrl'),
    deploymentIds: text('deploymentIds'),
    linkByEmail: b.linkByEmail === 'yes' ? 'yes' : '',
    allowUnbound: b.allowUnbound === 'yes' ? 'yes' : '',
  };
}

const oneString = z.union([z.string(), z.array(z.string())]).optional().transform((v) => (Array.isArray(v) ? v[0] : v));

/** The platform's login initiation (query on GET, form on POST): only the parameters we use. */
export const loginInitiationSchema = z.object({
  iss: oneString.pipe(z.string().min(1).max(500)),
  login_hint: oneString.pipe(z.string().min(1).max(2000)),
  target_link_uri: oneString.pipe(z.string().min(1).max(2000)),
  lti_message_hint: oneString.pipe(z.string().max(4000).optional()),
  client_id: oneString.pipe(z.string().max(200).optional()),
  lti_deployment_id: oneString.pipe(z.string().max(200).optional()),
});

export type LoginInitiation = z.infer<typeof loginInitiationSchema>;

export const launchFormSchema = z.object({
  id_token: z.string().min(1).max(20_000),
  state: z.string().min(1).max(200),
});
