import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config, SamlSettings, SamlSloSettings } from '../../config';
import { SIGNED_OUT_PATH } from '../auth';
import { logger } from '../../shared/logger';
import { SloMessageError, rawQueryParams, readPostMessage, readRedirectMessage, type LogoutMessage, type SloMessageType } from './saml-slo.message';
import { endSamlSessions, forgetSamlSession, samlLogoutFor } from './saml-slo';

/** Where a LogoutResponse reporting a partial or failed logout at the IdP lands (the sign-in page says so). */
export const PARTIALLY_SIGNED_OUT_PATH = '/login?signed_out=partial';
/** The longest RelayState echoed back to the IdP (SAML bindings §3.4.3: at most 80 bytes). */
const MAX_RELAY_STATE = 80;

/**
 * GET|POST /auth/saml/slo, our SingleLogoutService (docs/sso.md, "Single Logout"). Added to the SAML router, which is
 * mounted BEFORE the CSRF check: the IdP sends its LogoutRequest or LogoutResponse from its own page (a redirect, or
 * an auto-posting form), which cannot know our CSRF token, and a cross-site POST does not even carry our
 * SameSite=Lax session cookie. What protects it instead: the IdP's signature (required on both bindings; an
 * unsigned or wrongly signed message changes nothing), the Issuer, the Destination, and for a LogoutResponse the
 * InResponseTo of a LogoutRequest we sent and nobody answered; for a LogoutRequest its age and a replay check.
 */
export function addSloEndpoint(router: Router, settings: SamlSettings, slo: SamlSloSettings, limiter: RequestHandler): void {
  const client = samlLogoutFor(settings, slo);
  const decryptionKeys = settings.decryption?.keys ?? [];

  const handle = async (req: Request, res: Response) => {
    let type: SloMessageType | undefined;
    let read: () => Promise<LogoutMessage>;
    let relayState: unknown;
    try {
      if (req.method === 'GET') {
        const params = rawQueryParams(req.originalUrl);
        type = pickType(params.has('SAMLRequest'), params.has('SAMLResponse'));
        relayState = params.has('RelayState') ? safeDecode(params.get('RelayState')!) : undefined;
        read = () => readRedirectMessage(params, type!, settings.idpCerts, decryptionKeys);
      } else {
        const body = (req.body ?? {}) as Record<string, unknown>;
        type = pickType(typeof body.SAMLRequest === 'string' && body.SAMLRequest !== '', typeof body.SAMLResponse === 'string' && body.SAMLResponse !== '');
        relayState = body.RelayState;
        read = () => readPostMessage(body[type!] as string, type!, settings.idpCerts, decryptionKeys);
      }
    } catch (err) {
      if (!(err instanceof SloMessageError)) throw err;
      type = undefined;
      read = () => Promise.reject(err);
    }
    if (!type) return refuse(req, res, 'missing_message', 'request');

    if (type === 'SAMLResponse') {
      // Whatever the answer says, this browser is signed out here (it normally already is: POST /logout ended it).
      await endLocalSession(req);
      const outcome = await readChecked(read, (m) => client.checkResponse(m));
      if (!outcome.ok) return refuse(req, res, outcome.code, 'response');
      if (!outcome.complete) logger.info({ requestId: req.id }, 'SAML logout partial at the identity provider');
      return res.redirect(303, outcome.complete ? SIGNED_OUT_PATH : PARTIALLY_SIGNED_OUT_PATH);
    }

    const outcome = await readChecked(read, (m) => client.checkRequest(m));
    if (!outcome.ok) return refuse(req, res, outcome.code, 'request');
    const ended = await endSamlSessions(req.sessionStore, settings.idpIssuer, outcome.nameId, outcome.sessionIndexes);
    // Counts only: no NameID or SessionIndex in the log.
    logger.info({ ended: ended.length, bySessionIndex: outcome.sessionIndexes.length > 0, requestId: req.id }, 'SAML logout requested by the identity provider');
    // This browser's own session was one of them: it must not be written back at the end of this request.
    if (ended.includes(req.sessionID)) await endLocalSession(req);
    const echo = typeof relayState === 'string' && relayState.length <= MAX_RELAY_STATE ? relayState : undefined;
    res.redirect(303, await client.logoutResponseUrl(outcome.id, ended.length > 0, echo));
  };

  router.get('/auth/saml/slo', limiter, handle);
  router.post('/auth/saml/slo', limiter, handle);
}

function pickType(hasRequest: boolean, hasResponse: boolean): SloMessageType | undefined {
  if (hasRequest === hasResponse) return undefined;
  return hasRequest ? 'SAMLRequest' : 'SAMLResponse';
}

function safeDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Reads and checks a message; a refusal comes back as a code (the message's own text is never logged). */
async function readChecked<T extends { ok: boolean }>(read: () => Promise<LogoutMessage>, check: (m: LogoutMessage) => Promise<T>): Promise<T | { ok: false; code: string }> {
  let message: LogoutMessage;
  try {
    message = await read();
  } catch (err) {
    if (err instanceof SloMessageError) return { ok: false, code: err.code };
    throw err;
  }
  return check(message);
}

/** 400 and a page; for a LogoutResponse it says the person is signed out here (they are) but should close the browser. */
function refuse(req: Request, res: Response, code: string, kind: 'request' | 'response') {
  logger.info({ code, message: kind, requestId: req.id }, 'SAML logout message refused');
  const key = kind === 'response' ? 'saml.slo.unconfirmed' : 'saml.slo.invalid';
  res.status(400).render('auth/slo-result', { title: res.locals.t(`${key}.title`), key });
}

/**
 * Ends this browser's session (if any): passport's logout regenerates it, which deletes the old one from the store
 * (and this instance's cache); the new one is empty and stored only if the page gives it a CSRF token. The header
 * of a page rendered afterwards shows no one signed in.
 */
async function endLocalSession(req: Request): Promise<void> {
  if (!req.user && !req.session?.samlSignIn) return;
  const sessionId = req.sessionID;
  await new Promise<void>((resolve, reject) => req.logout((err) => (err ? reject(err) : resolve())));
  req.res!.locals.actor = null;
  await forgetSamlSession(sessionId);
}

/**
 * POST /logout for a session signed in through SAML while Single Logout is configured. Mounted AFTER the CSRF
 * check (the sign-out form carries the token, like every form). Our session ends first, so a failure at the IdP
 * never leaves anyone signed in here; then the browser goes (303) to the IdP with our signed LogoutRequest. Other
 * sessions fall through to the OIDC and ordinary sign-outs.
 */
export function samlLogoutRouter(config: Config): Router {
  const router = Router();
  const settings = config.saml;
  const slo = settings?.slo;
  if (!settings || !slo) return router;
  const client = samlLogoutFor(settings, slo);

  router.post('/logout', async (req, res, next) => {
    const signIn = req.session.samlSignIn;
    if (!signIn) return next();
    await endLocalSession(req);
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    res.clearCookie('sst.sid');
    let url = SIGNED_OUT_PATH;
    try {
      url = await client.logoutRequestUrl(signIn);
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.name : typeof err, requestId: req.id }, 'SAML logout request could not be made; signed out here only');
    }
    res.redirect(303, url);
  });
  return router;
}
