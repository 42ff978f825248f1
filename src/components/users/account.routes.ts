import { Router, type Request, type Response } from 'express';
import { actorOf, loadSessionActor, setPreferredLanguage } from '../auth';
import { setFlash } from '../../shared/flash';
import { parseForm, type FieldErrors } from '../../shared/validation';
import { ownSchoolNames } from '../schools';
import { changeOwnPassword, getOwnAccount } from './users.service';
import { changePasswordSchema, languageSchema } from './account.schemas';
import { LANGUAGES } from './user.model';
import { PASSWORD_MIN_LENGTH } from './users.schemas';

/** Every signed-in person: who they are, their language, their password. */
export const accountRouter = Router();

async function renderAccount(req: Request, res: Response, status: number, errors: FieldErrors = {}) {
  const actor = actorOf(req);
  const account = await getOwnAccount(actor);
  const schoolNames = await ownSchoolNames(actor);
  res.status(status).render('account/show', {
    title: res.locals.t('account.title'),
    account,
    accountSchoolNames: schoolNames,
    languages: LANGUAGES,
    passwordMinLength: PASSWORD_MIN_LENGTH,
    errors,
  });
}

accountRouter.get('/account', async (req, res) => {
  await renderAccount(req, res, 200);
});

accountRouter.post('/account/language', async (req, res) => {
  const form = parseForm(languageSchema, req.body);
  if (!form.ok) return renderAccount(req, res, 422, form.errors);
  await setPreferredLanguage(actorOf(req), form.data.language);
  req.session.lang = form.data.language;
  setFlash(req, 'account.flash.languageSaved');
  res.redirect(303, '/account');
});

accountRouter.post('/account/password', async (req, res) => {
  const form = parseForm(changePasswordSchema, req.body);
  if (!form.ok) return renderAccount(req, res, 422, form.errors);
  const result = await changeOwnPassword(actorOf(req), form.data.currentPassword, form.data.newPassword, { requestId: String(req.id) });
  if (!result.ok) return renderAccount(req, res, 422, result.errors);
  // Every other session of this person has ended; this one continues under a new id with the new epoch.
  const actor = await loadSessionActor(actorOf(req).userId);
  if (!actor) return res.redirect(303, '/login');
  const { lang, ssoSignIn } = req.session;
  await new Promise<void>((resolve, reject) => req.login(actor, (err) => (err ? reject(err as Error) : resolve())));
  if (lang) req.session.lang = lang;
  // Signed in through SSO: sign-out still ends the provider's session too (docs/sso.md).
  if (ssoSignIn) req.session.ssoSignIn = ssoSignIn;
  setFlash(req, 'account.flash.passwordChanged');
  res.redirect(303, '/account');
});
