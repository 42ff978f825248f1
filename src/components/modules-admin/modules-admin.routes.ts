import { Router, type Request, type Response } from 'express';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { localDateOf } from '../assignments';
import { actorOf, requireRole } from '../auth';
import type { Lang, LoadedModuleVersion } from '../content';
import { getCounselReview, recordCounselReview, reviewFormSchema, reviewParams, withdrawCounselReview } from '../counsel-reviews';
import { notFound } from '../../shared/errors';
import { getDistrictContext } from '../settings';
import { getCatalog } from '../training';
import { createRenderer, formatIsoDate, type Renderer } from '../training/training.view';
import { moduleSlugParams } from './modules-admin.schemas';
import { getModuleDetail, listModules } from './modules-admin.service';
import { moduleDetail, moduleRow } from './modules-admin.view';

export const modulesAdminRouter = Router();
modulesAdminRouter.use('/admin/modules', requireRole('district_admin'));

/** The player's renderer with this district's settings in the page's language: the preview reads as the district's learners see it. */
async function rendererFor(req: Request, res: Response): Promise<Renderer> {
  const lang = res.locals.lang as Lang;
  const district = await getDistrictContext(actorOf(req).districtId);
  return createRenderer(district.content[lang], lang);
}

modulesAdminRouter.get('/admin/modules', async (req, res) => {
  const [modules, r] = await Promise.all([listModules(actorOf(req)), rendererFor(req, res)]);
  res.render('modules/list', { title: res.locals.t('modules.list.title'), rows: modules.map((module) => moduleRow(module, r)) });
});

modulesAdminRouter.get('/admin/modules/:slug', async (req, res) => {
  const { slug } = parseOrThrow(moduleSlugParams, req.params, 404);
  const [detail, r] = await Promise.all([getModuleDetail(actorOf(req), slug), rendererFor(req, res)]);
  const view = moduleDetail(detail, r);
  res.render('modules/show', { title: view.title, module: view });
});

/** The module version named in the path, from the catalog (published versions only); 404 otherwise. */
function versionOf(req: Request): LoadedModuleVersion {
  const { slug, version } = parseOrThrow(reviewParams, req.params, 404);
  const module = getCatalog()
    .listVersions(slug)
    .find((m) => m.version === version);
  if (!module) throw notFound();
  return module;
}

const reviewTarget = (module: LoadedModuleVersion) => ({ slug: module.slug, version: module.version, currentAsOf: module.content.currentAsOf });
const reviewPath = (module: LoadedModuleVersion) => `/admin/modules/${module.slug}/versions/${module.version}/review`;

/** Counsel's review of one version: record it (or correct it), or withdraw it. */
async function renderReview(req: Request, res: Response, status: number, errors: FieldErrors = {}, entered?: Record<string, string>) {
  const module = versionOf(req);
  const actor = actorOf(req);
  const [review, r, district] = await Promise.all([getCounselReview(actor.districtId, module.slug, module.version), rendererFor(req, res), getDistrictContext(actor.districtId)]);
  const title = r.plain(module.content.title);
  res.status(status).render('modules/review', {
    title: `${res.locals.t('counselReviews.title', { version: module.version })} · ${title}`,
    moduleTitle: title,
    slug: module.slug,
    version: module.version,
    action: reviewPath(module),
    currentAsOf: formatIsoDate(module.content.currentAsOf, r.lang),
    today: localDateOf(new Date(), district.timeZone),
    review: review ? { ...review, shownOn: formatIsoDate(review.reviewedOn, r.lang) } : undefined,
    errors,
    values: entered ?? (review ? { reviewedOn: review.reviewedOn, reviewer: review.reviewer } : {}),
  });
}

modulesAdminRouter.get('/admin/modules/:slug/versions/:version/review', async (req, res) => {
  await renderReview(req, res, 200);
});

modulesAdminRouter.post('/admin/modules/:slug/versions/:version/review', async (req, res) => {
  const module = versionOf(req);
  const actor = actorOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const entered = { reviewedOn: typeof body.reviewedOn === 'string' ? body.reviewedOn : '', reviewer: typeof body.reviewer === 'string' ? body.reviewer : '' };
  const form = parseForm(reviewFormSchema, req.body);
  if (!form.ok) return renderReview(req, res, 422, form.errors, entered);
  const today = localDateOf(new Date(), (await getDistrictContext(actor.districtId)).timeZone);
  const result = await recordCounselReview(actor, reviewTarget(module), form.data, today, { requestId: String(req.id) });
  if (!result.ok) return renderReview(req, res, 422, result.errors, entered);
  setFlash(req, 'counselReviews.flash.recorded');
  res.redirect(303, `/admin/modules/${module.slug}#v${module.version}-review`);
});

modulesAdminRouter.post('/admin/modules/:slug/versions/:version/review/withdraw', async (req, res) => {
  const module = versionOf(req);
  const withdrawn = await withdrawCounselReview(actorOf(req), reviewTarget(module), { requestId: String(req.id) });
  if (withdrawn) setFlash(req, 'counselReviews.flash.withdrawn');
  res.redirect(303, `/admin/modules/${module.slug}#v${module.version}-review`);
});
