import { unlink } from 'node:fs/promises';
import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { actorOf, requireRole } from '../auth';
import { listSchoolOptions } from '../schools';
import { JOB_TITLES, LANGUAGES } from '../users';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { formatCount, formatLocalDateTime } from '../assignments';
import { writeCsv } from '../reports';
import { canApplyAgain, failureOf, importStatusOf } from './roster-import.status';
import { requestApply, type ApplyRefusal } from './roster-jobs';
import { orgFixOf } from './oneroster-map';
import { openProblemList, problemHeaders } from './roster-problems';
import { IMPORT_ROLES, ROSTER_COLUMNS, REQUIRED_COLUMNS } from './roster-row';
import { applyFormSchema, importQuery, previewParams, uploadFormSchema } from './roster.schemas';
import {
  districtTimeZone,
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

/** Seconds between reloads of a running import's page when the admin asked for them (no JavaScript needed; the page says so and can stop it). */
export const IMPORT_REFRESH_SECONDS = 10;

const formatFacts = {
  columns: ROSTER_COLUMNS,
  requiredColumns: REQUIRED_COLUMNS,
  roles: IMPORT_ROLES,
  jobTitles: JOB_TITLES,
  languages: LANGUAGES,
  maxMegabytes: ROSTER_MAX_BYTES / (1024 * 1024),
  thresholdPercent: Math.round(DEACTIVATION_CONFIRM_SHARE * 100),
  previewMinutes: PREVIEW_TTL_MS / 60_000,
  refreshEvery: IMPORT_REFRESH_SECONDS,
};
const importHelpers = { importStatusOf, failureOf, formatCount, formatDateTime: formatLocalDateTime };

async function renderIndex(req: Request, res: Response, status: number, errors: FieldErrors = {}, extra: Record<string, unknown> = {}) {
  const actor = actorOf(req);
  const [recent, timeZone] = await Promise.all([listRecentImports(actor), districtTimeZone(actor)]);
  res.status(status).render('roster/index', { title: res.locals.t('roster.title'), recent, timeZone, errors, values: { completeRoster: false }, problem: null, ...formatFacts, ...importHelpers, ...extra });
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

function problemError(outcome: Extract<PreviewOutcome, { ok: false }>): { key: string; names?: string; line?: number; file?: string } {
  return { key: `roster.fileProblems.${outcome.problem}`, names: outcome.names?.join(', '), line: outcome.line, file: outcome.file };
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
    title: res.locals.t('roster.preview.title'),
    preview,
    samples,
    schoolCode: codes,
    expired: preview.state === 'ready' && preview.expiresAt <= new Date(),
    needsConfirm: needsDeactivationConfirm(preview),
    threshold: deactivationThreshold(preview.activeCount),
    errors,
    refused,
    values: {},
    orgFixOf,
    ...formatFacts,
  });
}

rosterRouter.get('/admin/roster/previews/:id', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  const preview = await getPreview(actorOf(req), id);
  // Once Apply was pressed, the preview's page is its import's status page.
  if (importStatusOf(preview)) return res.redirect(303, `/admin/roster/imports/${id}`);
  await renderPreview(req, res, 200, id);
});

rosterRouter.get('/admin/roster/previews/:id/problems.csv', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  const list = await openProblemList(actorOf(req), id, res.locals.t as TFunction, { requestId: String(req.id) });
  res.type('text/csv; charset=utf-8');
  res.attachment(list.fileName);
  // Staff data (lines of an HR file): never cached by the browser or a proxy.
  res.setHeader('Cache-Control', 'no-store');
  await writeCsv(list.batches, problemHeaders(res.locals.t as TFunction), res);
});

rosterRouter.post('/admin/roster/previews/:id/apply', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  const form = parseForm(applyFormSchema, req.body);
  const result = await requestApply(actorOf(req), id, { confirm: form.ok ? form.data.confirm : '' }, { requestId: String(req.id) });
  if (result.ok) return res.redirect(303, `/admin/roster/imports/${id}${form.ok && form.data.autoRefresh ? '?refresh=on' : ''}`);
  if ('errors' in result) return renderPreview(req, res, 422, id, result.errors);
  // Refused: on the import's page once Apply was pressed before (applied, stale, failed too long ago), else on the preview.
  const preview = await getPreview(actorOf(req), id);
  if (importStatusOf(preview)) return renderImport(req, res, result.status, id, result.refused);
  return renderPreview(req, res, result.status, id, {}, result.refused);
});

async function renderImport(req: Request, res: Response, status: number, id: string, refused: ApplyRefusal | null = null) {
  const actor = actorOf(req);
  const preview = await getPreview(actor, id);
  if (!importStatusOf(preview)) return res.redirect(303, `/admin/roster/previews/${id}`);
  const { refresh } = importQuery.parse(req.query);
  const state = importStatusOf(preview)!;
  const underway = state === 'queued' || state === 'applying';
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).render('roster/import', {
    title: res.locals.t(`roster.import.title.${state}`),
    preview,
    state,
    failure: failureOf(preview),
    canRetry: canApplyAgain(preview),
    refused,
    autoRefresh: underway && refresh === 'on',
    refreshEvery: IMPORT_REFRESH_SECONDS,
    refreshSeconds: underway && refresh === 'on' ? IMPORT_REFRESH_SECONDS : 0,
    timeZone: await districtTimeZone(actor),
    ...importHelpers,
  });
}

rosterRouter.get('/admin/roster/imports/:id', async (req, res) => {
  const { id } = parseOrThrow(previewParams, req.params, 404);
  await renderImport(req, res, 200, id);
});
