import { Router, type Request, type Response } from 'express';
import { setFlash } from '../../shared/flash';
import { parseForm } from '../../shared/validation';
import { District } from '../districts';
import { formatLocalDateTime } from '../assignments';
import { actorOf, requireRole } from '../auth';
import { ACTOR_IDS } from './xapi-feed.model';
import { xapiRuntime } from './xapi-runtime';
import { xapiIriBaseFormSchema, xapiSettingsFormSchema } from './xapi.schemas';
import { changeIriBase, getXapiView, isXapiAvailable, requestBackfill, resumeXapi, saveXapiSettings, sendTestStatement } from './xapi.service';

/** The district admin's page for the learning record store: /admin/xapi (docs/xapi.md). */
export const xapiAdminRouter = Router();
xapiAdminRouter.use('/admin/xapi', requireRole('district_admin'));

/** `iriValues`: what was entered in the IRI base form (its own form; the settings form keeps the stored values). */
async function renderPage(req: Request, res: Response, status: number, values?: Record<string, unknown>, errors: Record<string, string> = {}, iriValues?: Record<string, unknown>): Promise<void> {
  const actor = actorOf(req);
  const [view, district] = await Promise.all([getXapiView(actor), District.findById(actor.districtId).select('timeZone').lean()]);
  const when = (d: Date | null) => (d ? formatLocalDateTime(d, res.locals.lang, district?.timeZone ?? 'UTC') : null);
  const settings = view.settings;
  // The secret is never put back into the page, entered or stored.
  const shown = values ?? (settings ? { endpoint: settings.endpoint, authKey: settings.authKey, actorId: settings.actorId, enabled: settings.enabled ? 'on' : '' } : { actorId: 'internal_id' });
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).render('xapi/index', {
    title: res.locals.t('xapi.title'),
    view,
    dates: { sendFrom: when(view.sendFrom), lastSuccessAt: when(view.lastSuccessAt), nextAttemptAt: when(view.nextAttemptAt), lastError: when(view.lastError?.at ?? null), lastTest: when(view.lastTest?.at ?? null) },
    values: { ...shown, secret: undefined },
    iriValues: iriValues ?? { iriBase: view.iriBase },
    errors,
    actorIds: ACTOR_IDS,
    requireHttps: xapiRuntime().requireHttps,
  });
}

xapiAdminRouter.get('/admin/xapi', (req, res) => renderPage(req, res, 200));

xapiAdminRouter.post('/admin/xapi', async (req, res) => {
  if (!isXapiAvailable()) return renderPage(req, res, 409);
  const form = parseForm(xapiSettingsFormSchema(xapiRuntime().requireHttps), req.body);
  if (!form.ok) return renderPage(req, res, 422, form.values, form.errors);
  const saved = await saveXapiSettings(actorOf(req), form.data, String(req.id));
  if (!saved.ok) return renderPage(req, res, 422, { endpoint: form.data.endpoint, authKey: form.data.authKey, actorId: form.data.actorId, enabled: form.data.enabled ? 'on' : '' }, saved.errors);
  setFlash(req, 'xapi.flash.saved');
  res.redirect(303, '/admin/xapi');
});

// The start of the IRIs (docs/xapi.md, "IRIs"): changing it splits each learner's history in the LRS, so it is confirmed.
xapiAdminRouter.post('/admin/xapi/iri-base', async (req, res) => {
  if (!isXapiAvailable()) return renderPage(req, res, 409);
  const form = parseForm(xapiIriBaseFormSchema(xapiRuntime().requireHttps), req.body);
  if (!form.ok) return renderPage(req, res, 422, undefined, form.errors, form.values);
  const outcome = await changeIriBase(actorOf(req), form.data, String(req.id));
  if (!outcome.ok) return renderPage(req, res, 422, undefined, outcome.errors, { iriBase: String(req.body.iriBase), confirmIriBase: form.data.confirmIriBase ? 'on' : '' });
  setFlash(req, outcome.isChanged ? 'xapi.flash.iriBaseChanged' : 'xapi.flash.iriBaseUnchanged');
  res.redirect(303, '/admin/xapi#iri-heading');
});

xapiAdminRouter.post('/admin/xapi/test', async (req, res) => {
  const outcome = await sendTestStatement(actorOf(req), String(req.id));
  if (outcome === 'no_settings') return renderPage(req, res, 422, undefined, { _form: 'xapi.errors.saveFirst' });
  setFlash(req, outcome === 'sent' ? 'xapi.flash.testSent' : 'xapi.flash.testFailed');
  res.redirect(303, '/admin/xapi#test-heading');
});

xapiAdminRouter.post('/admin/xapi/resume', async (req, res) => {
  const resumed = await resumeXapi(actorOf(req), String(req.id));
  setFlash(req, resumed ? 'xapi.flash.resumed' : 'xapi.flash.notStopped');
  res.redirect(303, '/admin/xapi');
});

// Also send what happened before sending was turned on (docs/xapi.md, "Backfill").
xapiAdminRouter.post('/admin/xapi/backfill', async (req, res) => {
  const requested = await requestBackfill(actorOf(req), String(req.id));
  setFlash(req, requested ? 'xapi.flash.backfill' : 'xapi.flash.backfillNotPossible');
  res.redirect(303, '/admin/xapi');
});
