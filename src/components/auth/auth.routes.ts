import { Router } from 'express';
import passport from 'passport';
import type { Config } from '../../config';
import { logger } from '../../shared/logger';
import { sharedRateLimit } from '../../shared/rate-limit';
import { parseForm } from '../../shared/validation';
import { isLanguage } from '../../shared/i18n';
import { setPreferredLanguage } from './auth.service';
import type { SignInFailure } from './passport';
import { signInSchema, safeRedirectPath } from './auth.schemas';
import { LOCKOUT_MINUTES } from './auth.service';

/** Where sign-out lands: the sign-in page saying so (an identity provider returns `state=signed_out` there). */
export const SIGNED_OUT_PATH = '/login?signed_out=1';
export const SIGNED_OUT_STATE = 'signed_out';

/** GET/POST /login, POST /logout. A factory: the sign-in limit's counters are in MongoDB (shared/rate-limit.ts). */
export function authRouter(config: Pick<Config, 'sessionSecret'>): Router {
  const router = Router();

  // Per-IP limit on failed sign-in attempts; the per-account lockout lives in the auth service.
  // Generous because a whole school signs in from one address (NAT) during a staff meeting; successful
  // sign-ins do not count. Counted in MongoDB: every app instance shares the one budget.
  const signInLimiter = sharedRateLimit({
    name: 'sign-in',
    secret: config.sessionSecret,
    windowMs: 15 * 60 * 1000,
    limit: 100,
    skipSuccessfulRequests: true,
    handler: (req, res) => {
      res.status(429).render('auth/login', {
        title: res.locals.t('auth.title'),
        values: { email: typeof req.body?.email === 'string' ? req.body.email : '' },
        errors: { _form: 'auth.errors.tooManyAttempts' },
        next: '',
      });
    },
  });

  router.get('/login', (req, res) => {
    if (req.user) return res.redirect(303, safeRedirectPath(req.query.next));
    // `partial`: SAML Single Logout came back saying the IdP could not end every session (components/sso/saml-slo.routes.ts).
    const signedOutPartial = req.query.signed_out === 'partial';
    const signedOut = req.query.signed_out === '1' || signedOutPartial || req.query.state === SIGNED_OUT_STATE;
    res.render('auth/login', { title: res.locals.t('auth.title'), signedOut, signedOutPartial, next: safeRedirectPath(req.query.next) === '/' ? '' : safeRedirectPath(req.query.next) });
  });

  router.post('/login', signInLimiter, (req, res, next) => {
    const form = parseForm(signInSchema, req.body);
    const nextPath = safeRedirectPath(req.body?.next);
    const render = (status: number, errors: Record<string, string>, values: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      res.status(status).render('auth/login', { title: res.locals.t('auth.title'), errors, values, next: nextPath === '/' ? '' : nextPath, ...extra });
    if (!form.ok) return render(422, form.errors, form.values);
    passport.authenticate('local', (err: unknown, actor: Express.User | false, failure?: SignInFailure) => {
      if (err) return next(err);
      if (!actor) {
        const reason = failure?.reason ?? 'invalid';
        const key = reason === 'locked' ? 'auth.errors.locked' : reason === 'inactive' ? 'auth.errors.inactive' : 'auth.errors.invalid';
        return render(reason === 'locked' ? 429 : 401, { _form: key }, { email: form.data.email }, { lockoutMinutes: LOCKOUT_MINUTES });
      }
      // PASSWORD_SIGN_IN=off (single sign-on for everyone): only district admins keep password sign-in (break-glass).
      if (res.locals.sso?.passwordSignIn === false && actor.role !== 'district_admin') {
        return render(403, { _form: 'sso.passwordOff' }, { email: form.data.email });
      }
      const chosenLanguage = req.session.lang;
      // passport regenerates the session id here (session fixation defence).
      req.login(actor, (loginErr) => {
        if (loginErr) return next(loginErr);
        if (isLanguage(chosenLanguage)) {
          req.session.lang = chosenLanguage;
          if (chosenLanguage !== actor.language) {
            setPreferredLanguage(actor, chosenLanguage).catch((e: unknown) => logger.warn({ err: e }, 'could not save language preference'));
          }
        }
        res.redirect(303, nextPath);
      });
    })(req, res, next);
  });

  router.post('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => {
        res.clearCookie('sst.sid');
        res.redirect(303, SIGNED_OUT_PATH);
      });
    });
  });

  return router;
}
