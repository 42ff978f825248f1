import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config';
import { translator } from '../../shared/i18n';
import { LTI_BINDING, clearBindingCookie, readBindingCookie, setBindingCookie } from '../../shared/login-binding';
import { sharedRateLimit } from '../../shared/rate-limit';
import { finishLaunch, ltiUrls, startLogin, type LaunchRefusal } from './lti-launch.service';
import { launchFormSchema, loginInitiationSchema } from './lti.schemas';
import { ToolKeyUnavailable, toolJwks } from './lti-tool-key';
import { deepLinkChoices, type DeepLinkRequest } from './lti-deep-linking.service';

const STATUS: Record<LaunchRefusal, number> = {
  unknown_platform: 400,
  invalid: 400,
  expired: 400,
  deployment: 400,
  message: 400,
  unbound: 400,
  unavailable: 503,
  unknown: 403,
  unverified: 403,
  inactive: 403,
  ambiguous: 403,
  linked_elsewhere: 403,
  locked: 403,
};

/** A refusal page in the learner's language when the LMS said it (launch_presentation.locale), else as usual. */
function renderRefusal(res: Response, reason: LaunchRefusal, locale?: string) {
  if (locale) {
    const lang = locale.toLowerCase().startsWith('es') ? 'es' : 'en';
    res.locals.lang = lang;
    res.locals.t = translator(lang);
  }
  res.status(STATUS[reason]).render('lti/refused', { title: res.locals.t('lti.refused.title'), reason });
}

/**
 * Deep Linking: the module list, each "Add to course" a plain form posting its signed response to the LMS (no
 * script: our CSP forbids inline script, so no auto-post). For this page only, the CSP lets forms post to the
 * LMS's return URL and lets the LMS frame the page (its selection dialog is a frame): it signs no one in and
 * shows nothing about anyone. Nobody is signed in to this app by it.
 */
async function renderDeepLinking(res: Response, request: DeepLinkRequest, baseUrl: string) {
  const lang = request.locale?.toLowerCase().startsWith('es') ? 'es' : 'en';
  res.locals.lang = lang;
  res.locals.t = translator(lang);
  let choices;
  try {
    choices = await deepLinkChoices(request, baseUrl, lang);
  } catch (err) {
    if (err instanceof ToolKeyUnavailable) return renderRefusal(res, 'unavailable', request.locale);
    throw err;
  }
  const origin = new URL(request.returnUrl).origin;
  const csp = String(res.getHeader('Content-Security-Policy') ?? '');
  res.setHeader('Content-Security-Policy', csp.replace(/form-action [^;]*/, `form-action 'self' ${origin}`).replace(/frame-ancestors [^;]*/, `frame-ancestors ${origin}`));
  res.removeHeader('X-Frame-Options');
  res.render('lti/deep-link', { title: res.locals.t('lti.deepLink.title'), choices, returnUrl: request.returnUrl });
}

/**
 * What the LMS calls (docs/lti.md): the OIDC login initiation (GET or POST /lti/login) and the launch
 * (POST /lti/launch). Mounted before the CSRF check on purpose: both are cross-site requests from the LMS,
 * which cannot carry our CSRF token. They are protected instead by the one-use state we issue at login (kept
 * in MongoDB), the id_token's signature by the registered platform's key, its one-use nonce, and the binding
 * cookie set at login in the browser the LMS sent (shared/login-binding.ts; the launch must come from it).
 */
export function ltiPlatformRouter(config: Config): Router {
  const router = Router();
  const urls = ltiUrls(config.baseUrl);
  // Failed logins/launches per address (a whole school may launch from one NAT address, so only failures count).
  const limiter = sharedRateLimit({
    name: 'lti',
    secret: config.sessionSecret,
    windowMs: 15 * 60 * 1000,
    limit: 100,
    skipSuccessfulRequests: true,
    handler: (_req, res) => {
      res.status(429).render('lti/refused', { title: res.locals.t('lti.refused.title'), reason: 'too_many' });
    },
  });

  const login = async (req: Request, res: Response) => {
    const parsed = loginInitiationSchema.safeParse(req.method === 'GET' ? req.query : (req.body ?? {}));
    if (!parsed.success) return renderRefusal(res, 'invalid');
    const result = await startLogin(parsed.data, urls, { requestId: String(req.id) });
    if (!result.ok) return renderRefusal(res, result.reason);
    setBindingCookie(res, LTI_BINDING, result.binding, config);
    res.redirect(303, result.url);
  };
  router.get('/lti/login', limiter, login);
  router.post('/lti/login', limiter, login);

  // The tool's public key set (docs/lti.md "The tool's key"): what the LMS checks our client assertions with.
  router.get('/lti/jwks', async (_req, res) => {
    const jwks = await toolJwks();
    res.set('Cache-Control', 'public, max-age=3600').type('application/json').send(JSON.stringify(jwks));
  });

  router.post('/lti/launch', limiter, async (req, res, next) => {
    const parsed = launchFormSchema.safeParse(req.body ?? {});
    if (!parsed.success) return renderRefusal(res, 'invalid');
    const binding = readBindingCookie(req, LTI_BINDING);
    const result = await finishLaunch({ idToken: parsed.data.id_token, state: parsed.data.state, binding }, urls, { requestId: String(req.id) }, { allowPrivateNetwork: config.outboundPrivateNetwork === 'allow' });
    // A refusal for the binding itself leaves the cookie: a stray post must not break a launch in progress here.
    if (binding !== undefined && (result.ok || result.reason !== 'unbound')) clearBindingCookie(res, LTI_BINDING, config);
    if (!result.ok) return renderRefusal(res, result.reason, result.locale);
    if ('deepLink' in result) return renderDeepLinking(res, result.deepLink, config.baseUrl);
    // passport regenerates the session id here (session fixation defence), as every other sign-in does.
    req.login(result.actor, (err) => {
      if (err) return next(err);
      res.redirect(303, result.next);
    });
  });

  return router;
}
