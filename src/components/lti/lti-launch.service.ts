/**
 * LTI 1.3 Resource Link launch (docs/lti.md): the platform's third-party-initiated OIDC login, then its
 * signed id_token posted to our launch URL. Only the roster's active people of the registration's
 * district are signed in; nothing is created at launch.
 */
import { randomBytes } from 'node:crypto';
import { outboundRequest } from '../../shared/outbound-http';
import { createRemoteJWKSet, customFetch, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Actor } from '../../shared/actor';
import { logger } from '../../shared/logger';
import { bindingMatches, newBinding } from '../../shared/login-binding';
import { resolveSsoSignIn, type SsoRefusal } from '../sso';
import { TrainingModule } from '../training';
import { AGS_CLAIM, recordAgsLink } from './lti-ags.service';
import { DL_CLAIM, readDeepLinkSettings, type DeepLinkRequest } from './lti-deep-linking.service';
import { ltiRuntime } from './lti-runtime';
import { LtiPlatform } from './lti-platform.model';
import { LAUNCH_STATE_TTL_S, LtiLaunchState } from './lti-launch-state.model';
import type { LoginInitiation } from './lti.schemas';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
/** Clock difference tolerated between the platform and us (exp, iat). */
const CLOCK_SKEW_S = 60;
/** An id_token issued longer ago than this is refused, whatever its exp. */
const MAX_TOKEN_AGE_S = 10 * 60;
const JWKS_TIMEOUT_MS = 5_000;
const MAX_CACHED_JWKS = 200;

export type LaunchProblem = 'unknown_platform' | 'invalid' | 'expired' | 'unavailable' | 'deployment' | 'message' | 'unbound';
export type LaunchRefusal = LaunchProblem | SsoRefusal;
/** `binding`: the value of the binding cookie the route sets in this browser (only its hash is stored). */
export type LoginResult = { ok: true; url: string; binding: string } | { ok: false; reason: LaunchProblem };
export type LaunchResult =
  | { ok: true; actor: Actor; next: string }
  | { ok: true; deepLink: DeepLinkRequest }
  | { ok: false; reason: LaunchRefusal; locale?: string };
export type LtiUrls = { baseUrl: string; launchUrl: string };
type Context = { requestId?: string };

/** Our launch (redirect) URL; target link URIs are this with ?module=<slug>. */
export function ltiUrls(baseUrl: string): LtiUrls & { loginUrl: string; jwksUrl: string } {
  return { baseUrl, launchUrl: `${baseUrl}/lti/launch`, loginUrl: `${baseUrl}/lti/login`, jwksUrl: `${baseUrl}/lti/jwks` };
}

/** A target link is ours when it is our launch URL (with any query). */
function isOurTarget(target: unknown, urls: LtiUrls): target is string {
  if (typeof target !== 'string') return false;
  try {
    const url = new URL(target);
    const ours = new URL(urls.launchUrl);
    return url.origin === ours.origin && url.pathname === ours.pathname;
  } catch {
    return false;
  }
}

function problem(reason: LaunchProblem, details: Record<string, unknown>, ctx: Context): { ok: false; reason: LaunchProblem } {
  // No tokens, hints or people here: the reason and what the district admin can check (issuer, deployment).
  logger.info({ reason, ...details, requestId: ctx.requestId }, 'LTI launch refused');
  return { ok: false, reason };
}

/** Step 1: the platform's login initiation. Finds the registration, keeps state + nonce, sends the browser to the platform. */
export async function startLogin(init: LoginInitiation, urls: LtiUrls, ctx: Context = {}): Promise<LoginResult> {
  const filter = init.client_id ? { issuer: init.iss, clientId: init.client_id } : { issuer: init.iss };
  const found = await LtiPlatform.find(filter).select('issuer clientId authLoginUrl deploymentIds').limit(2).lean();
  // Without a client id, an issuer shared by several registrations (Canvas Cloud) cannot name one.
  if (found.length !== 1) return problem('unknown_platform', { issuer: init.iss.slice(0, 200), registrations: found.length }, ctx);
  const platform = found[0];
  if (init.lti_deployment_id && !platform.deploymentIds.includes(init.lti_deployment_id)) {
    return problem('deployment', { issuer: platform.issuer, deployment: init.lti_deployment_id.slice(0, 200) }, ctx);
  }
  if (!isOurTarget(init.target_link_uri, urls)) return problem('invalid', { issuer: platform.issuer, why: 'target_link_uri' }, ctx);

  const state = randomBytes(32).toString('base64url');
  const nonce = randomBytes(32).toString('base64url');
  const binding = newBinding();
  await LtiLaunchState.create({ state, nonce, platform: platform._id, createdAt: new Date(), bindingHash: binding.hash });
  const url = new URL(platform.authLoginUrl);
  const params: Record<string, string> = {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: platform.clientId,
    redirect_uri: urls.launchUrl,
    login_hint: init.login_hint,
    state,
    nonce,
  };
  if (init.lti_message_hint) params.lti_message_hint = init.lti_message_hint;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { ok: true, url: url.href, binding: binding.value };
}

/** A platform's key set is a few KB; more than this is not a key set. */
const JWKS_MAX_BYTES = 512 * 1024;

/**
 * jose's fetch for the key sets, through shared/outbound-http.ts: the JWKS URL is typed by a district
 * administrator, so with OUTBOUND_PRIVATE_NETWORK=refuse (production) it may not reach the hosting network
 * (checked inside the connection's DNS lookup); redirects are not followed; at most 512 KB is read.
 */
function guardedFetch(allowPrivateNetwork: boolean) {
  return async (url: string, options: { headers?: HeadersInit }): Promise<Response> => {
    const answer = await outboundRequest(new URL(url), {
      method: 'GET',
      headers: Object.fromEntries(new Headers(options.headers).entries()),
      timeoutMs: JWKS_TIMEOUT_MS,
      maxBytes: JWKS_MAX_BYTES,
      allowPrivateNetwork,
    });
    const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 502;
    return new Response([101, 204, 205, 304].includes(status) ? null : answer.body, { status });
  };
}

// jose keeps each key set and fetches it again when a token names a key it does not have (key rotation).
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySetFor(jwksUrl: string, allowPrivateNetwork: boolean): ReturnType<typeof createRemoteJWKSet> {
  const cacheKey = `${allowPrivateNetwork ? 'any' : 'public'} ${jwksUrl}`;
  let set = keySets.get(cacheKey);
  if (!set) {
    if (keySets.size >= MAX_CACHED_JWKS) keySets.delete(keySets.keys().next().value as string);
    set = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS, [customFetch]: guardedFetch(allowPrivateNetwork) });
    keySets.set(cacheKey, set);
  }
  return set;
}

function classify(err: unknown): LaunchProblem {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWKSTimeout) return 'unavailable';
  if (
    err instanceof joseErrors.JWSSignatureVerificationFailed ||
    err instanceof joseErrors.JWTClaimValidationFailed ||
    err instanceof joseErrors.JWSInvalid ||
    err instanceof joseErrors.JWTInvalid ||
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JOSEAlgNotAllowed ||
    err instanceof joseErrors.JOSENotSupported
  ) {
    return 'invalid';
  }
  // A key set that cannot be fetched or read (network, HTTP status, not JSON): the platform is unreachable or misregistered.
  return 'unavailable';
}

/** The message type the (not yet verified) token says: only to let a deep-linking request without the binding cookie through to verification. */
function claimedMessageType(idToken: string): unknown {
  try {
    return decodeJwt(idToken)[`${CLAIM}message_type`];
  } catch {
    return undefined;
  }
}

/** The learner's language from the launch_presentation locale claim (en, es, es-MX …), for refusal pages only. */
function localeOf(idToken: string): string | undefined {
  try {
    const locale = (decodeJwt(idToken)[`${CLAIM}launch_presentation`] as { locale?: unknown } | undefined)?.locale;
    return typeof locale === 'string' ? locale.slice(0, 20) : undefined;
  } catch {
    return undefined;
  }
}

/** Where the launch goes: /training/<slug> for a published module named by the target link (or custom `module`), else /training. */
async function destinationOf(target: string, custom: unknown): Promise<{ next: string; slug?: string }> {
  const fromTarget = new URL(target).searchParams.get('module');
  const fromCustom = custom && typeof custom === 'object' ? (custom as Record<string, unknown>).module : undefined;
  const slug = fromTarget ?? (typeof fromCustom === 'string' ? fromCustom : undefined);
  if (!slug || !/^[a-z0-9][a-z0-9-]{0,79}$/.test(slug)) return { next: '/training' };
  return (await TrainingModule.exists({ slug })) ? { next: `/training/${slug}`, slug } : { next: '/training' };
}

/**
 * Step 2: the platform posts the id_token and our state. Every check below must pass. The browser binding is
 * checked first: a launch without this browser's binding cookie (or with another one) is refused and does not
 * use the state up, so a launch form posted from another browser cannot spend the real one. Then the state is
 * used up, before the id_token is read. `input.binding`: the binding cookie the browser sent.
 * `network.allowPrivateNetwork`: OUTBOUND_PRIVATE_NETWORK=allow (the platform's JWKS URL may be on a private network).
 */
export async function finishLaunch(
  input: { idToken: string; state: string; binding?: string },
  urls: LtiUrls,
  ctx: Context = {},
  network: { allowPrivateNetwork: boolean } = { allowPrivateNetwork: false },
): Promise<LaunchResult> {
  const locale = localeOf(input.idToken);
  const refuse = (reason: LaunchProblem, details: Record<string, unknown>): LaunchResult => ({ ...problem(reason, details, ctx), locale });

  const pending = await LtiLaunchState.findOne({ state: input.state }).lean();
  if (!pending || Date.now() - pending.createdAt.getTime() > LAUNCH_STATE_TTL_S * 1000) return refuse('expired', { why: 'state' });
  const platform = await LtiPlatform.findById(pending.platform).select('district issuer clientId jwksUrl deploymentIds linkByEmail requireBrowserBinding').lean();
  if (!platform) {
    await LtiLaunchState.deleteOne({ _id: pending._id });
    return refuse('unknown_platform', { why: 'removed' });
  }
  // A deep-linking request signs no one in (no login CSRF to fear) and is shown in an LMS frame, where the
  // browser may withhold the cookie: it may come without one. Checked again once the token is verified.
  let unboundDeepLink = false;
  if (!bindingMatches(input.binding, pending.bindingHash)) {
    unboundDeepLink = input.binding === undefined && claimedMessageType(input.idToken) === 'LtiDeepLinkingRequest';
    // Another browser's cookie is always refused; no cookie at all only where the registration allows it (an
    // LMS frame whose browser blocks the cookie). Logged without the cookie, state or token.
    if (!unboundDeepLink && (input.binding !== undefined || platform.requireBrowserBinding !== false)) {
      return refuse('unbound', { issuer: platform.issuer, why: input.binding === undefined ? 'no_binding_cookie' : 'other_browser' });
    }
    logger.info({ issuer: platform.issuer, requestId: ctx.requestId }, 'LTI launch without browser binding (allowed by its registration)');
  }
  // Used up here, once: of two copies posted at the same moment only one gets past this.
  if (!(await LtiLaunchState.findOneAndDelete({ _id: pending._id }).lean())) return refuse('expired', { why: 'state' });

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(input.idToken, keySetFor(platform.jwksUrl, network.allowPrivateNetwork), {
      issuer: platform.issuer,
      audience: platform.clientId,
      algorithms: ['RS256'],
      clockTolerance: CLOCK_SKEW_S,
      maxTokenAge: MAX_TOKEN_AGE_S,
      requiredClaims: ['iat', 'exp', 'nonce', 'sub'],
    }));
  } catch (err) {
    const reason = classify(err);
    return refuse(reason, { issuer: platform.issuer, why: (err as { code?: string }).code ?? (err as Error).name });
  }
  // Several audiences: the authorized party must be us (OIDC Core 3.1.3.7).
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if ((audiences.length > 1 || claims.azp !== undefined) && claims.azp !== platform.clientId) return refuse('invalid', { issuer: platform.issuer, why: 'azp' });
  if (claims.nonce !== pending.nonce) return refuse('invalid', { issuer: platform.issuer, why: 'nonce' });
  const deployment = claims[`${CLAIM}deployment_id`];
  if (typeof deployment !== 'string' || !platform.deploymentIds.includes(deployment)) {
    return refuse('deployment', { issuer: platform.issuer, deployment: typeof deployment === 'string' ? deployment.slice(0, 200) : undefined });
  }
  if (claims[`${CLAIM}message_type`] === 'LtiDeepLinkingRequest' && claims[`${CLAIM}version`] === '1.3.0') {
    const settings = readDeepLinkSettings(claims[`${DL_CLAIM}deep_linking_settings`], ltiRuntime().requireHttps);
    if (!settings || typeof claims.sub !== 'string') return refuse('invalid', { issuer: platform.issuer, why: 'deep_linking_settings' });
    logger.info({ issuer: platform.issuer, requestId: ctx.requestId }, 'LTI deep-linking request: module list shown');
    return { ok: true, deepLink: { issuer: platform.issuer, clientId: platform.clientId, deploymentId: deployment, returnUrl: settings.returnUrl, data: settings.data, locale } };
  }
  if (unboundDeepLink) return refuse('unbound', { issuer: platform.issuer, why: 'no_binding_cookie' });
  if (claims[`${CLAIM}message_type`] !== 'LtiResourceLinkRequest' || claims[`${CLAIM}version`] !== '1.3.0') {
    return refuse('message', { issuer: platform.issuer, messageType: String(claims[`${CLAIM}message_type`]).slice(0, 60) });
  }
  const resourceLink = claims[`${CLAIM}resource_link`] as { id?: unknown } | undefined;
  const target = claims[`${CLAIM}target_link_uri`];
  if (typeof resourceLink?.id !== 'string' || !isOurTarget(target, urls) || typeof claims.sub !== 'string' || !claims.sub) {
    return refuse('invalid', { issuer: platform.issuer, why: 'claims' });
  }

  const email = typeof claims.email === 'string' ? claims.email : undefined;
  const result = await resolveSsoSignIn(
    // The registration decides whether the LMS's email may link a first launch (the district manages those emails).
    { issuer: platform.issuer, sub: claims.sub, email, emailVerified: platform.linkByEmail !== false },
    { requestId: ctx.requestId, link: { kind: 'lti', districtId: String(platform.district) } },
  );
  if (!result.ok) return { ok: false, reason: result.reason, locale };
  const destination = await destinationOf(target, claims[`${CLAIM}custom`]);
  // Grade passback: where this person's score for this module goes (only with a line item and the score scope).
  if (destination.slug && claims[AGS_CLAIM] !== undefined) {
    await recordAgsLink({ district: platform.district, user: result.actor.userId, moduleSlug: destination.slug, platform: platform._id, deploymentId: deployment, sub: claims.sub, claim: claims[AGS_CLAIM], issuer: platform.issuer }, ctx);
  }
  return { ok: true, actor: result.actor, next: destination.next };
}
