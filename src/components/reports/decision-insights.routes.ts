/** /reports/decisions: what people chose at each decision point of a module version (counts only). */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseOrThrow, objectId } from '../../shared/validation';
import { formatLocalDateTime } from '../assignments';
import { SCHOOL_LEADERS } from '../../shared/actor';
import { actorOf, requireRole } from '../auth';
import type { Lang } from '../content';
import { getDistrictContext } from '../settings';
import { createRenderer } from '../training/training.view';
import { getDecisionInsights } from './decision-insights.service';
import { districtOf } from './report-scope';

export const decisionInsightsRouter = Router();

const querySchema = z.object({
  module: z
    .union([z.literal(''), z.string().regex(/^[a-z0-9-]{1,80}$/)])
    .optional()
    .transform((v) => v || undefined),
  version: z
    .union([z.literal(''), z.string().regex(/^[1-9]\d{0,3}$/)])
    .optional()
    .transform((v) => (v ? Number(v) : undefined)),
  school: z
    .union([z.literal(''), objectId])
    .optional()
    .transform((v) => v || undefined),
  region: z
    .union([z.literal(''), objectId])
    .optional()
    .transform((v) => v || undefined),
});

decisionInsightsRouter.get('/reports/decisions', requireRole(...SCHOOL_LEADERS), async (req: Request, res: Response) => {
  // A malformed filter is a page that does not exist.
  const query = parseOrThrow(querySchema, req.query, 404);
  const actor = actorOf(req);
  const lang = res.locals.lang as Lang;
  const [context, district] = await Promise.all([getDistrictContext(actor.districtId), districtOf(actor)]);
  const insights = await getDecisionInsights(actor, query, createRenderer(context.content[lang], lang));
  res.render('reports/decisions', {
    title: res.locals.t('reports.decisions.title'),
    insights,
    computedAt: formatLocalDateTime(insights.computedAt, lang, district.timeZone),
  });
});
