import { Router, type Request, type Response } from 'express';
import { sharedRateLimit } from '../../shared/rate-limit';
import type { Config } from '../../config';
import { safeRedirectPath } from '../auth';
import { logger } from '../../shared/logger';
import { SAML_BINDING, clearBindingCookie, newBinding, readBindingCookie, setBindingCookie } from '../../shared/login-binding';
import { resolveSsoSignIn } from './sso.service';
import { samlClientFor, type SamlFailure } from './saml.client';
import { addSloEndpoint } from './saml-slo.routes';
import { recordSamlSession } from './saml-slo';

type ErrorKind = 'invalid' | 'expired' | 'denied' | 'refused' | 'unbound';
// `unbound` is 400 like `expired`: a binding cookie that expired and one from another browser look alike.
const STATUS: Record<ErrorKind, number> = { invalid: 400, expired: 400, denied: 403, refused: 403, unbound: 400 };

/**
 * SAML 2.0 sign-in (docs/sso.md, "SAML 2.0"). Mounted BEFORE the CSRF check, because of one route:
 * POST /auth/saml/acs is posted by the identity provider's page, which cannot know our CSRF token (and
 * the browser does not send our SameSite=Lax session cookie with it, so there is no session to hold one).
 * What protects it instead: the signature by the IdP's pinned certificate, InResponseTo matching an
 * unanswered request we issued in the last 15 minutes, the audience, Recipient/Destination and validity
 * times (saml.client.ts), and the binding cookie set by GET /auth/saml in the browser that started the sign-in
 * (shared/login-binding.ts: a response captured elsewhere and posted from this browser is refused). It is the
 * only POST here besides Single Logout's endpoint (GET|POST /auth/saml/slo, signed by the IdP: saml-slo.routes.ts);
 * the GET routes change nothing a CSRF token guards.
 */
export function samlRouter(config: Config): Router {
  const router = Router();
  const settings = config.saml;
  const client = settings ? samlClientFor(settings) : undefined;

  // What the sign-in page needs to know: the "Sign in with <SAML_LABEL>" link.
  router.use((_req, res, next) => {
    res.locals.saml = { enabled: Boolean(client), label: settings ? labelFor(res) : '' };
    next();
  });
  if (!client || !settings) return router;

  function labelFor(res: Response): string {
    return settings!.label || res.locals.t('saml.defaultLabel');
  }
  const renderError = (res: Response, kind: ErrorKind, extra: { reason?: string; detail?: string; restart?: string } = {}) =>
    res.status(STATUS[kind]).render('auth/sso-error', { title: res.locals.t(`sso.errors.${kind}.title`), kind, label: labelFor(res), ...extra });

  // Per-IP limits, counted in MongoDB across instances (shared/rate-limit.ts, like the password sign-in limit):
  // every start writes a request record, and every refused response costs a signature check. Generous: a school signs in from one address (NAT).
  const tooMany = (_req: Request, res: Response) => {
    // The sign-in page also needs what the OIDC router (mounted after this one) tells it.
    res.locals.sso ??= { enabled: Boolean(config.oidc), label: config.oidc?.label ?? '', passwordSignIn: config.passwordSignIn };
    res.status(429).render('auth/login', { title: res.locals.t('auth.title'), values: {}, errors: { _form: 'auth.errors.tooManyAttempts' }, next: '' });
  };
  const limits = { windowMs: 15 * 60 * 1000, handler: tooMany } as const;
  const startLimiter = sharedRateLimit({ ...limits, name: 'saml-start', secret: config.sessionSecret, limit: 600 });
  const refusedLimiter = sharedRateLimit({ ...limits, name: 'saml-refused', secret: config.sessionSecret, limit: 100, skipSuccessfulRequests: true });

  // Starts the round trip: a redirect (HTTP-Redirect binding) to the IdP with a new AuthnRequest. The
  // request id is kept in MongoDB (not the session: the answer comes back without our session cookie), with
  // the hash of a binding cookie set here and sent back only to the ACS.
  router.get('/auth/saml', startLimiter, async (req, res) => {
    const next = safeRedirectPath(req.query.next);
    if (req.user) return res.redirect(303, next);
    const binding = newBinding();
    const url = await client.signInUrl(next, binding.hash);
    setBindingCookie(res, SAML_BINDING, binding.value, config);
    res.redirect(303, url);
  });

  // Single Logout's endpoint: also a cross-site message without our CSRF token (saml-slo.routes.ts says what protects it).
  if (settings.slo) addSloEndpoint(router, settings, settings.slo, refusedLimiter);

  router.get('/auth/saml/metadata', (_req, res) => {
    res.type('application/xml').send(client.metadata());
  });

  router.post('/auth/saml/acs', refusedLimiter, async (req, res, nextHandler) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const binding = readBindingCookie(req, SAML_BINDING);
    const outcome = await client.finishSignIn(body, binding);
    // The binding is spent once its request was checked. A refusal for the binding itself leaves the cookie: a
    // stray post must not break a sign-in in progress in this browser (and the cookie expires in 10 minutes).
    if (binding !== undefined && (outcome.ok || outcome.failure.kind !== 'unbound')) clearBindingCookie(res, SAML_BINDING, config);
    if (!outcome.ok) {
      // A code only: no NameID, email or IdP status text (free text) in the log.
      logger.info({ code: outcome.failure.code, requestId: req.id }, 'SAML response refused');
      if (outcome.failure.kind === 'unbound') {
        return renderError(res, 'unbound', { restart: `/auth/saml?next=${encodeURIComponent(safeRedirectPath(body.RelayState))}` });
      }
      return renderFailure(res, outcome.failure);
    }
    const result = await resolveSsoSignIn(outcome.identity, { requestId: String(req.id), trustedEmailDomains: settings.emailDomains });
    if (!result.ok) return renderError(res, 'refused', { reason: result.reason });
    // passport regenerates the session id here, as at every sign-in (session fixation defence).
    req.login(result.actor, (loginErr) => {
      if (loginErr) return nextHandler(loginErr);
      if (!settings.slo) return res.redirect(303, outcome.next);
      // Set on the new (regenerated) session: what our LogoutRequest needs, and where an IdP logout finds it.
      req.session.samlSignIn = outcome.signIn;
      recordSamlSession(req.sessionID, settings.idpIssuer, outcome.signIn).then(() => res.redirect(303, outcome.next), nextHandler);
    });
  });

  function renderFailure(res: Response, failure: SamlFailure) {
    if (failure.kind === 'transient') return renderError(res, 'invalid', { detail: 'saml.transientNameId' });
    if (failure.kind === 'encryption') {
      return renderError(res, 'invalid', { detail: failure.code === 'unencrypted_assertion' ? 'saml.unencryptedAssertion' : 'saml.encryptionKey' });
    }
    return renderError(res, failure.kind);
  }

  return router;
}
