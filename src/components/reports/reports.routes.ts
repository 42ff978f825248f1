import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { parseOrThrow } from '../../shared/validation';
import { COMPLIANCE_STATUSES, formatLocalDate, localDateOf } from '../assignments';
import { SCHOOL_LEADERS } from '../../shared/actor';
import { actorOf, requireRole } from '../auth';
import { JOB_TITLES } from '../users';
import { horizontalBarChart } from './bar-chart';
import { BANDS, getDistrictReport } from './district-report.service';
import { exportHeaders, exportRecordBatches, getBoardSummary, resolveExportScope, type ExportFormat, type ExportScope } from './export.service';
import { writeCsv, writeXlsx } from './export-writers';
import { writeBoardPdf } from './pdf-report';
import { exportJobsRouter } from './export-jobs.routes';
import { decisionInsightsRouter } from './decision-insights.routes';
import { districtQuerySchema, exportQuerySchema, personParams, schoolParams, schoolQuerySchema } from './reports.schemas';
import { getPersonRecord, getReminderList, getSchoolReport } from './school-report.service';
import { getReminderOverview } from '../reminders';

export const reportsRouter = Router();
// Region administrators use the school pages of their region's schools and the exports (scoped in the services).
const leaders = requireRole(...SCHOOL_LEADERS);

/** A link to the same page with some query values changed ('' or undefined removes one). */
function urlWith(path: string, current: Record<string, unknown>) {
  return (changes: Record<string, unknown> = {}) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...current, ...changes })) {
      if (value !== undefined && value !== '' && value !== null && !(key === 'page' && value === 1)) params.set(key, String(value));
    }
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  };
}

const viewHelpers = { formatDate: formatLocalDate, statuses: COMPLIANCE_STATUSES, jobTitles: JOB_TITLES };

reportsRouter.get('/school/:schoolId', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  const query = parseOrThrow(schoolQuerySchema, req.query);
  const report = await getSchoolReport(actorOf(req), schoolId, query);
  const base = `/school/${schoolId}`;
  const filterValues = { status: query.status, jobTitle: query.jobTitle, module: query.module };
  const exportQuery = new URLSearchParams(Object.entries({ school: schoolId, ...filterValues }).filter(([, v]) => v) as [string, string][]).toString();
  res.render('school/show', {
    title: report.school.name,
    report,
    query,
    pageUrl: urlWith(base, { ...filterValues, sort: query.sort === 'name' ? undefined : query.sort, dir: query.dir === 'asc' ? undefined : query.dir, page: query.page }),
    sortUrl: (sort: string) => urlWith(base, filterValues)({ sort: sort === 'name' ? undefined : sort, dir: query.sort === sort && query.dir === 'asc' ? 'desc' : undefined }),
    exportQuery,
    ...viewHelpers,
  });
});

reportsRouter.get('/school/:schoolId/reminders', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  const { module } = parseOrThrow(schoolQuerySchema, req.query);
  const [list, email] = await Promise.all([getReminderList(actorOf(req), schoolId, module), getReminderOverview(actorOf(req), schoolId)]);
  // The outcome of the send this page just redirected from (counts only).
  const sent = req.session.reminderResult?.schoolId === schoolId ? req.session.reminderResult : undefined;
  delete req.session.reminderResult;
  res.render('school/reminders', { title: res.locals.t('reports.reminders.title', { school: list.school.name }), list, email, sent, ...viewHelpers });
});

reportsRouter.get('/school/:schoolId/staff/:userId', leaders, async (req, res) => {
  const { schoolId, userId } = parseOrThrow(personParams, req.params, 404);
  const record = await getPersonRecord(actorOf(req), schoolId, userId);
  res.render('school/person', { title: record.person.name, record, ...viewHelpers });
});

// District admins: the district. Region administrators: the region view (forced to their region: resolveRegion).
reportsRouter.get('/district', requireRole('district_admin', 'region_admin'), async (req, res) => {
  const query = parseOrThrow(districtQuerySchema, req.query);
  const actor = actorOf(req);
  const report = await getDistrictReport(actor, query);
  const t = res.locals.t as TFunction;
  const regionView = actor.role === 'region_admin' && report.region?.kind === 'region' ? report.region.region : undefined;
  // The region view's links and exports name the region shown (the server checks it again on each).
  const filterValues = { region: regionView ? regionView.id : query.region, module: query.module, status: query.status };
  const chart = horizontalBarChart(
    report.schools.map((s) => ({
      label: s.schoolId ? `${s.code} ${s.name}` : t('reports.district.noSchool'),
      value: s.suppressed ? null : s.percent,
      valueLabel: s.suppressed ? t('reports.district.hidden') : s.percent === null ? t('compliance.noData') : t('modules.percent', { value: s.percent }),
    })),
    { max: 100, tickStep: 25, tickSuffix: t('modules.percent', { value: '' }) },
  );
  const bandChart = horizontalBarChart(
    report.bands.map((n, i) => ({ label: t('reports.district.band', { from: i * (100 / BANDS), to: i === BANDS - 1 ? 100 : (i + 1) * (100 / BANDS) - 1 }), value: n, valueLabel: String(n) })),
    { max: Math.max(1, ...report.bands), tickStep: Math.max(1, Math.ceil(Math.max(1, ...report.bands) / 4)), labelWidth: 110 },
  );
  const exportQuery = new URLSearchParams(Object.entries(filterValues).filter(([, v]) => v) as [string, string][]).toString();
  res.render('district/show', {
    title: regionView ? t('reports.district.regionTitle', { region: regionView.name }) : t('reports.district.title'),
    regionView,
    report,
    query,
    chart,
    bandChart,
    bandCount: BANDS,
    pageUrl: urlWith('/district', { ...filterValues, sort: query.sort === 'compliance' ? undefined : query.sort, dir: query.dir, page: query.page }),
    sortUrl: (sort: string) => urlWith('/district', filterValues)({ sort: sort === 'compliance' ? undefined : sort, dir: query.sort === sort && query.dir !== 'desc' ? 'desc' : undefined }),
    // A region row's link keeps the module filter and the sort, and starts at page 1.
    regionUrl: (region: string) => urlWith('/district', { module: query.module, status: query.status, sort: query.sort === 'compliance' ? undefined : query.sort, dir: query.dir })({ region }),
    exportQuery,
    ...viewHelpers,
  });
});

function attachment(res: Response, scope: ExportScope, format: ExportFormat, contentType: string): void {
  const stamp = localDateOf(new Date(), scope.district.timeZone);
  const who = (scope.school ? scope.school.code : 'district').replace(/[^A-Za-z0-9_-]/g, '_');
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Disposition', `attachment; filename="compliance-${who}-${stamp}.${format}"`);
  // Staff data: never cached by the browser or a proxy.
  res.setHeader('Cache-Control', 'no-store');
}

async function exportScopeOf(req: Request) {
  return resolveExportScope(actorOf(req), parseOrThrow(exportQuerySchema, req.query));
}

reportsRouter.get('/reports/compliance.csv', leaders, async (req, res) => {
  const scope = await exportScopeOf(req);
  const t = res.locals.t as TFunction;
  attachment(res, scope, 'csv', 'text/csv; charset=utf-8');
  await writeCsv(exportRecordBatches(actorOf(req), scope, t, res.locals.lang, { format: 'csv', requestId: String(req.id) }), exportHeaders(t), res);
});

reportsRouter.get('/reports/compliance.xlsx', leaders, async (req, res) => {
  const scope = await exportScopeOf(req);
  const t = res.locals.t as TFunction;
  attachment(res, scope, 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  await writeXlsx(exportRecordBatches(actorOf(req), scope, t, res.locals.lang, { format: 'xlsx', requestId: String(req.id) }), exportHeaders(t), res, t('reports.xlsxSheet'));
});

reportsRouter.get('/reports/compliance.pdf', leaders, async (req, res) => {
  const scope = await exportScopeOf(req);
  const t = res.locals.t as TFunction;
  const summary = await getBoardSummary(actorOf(req), scope, res.locals.lang, { format: 'pdf', requestId: String(req.id) });
  attachment(res, scope, 'pdf', 'application/pdf');
  await writeBoardPdf(summary, t, res.locals.lang, res);
});

reportsRouter.use(exportJobsRouter);
reportsRouter.use(decisionInsightsRouter);
