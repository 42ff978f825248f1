import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { contactFallbacks, contactFields, contactFormValues, contactsMissingSpanish, getDistrictContext } from '../settings';
import { idParams, regionFormSchema, toRegionInput } from './regions.schemas';
import { createRegion, getRegion, listRegions, updateRegion } from './regions.service';

export const regionsRouter = Router();
regionsRouter.use('/admin/regions', requireRole('district_admin'));

/** The values as entered (strings only), for a 422 re-render. */
function entered(body: unknown): Record<string, string> {
  const values: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries((body ?? {}) as Record<string, unknown>)) if (key !== '_csrf' && typeof value === 'string') values[key] = value;
  return values;
}

async function renderForm(req: Request, res: Response, view: 'new' | 'edit', status: number, errors: FieldErrors, values: Record<string, string>, extra: Record<string, unknown> = {}) {
  res.status(status).render(`regions/${view}`, {
    title: res.locals.t(`regions.${view}.title`, { name: (extra.region as { name?: string } | undefined)?.name ?? '' }),
    errors,
    values,
    contacts: contactFields(),
    missingSpanish: contactsMissingSpanish(values),
    // What a region's contact left empty falls back to: the district's, else the neutral wording.
    fallbacks: contactFallbacks(await getDistrictContext(actorOf(req).districtId), null, res.locals.lang as 'en' | 'es'),
    ...extra,
  });
}

regionsRouter.get('/admin/regions', async (req, res) => {
  const regions = await listRegions(actorOf(req));
  res.render('regions/list', { title: res.locals.t('regions.list.title'), regions: regions.map((r) => ({ ...r, contactCount: Object.keys(r.contacts).length })) });
});

regionsRouter.get('/admin/regions/new', async (req, res) => {
  await renderForm(req, res, 'new', 200, {}, {});
});

regionsRouter.post('/admin/regions', async (req, res) => {
  const form = parseForm(regionFormSchema, req.body);
  if (!form.ok) return renderForm(req, res, 'new', 422, form.errors, entered(req.body));
  const result = await createRegion(actorOf(req), toRegionInput(form.data), { requestId: String(req.id) });
  if (!result.ok) return renderForm(req, res, 'new', 422, result.errors, entered(req.body));
  setFlash(req, 'regions.flash.created');
  res.redirect(303, `/admin/regions/${result.id}`);
});

async function renderEdit(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, string>) {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const region = await getRegion(actorOf(req), id);
  await renderForm(req, res, 'edit', status, errors, values ?? { code: region.code, name: region.name, ...contactFormValues(region.contacts) }, { region });
}

regionsRouter.get('/admin/regions/:id', async (req, res) => {
  await renderEdit(req, res, 200);
});

regionsRouter.post('/admin/regions/:id', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  await getRegion(actorOf(req), id); // another district's region: 404 before any form check
  const form = parseForm(regionFormSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, form.errors, entered(req.body));
  const result = await updateRegion(actorOf(req), id, toRegionInput(form.data), { requestId: String(req.id) });
  if (!result.ok) return renderEdit(req, res, 422, result.errors, entered(req.body));
  setFlash(req, 'regions.flash.saved');
  res.redirect(303, `/admin/regions/${id}`);
});
