import { unlink } from 'node:fs/promises';
import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { listSchoolOptions } from '../schools';
import { JOB_TITLES, LANGUAGES } from '../users';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { applyPreview, type ApplyRefusal } from './roster-apply';
import { IMPORT_ROLES, ROSTER_COLUMNS, REQUIRED_COLUMNS } from './roster-row';
import { applyFormSchema, previewParams, uploadFormSchema } from './roster.schemas';
import {
  DEACTIVATION_CONFIRM_SHARE,
  PREVIEW_TTL_MS,
  createPreview,
  deactivationThreshold,
  getPreview,
  listRecentImports,
  needsDeactivationConfirm,
  previewSamples,
  schoolCodes,
  templateCsv,
  type PreviewOutcome,
} from './roster.service';
import { ROSTER_MAX_BYTES } from './roster.upload';

export const rosterRouter = Router();
rosterRouter.use('/admin/roster', requireRole('district_admin'));

const formatFacts = {
  columns: ROSTER_COLUMNS,
  requiredColumns: REQUIRED_COLUMNS,
  roles: IMPORT_ROLES,
  jobTitles: JOB_TITLES,
  languages: LANGUAGES,
  maxMegabytes: ROSTER_MAX_BYTES / (1024 * 1024),
  thresholdPercent: Math.round(DEACTIVATION_CONFIRM_SHARE * 100),
  previewMinutes: PREVIEW_TTL_MS / 60_000,
};

async function renderIndex(req: Request, res: Response, status: number, errors: FieldErrors = {}, extra: Record<string, unknown> = {}) {
  const recent = await listRecentImports(actorOf(req));
  res.status(status).render('roster/index', { title: res.locals.t('roster.title'), recent, errors, values: { completeRoster: false }, problem: null, ...formatFacts, ...extra });
}

rosterRouter.get('/admin/roster', async (req, res) => {
  await renderIndex(req, res, 200);
});

rosterRouter.get('/admin/roster/template.csv', async (req, res) => {
  const schools = await listSchoolOptions(actorOf(req));
  res.type('text/csv; charset=utf-8');
  res.attachment('roster-template.csv');
  res.send(templateCsv(schools.filter((s) => s.active).map((s) => s.code)));
});

function problemError(outcome: Extract<PreviewOutcome, { ok: false }>): { key: string; names?: string; line?: number } {
  return { key: `roster.fileProblems.${outcome.problem}`, names: outcome.names?.join(', '), line: outcome.line };
}

rosterRouter.post('/admin/roster/preview', async (req, res) => {
  const uploadProblem = res.locals.rosterUploadProblem as string | undefined;
  const completeRoster = parseForm(uploadFormSchema, req.body);
  const values = { completeRoster: completeRoster.ok ? completeRoster.data.completeRoster : false };
  if (uploadProblem) {
    return renderIndex(req, res, uploadProblem === 'too_large' ? 413 : 422, { file: `roster.uploadProblems.${uploadProblem}` }, { values });
  }
  if (!req.file) return renderIndex(req, res, 422, { file: 'roster.errors.fileRequired' }, { values });
  let outcome: PreviewOutcome;
  try {
    outcome = await createPreview(actorOf(req), { path: req.file.path, fileName: req.file.originalname ?? '', completeRoster: values.completeRoster });
  } finally {
    await unlink(req.file.path).catch(() => undefined);
  }
  if (!outcome.ok) return renderIndex(req, res, 422, { file: 'roster.errors.fileRefused' }, { values, problem: problemError(outcome) });
  if (!outcome.valid) return renderPreview(req, res, 422, outcome.id);
  res.redirect(303, `/admin/roster/previews/${outcome.id}`);
});

async function renderPreview(req: Request, res: Response, status: number, id: string, errors: FieldErrors = {}, refused: ApplyRefusal | null = null) {
  const actor = actorOf(req);
  const preview = await getPreview(actor, id);
  const [samples, codes] = await Promise.all([previewSamples(actor, preview), schoolCodes(actor)]);
  res.status(status).render('roster/preview', {
    title: res.locals.t(preview.state === 'applied' ? 'roster.result.title' : 'roster.preview.title'),
    preview,
    samples,
    schoolCode: codes,
    expired: preview.state === 'ready' && preview.expiresAt <= new Date(),
    needsConfirm: needsDeactivationConfirm(preview),
    threshold: deactivationThreshold(preview.activeCount),
    errors,
    refused,
    values: {},
    ...formatFacts,
  });
}

rosterRouter.get('/admin/roster/previews/:id', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  await renderPreview(req, res, 200, id);
});

rosterRouter.post('/admin/roster/previews/:id/apply', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  const form = parseForm(applyFormSchema, req.body);
  const result = await applyPreview(actorOf(req), id, { confirm: form.ok ? form.data.confirm : '' }, { requestId: String(req.id) });
  if (result.ok) {
    setFlash(req, 'roster.flash.applied');
    return res.redirect(303, `/admin/roster/previews/${id}`);
  }
  if ('errors' in result) return renderPreview(req, res, 422, id, result.errors);
  return renderPreview(req, res, result.status, id, {}, result.refused);
});
