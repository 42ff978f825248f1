/** Exports prepared in the background: ask (POST), follow progress, download until the file expires. */
import { Router } from 'express';
import { z } from 'zod';
import { objectId, parseOrThrow } from '../../shared/validation';
import { AppError } from '../../shared/errors';
import { formatCount, formatLocalDateTime } from '../assignments';
import { SCHOOL_LEADERS } from '../../shared/actor';
import { actorOf, requireRole } from '../auth';
import { BACKGROUND_FORMATS } from './export-job.model';
import { getOwnExport, listOwnExports, openOwnExport, requestBackgroundExport } from './export-jobs';
import { districtOf } from './report-scope';
import { exportQuerySchema } from './reports.schemas';

export const exportJobsRouter = Router();
const leaders = requireRole(...SCHOOL_LEADERS);

const requestSchema = exportQuerySchema.extend({ format: z.enum(BACKGROUND_FORMATS) });
const idParams = z.object({ id: objectId });
const helpers = { formatDateTime: formatLocalDateTime, formatCount, isUnderway: (job: { state: string }) => job.state === 'queued' || job.state === 'running' };

exportJobsRouter.post('/reports/exports', leaders, async (req, res) => {
  const { format, ...query } = parseOrThrow(requestSchema, req.body, 422);
  const actor = actorOf(req);
  try {
    const id = await requestBackgroundExport(actor, query, format, res.locals.lang === 'es' ? 'es' : 'en');
    res.redirect(303, `/reports/exports/${id}`);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'too_many_exports') throw err;
    const [exports, district] = await Promise.all([listOwnExports(actor), districtOf(actor)]);
    res.status(429).render('reports/exports', { title: res.locals.t('reports.background.listTitle'), exports, timeZone: district.timeZone, notice: res.locals.t('reports.background.tooMany'), ...helpers });
  }
});

exportJobsRouter.get('/reports/exports', leaders, async (req, res) => {
  const actor = actorOf(req);
  const [exports, district] = await Promise.all([listOwnExports(actor), districtOf(actor)]);
  res.render('reports/exports', { title: res.locals.t('reports.background.listTitle'), exports, timeZone: district.timeZone, notice: undefined, ...helpers });
});

exportJobsRouter.get('/reports/exports/:id', leaders, async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const actor = actorOf(req);
  const [job, district] = await Promise.all([getOwnExport(actor, id), districtOf(actor)]);
  res.setHeader('Cache-Control', 'no-store');
  res.render('reports/export', { title: res.locals.t('reports.background.title'), job, timeZone: district.timeZone, ...helpers });
});

exportJobsRouter.get('/reports/exports/:id/download', leaders, async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const file = await openOwnExport(actorOf(req), id, String(req.id));
  res.setHeader('Content-Type', file.contentType);
  res.setHeader('Content-Disposition', `attachment; filename="${file.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  if (file.bytes) res.setHeader('Content-Length', String(file.bytes));
  // Staff data: never cached by the browser or a proxy.
  res.setHeader('Cache-Control', 'no-store');
  await new Promise<void>((resolve, reject) => {
    file.stream.once('error', reject);
    res.once('close', () => {
      // A download cut off by the browser stops reading the file.
      if (!file.stream.destroyed) file.stream.destroy();
      resolve();
    });
    file.stream.pipe(res);
  });
});
