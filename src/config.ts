import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseEmailDomains } from './components/sso/email-domains';
import { NAME_ID_FORMATS, parseEmailAttributes, parseIdpCerts, parseSpKeyPair } from './components/sso/saml-settings';
import { parseSamlCrypto, type SamlDecryptionSettings, type SamlKeyPair } from './components/sso/saml-crypto-settings';

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A 32-byte key as 64 hex digits or base64 (XAPI_SECRET_KEY and its previous values). */
const SECRET_KEY_PATTERN = /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/;
const SECRET_KEY_MESSAGE = 'must be 32 random bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_SECRET_PREVIOUS: z.string().max(4000).optional(),
  BASE_URL: z.url().optional(),
  TRUST_PROXY: z.string().default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  DATA_DIR: z.string().default('./data'),
  SEED_DEMO: booleanish.optional(),
  SESSION_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL (e.g. smtps://user:password@mail.example.org:465)')
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).optional(),
  REMINDER_RETENTION_DAYS: z.coerce.number('must be a whole number of days').int('must be a whole number of days').min(30, 'must be at least 30 (days)').max(3650, 'must be at most 3650 (days)').default(180),
  OIDC_ISSUER: z.url('must be a URL, like https://accounts.google.com').optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  OIDC_LABEL: z.string().trim().min(1).max(40).optional(),
  PASSWORD_SIGN_IN: z.enum(['on', 'off'], 'must be on or off').default('on'),
  OIDC_EMAIL_DOMAINS: z.string().max(2000).optional(),
  OIDC_PROMPT: z.enum(['select_account', 'login', 'off'], 'must be select_account, login or off').default('select_account'),
  DEMO_OIDC: booleanish.optional(),
  SAML_IDP_ENTRY_POINT: z.url('must be a URL, like https://adfs.your-district.org/adfs/ls/').optional(),
  SAML_IDP_CERT: z.string().max(40_000).optional(),
  SAML_IDP_ISSUER: z.string().trim().min(1).max(500).optional(),
  SAML_SP_ENTITY_ID: z.string().trim().min(1).max(500).optional(),
  SAML_LABEL: z.string().trim().min(1).max(40).optional(),
  SAML_EMAIL_ATTRIBUTE: z.string().max(2000).optional(),
  SAML_EMAIL_DOMAINS: z.string().max(2000).optional(),
  SAML_NAMEID_FORMAT: z.enum(['persistent', 'email', 'unspecified'], 'must be persistent, email or unspecified').default('persistent'),
  SAML_IDP_SLO_URL: z.url('must be a URL, like https://adfs.your-district.org/adfs/ls/').optional(),
  SAML_SP_PRIVATE_KEY: z.string().max(20_000).optional(),
  SAML_SP_CERT: z.string().max(20_000).optional(),
  SAML_SIGN_AUTHN_REQUESTS: booleanish.optional(),
  SAML_SP_DECRYPTION_KEY: z.string().max(20_000).optional(),
  SAML_SP_DECRYPTION_CERT: z.string().max(20_000).optional(),
  SAML_SP_DECRYPTION_KEY_PREVIOUS: z.string().max(60_000).optional(),
  SAML_REQUIRE_ENCRYPTED_ASSERTIONS: booleanish.optional(),
  OUTBOUND_PRIVATE_NETWORK: z.enum(['allow', 'refuse'], 'must be allow or refuse').optional(),
  XAPI_SECRET_KEY: z.string().regex(SECRET_KEY_PATTERN, SECRET_KEY_MESSAGE).optional(),
  XAPI_SECRET_KEY_PREVIOUS: z.string().max(4000).optional(),
  LTI_TOOL_KEY_MAX_AGE_DAYS: z.coerce.number('must be a whole number of days').int('must be a whole number of days').min(0, 'must be 0 (never) or at least 30 (days)').max(3650, 'must be at most 3650 (days)').default(180).refine((days) => days === 0 || days >= 30, 'must be 0 (never) or at least 30 (days)'),
});

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  mongodbUri: string | undefined;
  sessionSecret: string;
  /** Earlier session secrets (SESSION_SECRET_PREVIOUS): cookies they signed are still accepted; new ones use sessionSecret. */
  previousSessionSecrets: readonly string[];
  baseUrl: string;
  trustProxy: boolean | number | string;
  logLevel: string;
  dataDir: string;
  seedDemo: boolean;
  /** How long this process may answer a session from memory (0: read MongoDB on every request). */
  sessionCacheMs: number;
  /** Outgoing mail server (credentials inside: never log it). Unset: .eml files under dataDir/outbox, or off in production. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Days a sent, cancelled or failed reminder record (and a development .eml file) is kept. */
  reminderRetentionDays: number;
  /** OpenID Connect single sign-on (docs/sso.md); undefined when not configured. */
  oidc: Readonly<{ issuer: string; clientId: string; clientSecret: string; label: string; redirectUri: string } & OidcSignInSettings> | undefined;
  /** false: only district admins may sign in with a password (break-glass); everyone else uses SSO. */
  passwordSignIn: boolean;
  /** `npm start` only: run a local demo identity provider for the demo accounts (never in production). */
  demoOidc: boolean;
  /** Encrypts the district LRS secrets (docs/xapi.md): 32 bytes. Unset: the xAPI page says xAPI is unavailable. */
  xapiSecretKey: Buffer | undefined;
  /** Earlier XAPI_SECRET_KEYs (XAPI_SECRET_KEY_PREVIOUS): what they encrypted still opens, and is re-encrypted with the current key. */
  previousXapiSecretKeys: readonly Buffer[];
  /** Days the LTI tool's signing key is used before the next one takes over (0: never); docs/lti.md "The tool's key". */
  ltiToolKeyMaxAgeDays: number;
  /** Requests to addresses an administrator typed (the xAPI LRS) may reach private/local networks: shared/outbound-http.ts. */
  outboundPrivateNetwork: 'allow' | 'refuse';
  /** SAML 2.0 single sign-on (docs/sso.md, "SAML 2.0"); undefined when not configured. */
  saml: SamlSettings | undefined;
}>;

export type SamlSettings = Readonly<{
  /** The IdP's single sign-on URL (redirect binding). */
  entryPoint: string;
  /** PEM certificates whose signature is accepted (several during the IdP's rollover). */
  idpCerts: readonly string[];
  /** The IdP's entity ID: the assertion's Issuer must be exactly this; with the NameID it is the stored subject. */
  idpIssuer: string;
  /** Our entity ID (the audience the assertion must name). */
  spEntityId: string;
  label: string;
  /** The assertion consumer service: <BASE_URL>/auth/saml/acs (Recipient and Destination must be this). */
  acsUrl: string;
  /** Attributes that may carry the email, tried in order. */
  emailAttributes: readonly string[];
  /** Set: only emails at these domains link at first sign-in. Empty: the IdP's email is trusted as verified. */
  emailDomains: readonly string[];
  /** The NameID format asked for in the AuthnRequest and announced in the metadata. */
  nameIdFormat: string;
  /** SAML Single Logout (docs/sso.md, "Single Logout"); undefined: sign-out is local only. */
  slo: SamlSloSettings | undefined;
  /** SAML_SIGN_AUTHN_REQUESTS=true: AuthnRequests are signed with this key pair (SAML_SP_*); undefined: unsigned. */
  requestSigning: SamlKeyPair | undefined;
  /** SAML_SP_DECRYPTION_*: encrypted assertions and NameIDs are opened (docs/sso.md); undefined: none configured. */
  decryption: SamlDecryptionSettings | undefined;
}>;

export type SamlSloSettings = Readonly<{
  /** The IdP's SingleLogoutService (HTTP-Redirect binding): our LogoutRequests and LogoutResponses go there. */
  idpSloUrl: string;
  /** Our SingleLogoutService: <BASE_URL>/auth/saml/slo (both bindings). */
  spSloUrl: string;
  /** This app's signing key (PEM) and its certificate (PEM, published in the metadata). */
  privateKey: string;
  cert: string;
}>;

/** Shared computers and Entra (docs/sso.md): who may link by email, what the provider is asked, where sign-out returns. */
type OidcSignInSettings = {
  /** Domains whose email links without `email_verified` (the district's own; never a public mail domain). */
  emailDomains: readonly string[];
  /** The `prompt` sent to the provider: select_account (default) or login; undefined sends none. */
  prompt: 'select_account' | 'login' | undefined;
  /** Where the provider sends the browser after signing out there: the sign-in page. */
  postLogoutRedirectUri: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** In development the session secret is generated once and kept under the data directory. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The xAPI secret key: given (hex or base64), generated once under the data directory in development, else none. */
function xapiKey(value: string | undefined, env: string, dataDir: string): Buffer | undefined {
  if (value) return keyBytes(value);
  if (env !== 'development') return undefined;
  const file = path.join(dataDir, 'xapi-secret-key');
  if (existsSync(file)) {
    const kept = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (kept.length !== 32) throw new ConfigError([`${file}: not a 32-byte key (delete it to generate a new one; stored LRS secrets must then be entered again)`]);
    return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  return key;
}

/** Single Logout settings: only with the IdP's SLO URL (a key pair alone signs nothing). */
function sloSettings(idpSloUrl: string | undefined, keys: { key?: string; cert?: string }, baseUrl: string): SamlSloSettings | undefined {
  if (!idpSloUrl || !keys.key || !keys.cert) return undefined;
  return Object.freeze({ idpSloUrl, spSloUrl: `${baseUrl}/auth/saml/slo`, privateKey: keys.key, cert: keys.cert });
}

function keyBytes(value: string): Buffer {
  return Buffer.from(value, /^[0-9a-fA-F]{64}$/.test(value) ? 'hex' : 'base64');
}

/** A `*_PREVIOUS` list: values separated by commas or white space. */
function previousValues(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((v) => v !== '');
}

/**
 * SESSION_SECRET_PREVIOUS and XAPI_SECRET_KEY_PREVIOUS: the values a rotation replaced (docs/rotation.md). Each
 * must be well-formed and differ from the current value, and a previous value needs the current one set.
 */
function previousProblems(values: z.infer<typeof envSchema>): string[] {
  const problems: string[] = [];
  const sessions = previousValues(values.SESSION_SECRET_PREVIOUS);
  if (sessions.length > 0 && !values.SESSION_SECRET) problems.push('SESSION_SECRET_PREVIOUS: set SESSION_SECRET to the new secret too (the previous ones are only accepted, never used to sign)');
  sessions.forEach((secret, i) => {
    if (secret.length < 32) problems.push(`SESSION_SECRET_PREVIOUS: value ${i + 1} must be at least 32 characters`);
    else if (secret === values.SESSION_SECRET) problems.push(`SESSION_SECRET_PREVIOUS: value ${i + 1} is the current SESSION_SECRET`);
  });
  const keys = previousValues(values.XAPI_SECRET_KEY_PREVIOUS);
  if (keys.length > 0 && !values.XAPI_SECRET_KEY) problems.push('XAPI_SECRET_KEY_PREVIOUS: set XAPI_SECRET_KEY to the new key too (the previous ones only open what they encrypted)');
  keys.forEach((key, i) => {
    if (!SECRET_KEY_PATTERN.test(key)) problems.push(`XAPI_SECRET_KEY_PREVIOUS: value ${i + 1} ${SECRET_KEY_MESSAGE}`);
    else if (values.XAPI_SECRET_KEY && keyBytes(key).equals(keyBytes(values.XAPI_SECRET_KEY))) problems.push(`XAPI_SECRET_KEY_PREVIOUS: value ${i + 1} is the current XAPI_SECRET_KEY`);
  });
  return problems;
}

/** Parses the environment; lists every problem at once. The only reader of process.env in src/. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const values = parsed.success ? parsed.data : undefined;
  if (values?.NODE_ENV === 'production') {
    if (!values.SESSION_SECRET) problems.push('SESSION_SECRET: required in production');
    if (!values.MONGODB_URI) problems.push('MONGODB_URI: required in production (the embedded database is for development and tests)');
    if (!values.BASE_URL) problems.push('BASE_URL: required in production (used in certificate links)');
  }
  if (values) {
    const oidcKeys = ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const;
    const oidcSet = oidcKeys.filter((k) => values[k] !== undefined);
    if (oidcSet.length > 0 && oidcSet.length < oidcKeys.length) {
      for (const k of oidcKeys.filter((key) => values[key] === undefined)) {
        problems.push(`${k}: required when ${oidcSet.join(' and ')} ${oidcSet.length > 1 ? 'are' : 'is'} set (single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together)`);
      }
    }
    if (values.OIDC_ISSUER && values.NODE_ENV === 'production' && !values.OIDC_ISSUER.startsWith('https://')) {
      problems.push('OIDC_ISSUER: must use https:// in production');
    }
    problems.push(...parseEmailDomains(values.OIDC_EMAIL_DOMAINS).problems);
    if (values.OIDC_ISSUER && /^https:\/\/login\.microsoftonline\.com\/(common|organizations|consumers)(\/|$)/i.test(values.OIDC_ISSUER)) {
      problems.push("OIDC_ISSUER: accepts every Microsoft tenant; use your tenant's issuer https://login.microsoftonline.com/<tenant id>/v2.0");
    }
    if (values.DEMO_OIDC && values.NODE_ENV === 'production') problems.push('DEMO_OIDC: not allowed in production');
    const samlKeys = ['SAML_IDP_ENTRY_POINT', 'SAML_IDP_CERT', 'SAML_IDP_ISSUER'] as const;
    const samlSet = samlKeys.filter((k) => values[k] !== undefined && values[k].trim() !== '');
    if (samlSet.length > 0 && samlSet.length < samlKeys.length) {
      for (const k of samlKeys.filter((key) => !samlSet.includes(key))) {
        problems.push(`${k}: required when ${samlSet.join(' and ')} ${samlSet.length > 1 ? 'are' : 'is'} set (SAML sign-in needs SAML_IDP_ENTRY_POINT, SAML_IDP_CERT and SAML_IDP_ISSUER together)`);
      }
    }
    if (values.SAML_IDP_ENTRY_POINT && values.NODE_ENV === 'production' && !values.SAML_IDP_ENTRY_POINT.startsWith('https://')) {
      problems.push('SAML_IDP_ENTRY_POINT: must use https:// in production');
    }
    problems.push(...parseIdpCerts(values.SAML_IDP_CERT).problems);
    problems.push(...parseEmailDomains(values.SAML_EMAIL_DOMAINS, 'SAML_EMAIL_DOMAINS').problems);
    const spKeys = parseSpKeyPair(values.SAML_SP_PRIVATE_KEY, values.SAML_SP_CERT);
    problems.push(...spKeys.problems);
    const samlCrypto = parseSamlCrypto(values, samlSet.length === samlKeys.length);
    problems.push(...samlCrypto.problems);
    if (values.SAML_IDP_SLO_URL) {
      if (samlSet.length < samlKeys.length) problems.push('SAML_IDP_SLO_URL: needs SAML sign-in (SAML_IDP_ENTRY_POINT, SAML_IDP_CERT and SAML_IDP_ISSUER)');
      if (values.SAML_SP_PRIVATE_KEY === undefined && values.SAML_SP_CERT === undefined) {
        problems.push('SAML_IDP_SLO_URL: needs SAML_SP_PRIVATE_KEY and SAML_SP_CERT (Single Logout messages are signed; make a key pair with openssl, docs/sso.md "Single Logout")');
      }
      if (values.NODE_ENV === 'production' && !values.SAML_IDP_SLO_URL.startsWith('https://')) problems.push('SAML_IDP_SLO_URL: must use https:// in production');
    }
    problems.push(...previousProblems(values));
    if (values.PASSWORD_SIGN_IN === 'off' && oidcSet.length === 0 && samlSet.length === 0) {
      problems.push('PASSWORD_SIGN_IN: off needs single sign-on (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, or the SAML_IDP_* settings)');
    }
  }
  if (problems.length > 0 || !values) throw new ConfigError(problems);
  const baseUrl = (values.BASE_URL ?? `http://localhost:${values.PORT}`).replace(/\/$/, '');

  const sessionSecret =
    values.SESSION_SECRET ?? (values.NODE_ENV === 'test' ? randomBytes(48).toString('base64url') : developmentSecret(values.DATA_DIR));
  return Object.freeze({
    env: values.NODE_ENV,
    isProduction: values.NODE_ENV === 'production',
    port: values.PORT,
    host: values.HOST,
    mongodbUri: values.MONGODB_URI,
    sessionSecret,
    previousSessionSecrets: Object.freeze(previousValues(values.SESSION_SECRET_PREVIOUS)),
    baseUrl,
    trustProxy: parseTrustProxy(values.TRUST_PROXY),
    logLevel: values.LOG_LEVEL ?? (values.NODE_ENV === 'test' ? 'silent' : 'info'),
    dataDir: values.DATA_DIR,
    seedDemo: values.SEED_DEMO ?? values.NODE_ENV === 'development',
    sessionCacheMs: values.SESSION_CACHE_MS,
    smtpUrl: values.SMTP_URL,
    mailFrom: values.MAIL_FROM ?? 'Safe Schools Training <no-reply@localhost>',
    reminderRetentionDays: values.REMINDER_RETENTION_DAYS,
    oidc:
      values.OIDC_ISSUER && values.OIDC_CLIENT_ID && values.OIDC_CLIENT_SECRET
        ? Object.freeze({
            issuer: values.OIDC_ISSUER,
            clientId: values.OIDC_CLIENT_ID,
            clientSecret: values.OIDC_CLIENT_SECRET,
            label: values.OIDC_LABEL ?? 'single sign-on',
            redirectUri: `${baseUrl}/auth/oidc/callback`,
            emailDomains: Object.freeze(parseEmailDomains(values.OIDC_EMAIL_DOMAINS).domains),
            prompt: values.OIDC_PROMPT === 'off' ? undefined : values.OIDC_PROMPT,
            postLogoutRedirectUri: `${baseUrl}/login`,
          })
        : undefined,
    passwordSignIn: values.PASSWORD_SIGN_IN === 'on',
    demoOidc: values.DEMO_OIDC ?? false,
    saml:
      values.SAML_IDP_ENTRY_POINT && values.SAML_IDP_CERT && values.SAML_IDP_ISSUER
        ? Object.freeze({
            entryPoint: values.SAML_IDP_ENTRY_POINT,
            idpCerts: Object.freeze(parseIdpCerts(values.SAML_IDP_CERT).certs),
            idpIssuer: values.SAML_IDP_ISSUER,
            spEntityId: values.SAML_SP_ENTITY_ID ?? `${baseUrl}/auth/saml/metadata`,
            // Empty: the page says "your district account" in the reader's language (saml.defaultLabel).
            label: values.SAML_LABEL ?? '',
            acsUrl: `${baseUrl}/auth/saml/acs`,
            emailAttributes: Object.freeze(parseEmailAttributes(values.SAML_EMAIL_ATTRIBUTE)),
            emailDomains: Object.freeze(parseEmailDomains(values.SAML_EMAIL_DOMAINS, 'SAML_EMAIL_DOMAINS').domains),
            nameIdFormat: NAME_ID_FORMATS[values.SAML_NAMEID_FORMAT],
            slo: sloSettings(values.SAML_IDP_SLO_URL, parseSpKeyPair(values.SAML_SP_PRIVATE_KEY, values.SAML_SP_CERT), baseUrl),
            requestSigning: parseSamlCrypto(values, true).requestSigning,
            decryption: parseSamlCrypto(values, true).decryption,
          })
        : undefined,
    xapiSecretKey: xapiKey(values.XAPI_SECRET_KEY, values.NODE_ENV, values.DATA_DIR),
    previousXapiSecretKeys: Object.freeze(previousValues(values.XAPI_SECRET_KEY_PREVIOUS).map(keyBytes)),
    ltiToolKeyMaxAgeDays: values.LTI_TOOL_KEY_MAX_AGE_DAYS,
    outboundPrivateNetwork: values.OUTBOUND_PRIVATE_NETWORK ?? (values.NODE_ENV === 'production' ? 'refuse' : 'allow'),
  });
}
