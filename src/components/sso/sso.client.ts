import * as oidc from 'openid-client';
import type { Config } from '../../config';
import { logger } from '../../shared/logger';
import { SIGNED_OUT_STATE } from '../auth';

type OidcSettings = NonNullable<Config['oidc']>;

/** Discovery is kept this long, then fetched again at the next sign-in (key rotation is handled by jose). */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** How long a sign-in waits for the identity provider before showing the "unavailable" page. */
const IDP_TIMEOUT_S = 8;

/** Plain http is only for an identity provider on this machine (tests, the demo); config refuses it in production. */
function isLoopback(issuer: string): boolean {
  const host = new URL(issuer).hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

export class IdpUnavailableError extends Error {}

/**
 * The identity provider's metadata, fetched on first use (never at start: a down IdP must not stop the
 * app) and cached; a failed fetch is not cached, so the next attempt tries again.
 */
export class OidcClient {
  private cached: { at: number; config: Promise<oidc.Configuration> } | undefined;
  /** Origins of the discovered authorization and end-session endpoints (see formActionSources). */
  private endpointOrigins: string[] = [];

  constructor(readonly settings: OidcSettings) {}

  /**
   * Where our sign-in and sign-out forms may lead: Chromium and Safari apply CSP form-action to the 303
   * that answers the form's POST, so the provider's origin must be allowed there too. The issuer's
   * origin (Google, Entra, Clever and ClassLink keep their endpoints on it) and, once discovered, the
   * endpoints' own origins.
   */
  formActionSources(): string[] {
    return [...new Set([new URL(this.settings.issuer).origin, ...this.endpointOrigins])];
  }

  private discover(): Promise<oidc.Configuration> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < DISCOVERY_TTL_MS) return this.cached.config;
    const { issuer, clientId, clientSecret } = this.settings;
    const insecure = issuer.startsWith('http://') && isLoopback(issuer);
    const config = oidc
      .discovery(new URL(issuer), clientId, clientSecret, undefined, {
        timeout: IDP_TIMEOUT_S,
        execute: insecure ? [oidc.allowInsecureRequests] : [],
      })
      .then((c) => {
        c.timeout = IDP_TIMEOUT_S;
        const { authorization_endpoint: authorize, end_session_endpoint: endSession } = c.serverMetadata();
        this.endpointOrigins = [authorize, endSession].filter((u): u is string => typeof u === 'string').map((u) => new URL(u).origin);
        return c;
      });
    const entry = { at: now, config };
    this.cached = entry;
    config.catch((err: unknown) => {
      if (this.cached === entry) this.cached = undefined;
      logger.warn({ err: describe(err), issuer }, 'OIDC discovery failed');
    });
    return config;
  }

  private async configuration(): Promise<oidc.Configuration> {
    try {
      return await this.discover();
    } catch {
      throw new IdpUnavailableError('identity provider unavailable');
    }
  }

  /** A fresh PKCE verifier, state and nonce, and the URL that sends the person to the identity provider. */
  async startSignIn(): Promise<{ url: string; state: string; nonce: string; codeVerifier: string }> {
    const config = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // select_account / login: a shared computer's next user is never signed in silently as the last one.
      ...(this.settings.prompt ? { prompt: this.settings.prompt } : {}),
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /**
   * Exchanges the code (checking state, nonce, PKCE and the ID token) and returns the identity claims.
   * The access token is used at most once, for the userinfo endpoint when the ID token lacks the email,
   * and is dropped. The ID token is returned only when the provider has an end_session_endpoint: it is
   * the `id_token_hint` of the sign-out there, kept in the server-side session and nowhere else.
   */
  async finishSignIn(
    callbackUrl: URL,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<{ identity: { issuer: string; sub: string; email?: string; emailVerified?: boolean }; idTokenHint?: string }> {
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the token response has no ID token');
    let email = typeof claims.email === 'string' ? claims.email : undefined;
    let verified: unknown = claims.email_verified;
    let domainVerified: unknown = claims.xms_edov;
    if (email === undefined || verified === undefined) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      email = typeof info.email === 'string' ? info.email : email;
      verified = info.email_verified ?? verified;
      domainVerified = info.xms_edov ?? domainVerified;
    }
    // No email_verified (Entra): an explicit "domain not verified" from the tenant still refuses.
    const emailVerified = readVerified(verified) ?? (readVerified(domainVerified) === false ? false : undefined);
    const idTokenHint = config.serverMetadata().end_session_endpoint ? tokens.id_token : undefined;
    return { identity: { issuer: claims.iss, sub: claims.sub, email, emailVerified }, idTokenHint };
  }

  /**
   * RP-initiated logout: the provider's end_session_endpoint with our client_id, the sign-in page to come
   * back to and the ID token as a hint; undefined when the provider has none (Google) or cannot be reached.
   */
  async endSessionUrl(idTokenHint: string | undefined): Promise<string | undefined> {
    let config: oidc.Configuration;
    try {
      config = await this.configuration();
    } catch {
      return undefined;
    }
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    // `state` comes back on the redirect to /login, which then says the person has signed out.
    const params: Record<string, string> = { post_logout_redirect_uri: this.settings.postLogoutRedirectUri, state: SIGNED_OUT_STATE };
    if (idTokenHint) params.id_token_hint = idTokenHint;
    return oidc.buildEndSessionUrl(config, params).href;
  }
}

/**
 * A verification claim as the provider sent it: `email_verified`, or Entra's `xms_edov` (email domain
 * verified by the tenant); providers send booleans, a few send strings. Absent or anything else: undefined.
 */
function readVerified(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

const clients = new WeakMap<OidcSettings, OidcClient>();

/** One client (and discovery cache) per configuration: the router and the CSP header share it. */
export function oidcClientFor(settings: OidcSettings): OidcClient {
  let client = clients.get(settings);
  if (!client) {
    client = new OidcClient(settings);
    clients.set(settings, client);
  }
  return client;
}

/** CSP form-action sources for single sign-on (none when it is off); evaluated per response. */
export function ssoFormActionSources(config: Config): Array<() => string> {
  // SAML Single Logout: the sign-out form's 303 goes to the IdP's SLO URL.
  const samlSlo = config.saml?.slo ? [new URL(config.saml.slo.idpSloUrl).origin] : [];
  if (!config.oidc) return samlSlo.length > 0 ? [() => samlSlo.join(' ')] : [];
  const client = oidcClientFor(config.oidc);
  return [() => [...client.formActionSources(), ...samlSlo].join(' ')];
}

/** An error's kind and code only: openid-client errors can carry response bodies (tokens) in their cause. */
export function describe(err: unknown): { name?: string; code?: string; error?: string } {
  if (!(err instanceof Error)) return { name: typeof err };
  const e = err as Error & { code?: unknown; error?: unknown };
  return { name: e.name, code: typeof e.code === 'string' ? e.code : undefined, error: typeof e.error === 'string' ? e.error : undefined };
}

export { oidc };
