import { Router, type Request, type Response } from 'express';
import { setFlash } from '../../shared/flash';
import { parseForm } from '../../shared/validation';
import { District } from '../districts';
import { formatLocalDateTime } from '../assignments';
import { actorOf, requireRole } from '../auth';
import { createToken, getTokenStatus, revokeToken } from './scim-tokens.service';
import { principalSetting, setPrincipalsAllowed } from './scim-settings.service';
import { principalsSettingSchema } from './scim.schemas';
import { allowMoreDeactivations, DEACTIVATION_LIMIT_MIN, DEACTIVATION_LIMIT_SHARE, deactivationStatus } from './scim-deactivations';

/** The district admin's page for provisioning tokens: /admin/scim (docs/scim.md "Setting up"). */
export const scimAdminRouter = Router();
scimAdminRouter.use('/admin/scim', requireRole('district_admin'));

async function renderStatus(req: Request, res: Response, status: number, errors: Record<string, string> = {}, values: Record<string, unknown> = {}): Promise<void> {
  const actor = actorOf(req);
  const [token, district, deactivations, principals] = await Promise.all([
    getTokenStatus(actor),
    District.findById(actor.districtId).select('timeZone').lean(),
    deactivationStatus(actor.districtId),
    principalSetting(actor.districtId),
  ]);
  const when = (d: Date | null) => formatLocalDateTime(d, res.locals.lang, district?.timeZone ?? 'UTC');
  res.status(status).render('scim/index', {
    title: res.locals.t('scim.title'),
    tenantUrl: `${res.locals.baseUrl}/scim/v2`,
    token: token.exists ? { createdAt: when(token.createdAt), createdByName: token.createdByName, lastUsedAt: token.lastUsedAt ? when(token.lastUsedAt) : null } : null,
    errors,
    values,
    principals: { allowed: principals.principalsAllowed, ignored: principals.ignored, lastIgnoredAt: principals.lastIgnoredAt ? when(principals.lastIgnoredAt) : null },
    deactivations: {
      ...deactivations,
      sharePercent: Math.round(DEACTIVATION_LIMIT_SHARE * 100),
      minimum: DEACTIVATION_LIMIT_MIN,
      lastHeldAt: deactivations.lastHeldAt ? when(deactivations.lastHeldAt) : null,
      allowedUntil: deactivations.allowedUntil ? when(deactivations.allowedUntil) : null,
    },
  });
}

scimAdminRouter.get('/admin/scim', (req, res) => renderStatus(req, res, 200));

// Creating replaces the current token (Entra then fails until the new one is pasted): that needs a tick.
scimAdminRouter.post('/admin/scim/token', async (req, res) => {
  const actor = actorOf(req);
  const current = await getTokenStatus(actor);
  if (current.exists && req.body?.replace !== 'yes') return renderStatus(req, res, 422, { replace: 'scim.errors.confirmReplace' });
  const { token, replaced } = await createToken(actor, { requestId: String(req.id) });
  // Shown once, on this answer only: never stored, redirected or cached.
  res.setHeader('Cache-Control', 'no-store');
  res.render('scim/created', { title: res.locals.t('scim.created.title'), token, replaced, tenantUrl: `${res.locals.baseUrl}/scim/v2` });
});

scimAdminRouter.get('/admin/scim/revoke', async (req, res) => {
  const current = await getTokenStatus(actorOf(req));
  if (!current.exists) return res.redirect(303, '/admin/scim');
  res.render('scim/revoke', { title: res.locals.t('scim.revoke.title') });
});

scimAdminRouter.post('/admin/scim/revoke', async (req, res) => {
  const revoked = await revokeToken(actorOf(req), { requestId: String(req.id) });
  setFlash(req, revoked ? 'scim.flash.revoked' : 'scim.flash.noToken');
  res.redirect(303, '/admin/scim');
});

// The deactivation safety limit reached (expected leavers, e.g. at the end of the school year): allow as many again for 24 hours.
scimAdminRouter.post('/admin/scim/deactivations', async (req, res) => {
  const allowed = await allowMoreDeactivations(actorOf(req), { requestId: String(req.id) });
  setFlash(req, allowed === null ? 'scim.flash.noToken' : 'scim.flash.deactivationsAllowed');
  res.redirect(303, '/admin/scim#deactivations-heading');
});

// "Provisioning may make people principals" (off by default; audited when it changes).
scimAdminRouter.post('/admin/scim/principals', async (req, res) => {
  const form = parseForm(principalsSettingSchema, req.body);
  if (!form.ok) return renderStatus(req, res, 422, form.errors, form.values);
  const changed = await setPrincipalsAllowed(actorOf(req), form.data.principals === 'on', { requestId: String(req.id) });
  setFlash(req, !changed ? 'scim.flash.principalsUnchanged' : form.data.principals === 'on' ? 'scim.flash.principalsOn' : 'scim.flash.principalsOff');
  res.redirect(303, '/admin/scim#principals-heading');
});
