import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { SIGNED_OUT_PATH, actorOf, requireAuth, requireRole, safeRedirectPath, setPreferredLanguage } from '../auth';
import { isLanguage } from '../../shared/i18n';
import { logger } from '../../shared/logger';
import { parseOrThrow } from '../../shared/validation';
import { setFlash } from '../../shared/flash';
import { IdpUnavailableError, describe, oidc, oidcClientFor } from './sso.client';
import { getSsoLink, resolveSsoSignIn, unlinkSso } from './sso.service';

declare module 'express-session' {
  interface SessionData {
    /** One SSO round trip in progress: removed when the callback arrives, so a callback replays never. */
    oidcPending?: { state: string; nonce: string; codeVerifier: string; next: string; startedAt: number };
    /**
     * Set when this session was signed in through SSO: sign-out then also ends the provider's session.
     * `idTokenHint` (the ID token, only when the provider has an end_session_endpoint) lives here in the
     * server-side session only: never in a cookie, a log line or an audit event.
     */
    ssoSignIn?: { idTokenHint?: string };
  }
}

/** A round trip older than this is refused (the person starts again). */
const PENDING_MAX_MS = 15 * 60 * 1000;
const idParams = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/i) });

type ErrorKind = 'unavailable' | 'denied' | 'invalid' | 'expired' | 'refused';
const STATUS: Record<ErrorKind, number> = { unavailable: 503, denied: 403, invalid: 400, expired: 400, refused: 403 };

function renderError(res: Response, kind: ErrorKind, reason?: string) {
  res.status(STATUS[kind]).render('auth/sso-error', { title: res.locals.t(`sso.errors.${kind}.title`), kind, reason });
}

/**
 * OpenID Connect sign-in: POST /auth/oidc starts the round trip (CSRF-protected, so no other site can
 * start one), GET /auth/oidc/callback finishes it. Also the admin's view and removal of a person's link.
 */
export function ssoRouter(config: Config): Router {
  const router = Router();
  const settings = config.oidc;
  const client = settings ? oidcClientFor(settings) : undefined;

  // What the sign-in page needs to know (the button, whether password sign-in is for admins only).
  router.use((_req, res, next) => {
    res.locals.sso = { enabled: Boolean(client), label: settings?.label ?? '', passwordSignIn: config.passwordSignIn };
    next();
  });

  if (client) {
    router.post('/auth/oidc', async (req, res) => {
      if (req.user) return res.redirect(303, safeRedirectPath(req.body?.next));
      let started;
      try {
        started = await client.startSignIn();
      } catch (err) {
        if (err instanceof IdpUnavailableError) return renderError(res, 'unavailable');
        throw err;
      }
      const { url, ...expected } = started;
      req.session.oidcPending = { ...expected, next: safeRedirectPath(req.body?.next), startedAt: Date.now() };
      req.session.save((err) => {
        if (err) return res.status(500).render('errors/500');
        res.redirect(303, url);
      });
    });

    router.get('/auth/oidc/callback', async (req: Request, res: Response, next) => {
      const pending = req.session.oidcPending;
      // Taken out before anything else: a replayed or second callback finds nothing.
      if (pending) delete req.session.oidcPending;
      const idpError = typeof req.query.error === 'string' ? req.query.error : undefined;
      if (idpError) {
        logger.info({ error: idpError.slice(0, 64), requestId: req.id }, 'identity provider returned an error');
        return renderError(res, idpError === 'access_denied' ? 'denied' : 'invalid');
      }
      if (!pending) return renderError(res, 'expired');
      if (Date.now() - pending.startedAt > PENDING_MAX_MS) return renderError(res, 'expired');
      if (typeof req.query.code !== 'string' || typeof req.query.state !== 'string') return renderError(res, 'invalid');

      let identity, idTokenHint;
      try {
        ({ identity, idTokenHint } = await client.finishSignIn(new URL(req.originalUrl, `${settings!.redirectUri}`), pending));
      } catch (err) {
        if (err instanceof IdpUnavailableError) return renderError(res, 'unavailable');
        logger.warn({ err: describe(err), requestId: req.id }, 'SSO callback rejected');
        if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ClientError) {
          return renderError(res, 'invalid');
        }
        if (err instanceof TypeError || (err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') {
          return renderError(res, 'unavailable');
        }
        return renderError(res, 'invalid');
      }

      const result = await resolveSsoSignIn(identity, { requestId: String(req.id), trustedEmailDomains: settings!.emailDomains });
      if (!result.ok) return renderError(res, 'refused', result.reason);

      const chosenLanguage = req.session.lang;
      // passport regenerates the session id here (session fixation defence); the CSRF token goes with it.
      req.login(result.actor, (loginErr) => {
        if (loginErr) return next(loginErr);
        req.session.ssoSignIn = idTokenHint ? { idTokenHint } : {};
        if (isLanguage(chosenLanguage)) {
          req.session.lang = chosenLanguage;
          if (chosenLanguage !== result.actor.language) {
            setPreferredLanguage(result.actor, chosenLanguage).catch((e: unknown) => logger.warn({ err: e }, 'could not save language preference'));
          }
        }
        res.redirect(303, pending.next);
      });
    });

    // Sign-out of a session signed in through SSO (CSRF-checked like every POST): the session is destroyed
    // first, then the browser goes to the provider's end_session_endpoint, so a shared computer's next
    // user is not signed in there as this person. Password sessions, and providers without an
    // end_session_endpoint (Google), fall through to the ordinary sign-out (auth.routes).
    router.post('/logout', (req, res, next) => {
      const signedIn = req.session.ssoSignIn;
      if (!signedIn) return next();
      req.logout((logoutErr) => {
        if (logoutErr) return next(logoutErr);
        req.session.destroy((destroyErr) => {
          if (destroyErr) return next(destroyErr);
          res.clearCookie('sst.sid');
          client.endSessionUrl(signedIn.idTokenHint).then((url) => res.redirect(303, url ?? SIGNED_OUT_PATH), next);
        });
      });
    });
  }

  // The admin user page shows the link; the admin can remove it (the person links again at next SSO sign-in).
  router.get('/admin/users/:id', requireAuth, requireRole('district_admin'), async (req, res, next) => {
    const parsed = idParams.safeParse(req.params);
    if (parsed.success) res.locals.ssoLink = await getSsoLink(actorOf(req), parsed.data.id).catch(() => undefined);
    next();
  });
  router.post('/admin/users/:id/sso/unlink', requireAuth, requireRole('district_admin'), async (req, res) => {
    const { id } = parseOrThrow(idParams, req.params, 404);
    const { wasLinked } = await unlinkSso(actorOf(req), id, { requestId: String(req.id) });
    setFlash(req, wasLinked ? 'sso.flash.unlinked' : 'sso.flash.notLinked');
    res.redirect(303, `/admin/users/${id}`);
  });

  return router;
}
