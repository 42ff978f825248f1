import { Router, type Request, type Response } from 'express';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { actorOf, requireRole } from '../auth';
import { TrainingModule } from '../training';
import { agsStatusByPlatform } from './lti-ags.service';
import { ltiUrls } from './lti-launch.service';
import { ltiRuntime } from './lti-runtime';
import { toolKeyStatus } from './lti-tool-key';
import { createPlatform, getPlatform, resumeScores, listPlatforms, removePlatform, updatePlatform, type PlatformView } from './lti-platforms.service';
import { enteredValues, idParams, platformFormSchema } from './lti.schemas';

/** The district admin's LMS registrations: /admin/lti (docs/lti.md "Setting up"). */
export const ltiAdminRouter = Router();
ltiAdminRouter.use('/admin/lti', requireRole('district_admin'));

/** The published modules' slugs, for the target link URIs to paste into the LMS. */
async function moduleSlugs(): Promise<string[]> {
  const slugs = (await TrainingModule.distinct('slug')) as string[];
  return slugs.sort();
}

function valuesOf(p: PlatformView): Record<string, string> {
  return { name: p.name, issuer: p.issuer, clientId: p.clientId, authLoginUrl: p.authLoginUrl, jwksUrl: p.jwksUrl, tokenUrl: p.tokenUrl ?? '', deploymentIds: p.deploymentIds.join('\n'), linkByEmail: p.linkByEmail ? 'yes' : '', allowUnbound: p.requireBrowserBinding ? '' : 'yes' };
}

ltiAdminRouter.get('/admin/lti', async (req, res) => {
  const actor = actorOf(req);
  const hasToolKey = Boolean(ltiRuntime().key);
  const [platforms, slugs, ags, toolKeys] = await Promise.all([listPlatforms(actor), moduleSlugs(), agsStatusByPlatform(actor), hasToolKey ? toolKeyStatus() : undefined]);
  res.render('lti/index', { title: res.locals.t('lti.title'), platforms, urls: ltiUrls(res.locals.baseUrl as string), slugs, ags, hasToolKey, toolKeys });
});

function renderNew(res: Response, status: number, errors: FieldErrors, values: Record<string, unknown>) {
  res.status(status).render('lti/new', { title: res.locals.t('lti.new.title'), errors, values });
}

ltiAdminRouter.get('/admin/lti/new', (_req, res) => renderNew(res, 200, {}, { linkByEmail: 'yes' }));

ltiAdminRouter.post('/admin/lti', async (req, res) => {
  const form = parseForm(platformFormSchema, req.body);
  if (!form.ok) return renderNew(res, 422, form.errors, enteredValues(req.body));
  const result = await createPlatform(actorOf(req), form.data, { requestId: String(req.id) });
  if (!result.ok) return renderNew(res, 422, result.errors, enteredValues(req.body));
  setFlash(req, 'lti.flash.created');
  res.redirect(303, '/admin/lti');
});

async function renderEdit(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>) {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const platform = await getPlatform(actorOf(req), id);
  res.status(status).render('lti/edit', { title: res.locals.t('lti.edit.title', { name: platform.name }), platform, errors, values: values ?? valuesOf(platform) });
}

ltiAdminRouter.get('/admin/lti/:id', (req, res) => renderEdit(req, res, 200));

ltiAdminRouter.post('/admin/lti/:id', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const form = parseForm(platformFormSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, form.errors, enteredValues(req.body));
  const result = await updatePlatform(actorOf(req), id, form.data, { requestId: String(req.id) });
  if (!result.ok) return renderEdit(req, res, 422, result.errors, enteredValues(req.body));
  setFlash(req, 'lti.flash.saved');
  res.redirect(303, '/admin/lti');
});

// Grade passback stopped (the LMS refused a score): try the registration's stopped scores again now.
ltiAdminRouter.post('/admin/lti/:id/resume', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  await resumeScores(actorOf(req), id, { requestId: String(req.id) });
  setFlash(req, 'lti.flash.resumed');
  res.redirect(303, '/admin/lti');
});

ltiAdminRouter.post('/admin/lti/:id/remove', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  await removePlatform(actorOf(req), id, { requestId: String(req.id) });
  setFlash(req, 'lti.flash.removed');
  res.redirect(303, '/admin/lti');
});
