import { Router, type Response } from 'express';
import type { Config } from '../../config';
import { getMailer } from '../../shared/mailer';
import { sharedRateLimit } from '../../shared/rate-limit';
import { setFlash } from '../../shared/flash';
import { parseForm, type FieldErrors } from '../../shared/validation';
import { PASSWORD_MIN_LENGTH } from '../users/users.schemas';
import { choosePasswordSchema, resetRequestSchema, TOKEN_PATTERN } from './password-reset.schemas';
import { completePasswordReset, findUsableLink, requestPasswordReset, type ResetPolicy } from './password-reset.service';

/** PASSWORD_SIGN_IN=off (set by the SSO router's locals): only district admins get or use links. */
const policyOf = (res: Response): ResetPolicy => ({ adminsOnly: res.locals.sso?.passwordSignIn === false });

/** The link pages carry the token in their URL: no Referer to anyone, no copy in a cache. */
function privatePage(res: Response): void {
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
}

const renderRequest = (res: Response, status: number, errors: FieldErrors = {}, values: Record<string, unknown> = {}) =>
  res.status(status).render('password-reset/request', { title: res.locals.t('passwordReset.title'), mailOff: getMailer().mode === 'disabled', errors, values });

const renderSent = (res: Response) => res.status(200).render('password-reset/sent', { title: res.locals.t('passwordReset.sentTitle') });

const renderInvalid = (res: Response) => res.status(410).render('password-reset/invalid', { title: res.locals.t('passwordReset.invalidTitle') });

/**
 * GET/POST /login/reset (ask for a link) and GET/POST /login/reset/:token (choose a password). Public.
 * A factory: its rate limits count in MongoDB (shared/rate-limit.ts), one budget across app instances.
 */
export function passwordResetRouter(config: Pick<Config, 'sessionSecret'>): Router {
  const router = Router();

  // Per network address, like sign-in: generous, a whole school shares one address at a staff meeting.
  const perNetwork = sharedRateLimit({
    name: 'reset-network',
    secret: config.sessionSecret,
    windowMs: 15 * 60 * 1000,
    limit: 100,
    handler: (req, res) => renderRequest(res, 429, { _form: 'passwordReset.errors.tooManyRequests' }, { email: typeof req.body?.email === 'string' ? req.body.email : '' }),
  });
  // Per email address: beyond the limit the answer is the usual page and nothing is done (no database work,
  // no email) — the same answer whether or not an account exists. Each account also gets at most
  // MAX_LINKS_PER_HOUR links an hour (the service). The email is stored only as a keyed hash.
  const perAddress = sharedRateLimit({
    name: 'reset-address',
    secret: config.sessionSecret,
    windowMs: 15 * 60 * 1000,
    limit: 5,
    standardHeaders: false,
    keyGenerator: (req) => `email:${typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase().slice(0, 254) : ''}`,
    handler: (_req, res) => renderSent(res),
  });

  router.get('/login/reset', (_req, res) => {
    renderRequest(res, 200);
  });

  router.post('/login/reset', perNetwork, async (req, res, next) => {
    const form = parseForm(resetRequestSchema, req.body);
    if (!form.ok) return renderRequest(res, 422, form.errors, form.values);
    if (getMailer().mode === 'disabled') return renderRequest(res, 200);
    perAddress(req, res, async () => {
      try {
        await requestPasswordReset(form.data.email, policyOf(res), getMailer());
        renderSent(res);
      } catch (err) {
        next(err);
      }
    });
  });

  router.get('/login/reset/:token', async (req, res) => {
    privatePage(res);
    const token = String(req.params.token);
    if (!TOKEN_PATTERN.test(token) || !(await findUsableLink(token, policyOf(res)))) return renderInvalid(res);
    res.render('password-reset/choose', { title: res.locals.t('passwordReset.chooseTitle'), token, passwordMinLength: PASSWORD_MIN_LENGTH, errors: {} });
  });

  router.post('/login/reset/:token', perNetwork, async (req, res) => {
    privatePage(res);
    const token = String(req.params.token);
    if (!TOKEN_PATTERN.test(token) || !(await findUsableLink(token, policyOf(res)))) return renderInvalid(res);
    const form = parseForm(choosePasswordSchema, req.body);
    // Never echo passwords back: only the errors.
    if (!form.ok) return res.status(422).render('password-reset/choose', { title: res.locals.t('passwordReset.chooseTitle'), token, passwordMinLength: PASSWORD_MIN_LENGTH, errors: form.errors });
    const outcome = await completePasswordReset(token, form.data.newPassword, policyOf(res), { requestId: String(req.id) });
    if (!outcome.ok) return renderInvalid(res);
    setFlash(req, 'passwordReset.flash.passwordSet');
    res.redirect(303, '/login');
  });

  return router;
}

/** For the request log: the path of a link page without its token. */
export function redactResetPath<T extends { url?: string }>(req: T): T {
  return req.url?.startsWith('/login/reset/') ? { ...req, url: '/login/reset/[redacted]' } : req;
}
