/** /admin/audit: the district's audit log and its tamper check (district admins only). */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseForm, parseOrThrow } from '../../shared/validation';
import { getMailer } from '../../shared/mailer';
import { actorOf, requireRole } from '../auth';
import { District } from '../districts';
import { auditChainHead, verifyAuditChain } from './audit-chain';
import { auditActions, pageAuditEvents } from './audit.service';
import { describeAuditDetails } from './audit-details';
import { checkFingerprint, getAnchorRecipients, MAX_ANCHOR_RECIPIENTS, recentAnchors, setAnchorRecipients, type FingerprintCheck } from './audit-anchor';
import { anchorRecipientsSchema, fingerprintQuerySchema } from './audit.schemas';

export const auditRouter = Router();
auditRouter.use('/admin/audit', requireRole('district_admin'));

const listQuery = z.object({
  action: z
    .union([z.literal(''), z.string().regex(/^[a-z_]{1,40}\.[a-z_]{1,40}$/)])
    .optional()
    .transform((v) => v || undefined),
  page: z
    .string()
    .regex(/^[1-9]\d{0,5}$/)
    .optional()
    .transform((v) => (v ? Number(v) : 1)),
});

async function timeZoneOf(districtId: string): Promise<string> {
  return (await District.findById(districtId, { timeZone: 1 }).lean())?.timeZone ?? 'UTC';
}

auditRouter.get('/admin/audit', async (req, res) => {
  const query = parseOrThrow(listQuery, req.query);
  const actor = actorOf(req);
  const [log, actions, head, timeZone] = await Promise.all([pageAuditEvents(actor, query), auditActions(actor), auditChainHead(actor.districtId), timeZoneOf(actor.districtId)]);
  const pageUrl = (n: number) => {
    const params = new URLSearchParams();
    if (query.action) params.set('action', query.action);
    if (n > 1) params.set('page', String(n));
    const qs = params.toString();
    return `/admin/audit${qs ? `?${qs}` : ''}`;
  };
  const rows = log.rows.map((row) => ({ ...row, description: describeAuditDetails({ action: row.action, details: row.rawDetails }, res.locals.t, res.locals.lang, log.refs) }));
  res.render('audit/list', { title: res.locals.t('audit.title'), log: { ...log, rows }, actions, head, query, pageUrl, timeZone });
});

type FingerprintForms = {
  check?: { values: Record<string, unknown>; errors: Record<string, string>; result?: FingerprintCheck; seq?: number };
  anchor?: { values: Record<string, unknown>; errors: Record<string, string> };
};

/** The tamper check: walks the whole chain, so it runs only when asked for (a large log takes seconds). */
auditRouter.get('/admin/audit/verify', async (req, res) => {
  const actor = actorOf(req);
  const [report, timeZone] = await Promise.all([verifyAuditChain(actor.districtId), timeZoneOf(actor.districtId)]);
  res.setHeader('Cache-Control', 'no-store');
  res.render('audit/verify', { title: res.locals.t('audit.verify.title'), report, timeZone });
});

/** Fingerprints kept outside the database: the check of a kept one (a GET form) and the daily email (a POST form). */
async function renderFingerprints(req: Request, res: Response, status: number, forms: FingerprintForms = {}): Promise<void> {
  const actor = actorOf(req);
  const [head, recipients, anchors] = await Promise.all([auditChainHead(actor.districtId), getAnchorRecipients(actor.districtId), recentAnchors(actor.districtId)]);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).render('audit/fingerprints', {
    title: res.locals.t('audit.fingerprints.title'),
    head,
    check: forms.check ?? { values: {}, errors: {} },
    anchor: forms.anchor ?? { values: { emails: recipients.join('\n') }, errors: {} },
    anchors,
    recipients,
    maxRecipients: MAX_ANCHOR_RECIPIENTS,
    mailMode: getMailer().mode,
    isSaved: req.query.saved === 'anchor',
  });
}

auditRouter.get('/admin/audit/fingerprints', async (req, res) => {
  const asked = typeof req.query.seq === 'string' || typeof req.query.hash === 'string';
  if (!asked) return renderFingerprints(req, res, 200);
  const form = parseForm(fingerprintQuerySchema, req.query);
  if (!form.ok) return renderFingerprints(req, res, 422, { check: { values: form.values, errors: form.errors } });
  const result = await checkFingerprint(actorOf(req).districtId, form.data.seq, form.data.hash);
  return renderFingerprints(req, res, 200, { check: { values: { seq: String(form.data.seq), hash: form.data.hash }, errors: {}, result, seq: form.data.seq } });
});

auditRouter.post('/admin/audit/anchor', async (req, res) => {
  const form = parseForm(anchorRecipientsSchema, req.body);
  if (!form.ok) return renderFingerprints(req, res, 422, { anchor: { values: form.values, errors: form.errors } });
  await setAnchorRecipients(actorOf(req), form.data.emails, String(req.id));
  res.redirect(303, '/admin/audit/fingerprints?saved=anchor#anchor-heading');
});
