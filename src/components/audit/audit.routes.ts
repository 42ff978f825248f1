/** /admin/audit: the district's audit log and its tamper check (district admins only). */
import { Router } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/validation';
import { actorOf, requireRole } from '../auth';
import { District } from '../districts';
import { auditChainHead, verifyAuditChain } from './audit-chain';
import { auditActions, pageAuditEvents } from './audit.service';

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
  res.render('audit/list', { title: res.locals.t('audit.title'), log, actions, head, query, pageUrl, timeZone });
});

auditRouter.get('/admin/audit/verify', async (req, res) => {
  const actor = actorOf(req);
  const [report, timeZone] = await Promise.all([verifyAuditChain(actor.districtId), timeZoneOf(actor.districtId)]);
  res.setHeader('Cache-Control', 'no-store');
  res.render('audit/verify', { title: res.locals.t('audit.verify.title'), report, timeZone });
});
