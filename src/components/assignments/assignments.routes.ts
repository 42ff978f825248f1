import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { getCounselReviews, reviewOf } from '../counsel-reviews';
import { JOB_TITLES } from '../users';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { ASSIGNABLE_ROLES, assignmentCreateSchema, assignmentIdParams, assignmentListQuery, assignmentUpdateSchema, jobRequestForm } from './assignments.schemas';
import {
  archiveAssignment,
  createAssignment,
  getAssignment,
  listAssignments,
  listModuleOptions,
  rebuildCompliance,
  retryAssignmentCompliance,
  updateAssignment,
  type AssignmentView,
} from './assignments.service';
import { formatCount, formatLocalDateTime, isUnderway } from './compliance-job.status';
import { compliancePercent } from './compliance-status';
import { formatLocalDate, formatMonthDay } from './zoned-date';

export const assignmentsRouter = Router();
assignmentsRouter.use('/admin/assignments', requireRole('district_admin'));

const choices = { roles: ASSIGNABLE_ROLES, jobTitles: JOB_TITLES };
/** For the compliance job status lines (views/assignments/_job-status.ejs). */
const jobHelpers = { formatDateTime: formatLocalDateTime, formatCount, isUnderway };

/** A stored assignment → the strings its form shows. */
function formValues(a: AssignmentView): Record<string, unknown> {
  return {
    moduleSlug: a.moduleSlug,
    roles: a.roles,
    jobTitles: a.jobTitles,
    schoolCodes: a.schoolCodes.join(', '),
    dueKind: a.due.kind,
    dueDate: a.due.kind === 'fixed' ? a.due.date : '',
    dueDays: a.due.kind === 'relative' ? String(a.due.days) : '',
    recurrence: a.recurrence.kind,
    cycleEnd: a.recurrence.kind === 'school_year' ? a.recurrence.cycleEnd : '06-30',
    minVersion: String(a.minVersion),
  };
}

/** The submitted fields as entered, checkbox groups as arrays (no token, no prototype). */
function enteredValues(body: unknown): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null);
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (k === '_csrf' || k === '__proto__') continue;
      if (typeof v === 'string' || Array.isArray(v)) values[k] = v;
    }
  }
  for (const group of ['roles', 'jobTitles']) {
    const v = values[group];
    values[group] = Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : [];
  }
  return values;
}

assignmentsRouter.get('/admin/assignments', async (req, res) => {
  const { show } = parseOrThrow(assignmentListQuery, req.query);
  const actor = actorOf(req);
  const [page, reviews] = await Promise.all([listAssignments(actor, show), getCounselReviews(actor.districtId)]);
  // The version learners play (the latest) has no recorded counsel review: say so where the admin assigns it.
  const isUnreviewed = (slug: string, version: number) => reviewOf(reviews, slug, version) === undefined;
  res.render('assignments/list', { title: res.locals.t('assignments.list.title'), ...page, show, isUnreviewed, compliancePercent, formatDate: formatLocalDate, formatMonthDay, ...jobHelpers });
});

async function renderForm(req: Request, res: Response, status: number, view: { errors: FieldErrors; values: Record<string, unknown>; assignment?: AssignmentView & { timeZone: string } }) {
  const modules = await listModuleOptions();
  const title = view.assignment ? res.locals.t('assignments.form.editTitle') : res.locals.t('assignments.form.newTitle');
  res.status(status).render('assignments/form', { title, modules, assignment: view.assignment, errors: view.errors, values: view.values, ...choices, ...jobHelpers });
}

assignmentsRouter.get('/admin/assignments/new', async (req, res) => {
  await renderForm(req, res, 200, { errors: {}, values: { roles: ['staff'], jobTitles: [], dueKind: 'relative', dueDays: '30', recurrence: 'annual', cycleEnd: '06-30', minVersion: '1' } });
});

assignmentsRouter.post('/admin/assignments', async (req, res) => {
  const form = parseForm(assignmentCreateSchema, req.body);
  if (!form.ok) return renderForm(req, res, 422, { errors: form.errors, values: enteredValues(req.body) });
  const result = await createAssignment(actorOf(req), form.data, { requestId: String(req.id) });
  if (!result.ok) return renderForm(req, res, 422, { errors: result.errors, values: enteredValues(req.body) });
  setFlash(req, 'assignments.flash.created');
  res.redirect(303, '/admin/assignments');
});

assignmentsRouter.post('/admin/assignments/rebuild', async (req, res) => {
  await rebuildCompliance(actorOf(req), { requestId: String(req.id) });
  setFlash(req, 'assignments.flash.rebuilt');
  res.redirect(303, '/admin/assignments');
});

assignmentsRouter.get('/admin/assignments/:id/edit', async (req, res) => {
  const { id } = parseOrThrow(assignmentIdParams, req.params, 404);
  const assignment = await getAssignment(actorOf(req), id);
  if (assignment.status !== 'active') return res.redirect(303, '/admin/assignments?show=archived');
  await renderForm(req, res, 200, { errors: {}, values: formValues(assignment), assignment });
});

assignmentsRouter.post('/admin/assignments/:id', async (req, res) => {
  const { id } = parseOrThrow(assignmentIdParams, req.params, 404);
  const actor = actorOf(req);
  const assignment = await getAssignment(actor, id);
  const form = parseForm(assignmentUpdateSchema, req.body);
  if (!form.ok) return renderForm(req, res, 422, { errors: form.errors, values: enteredValues(req.body), assignment });
  const result = await updateAssignment(actor, id, form.data, { requestId: String(req.id) });
  if (!result.ok) return renderForm(req, res, 422, { errors: result.errors, values: enteredValues(req.body), assignment });
  setFlash(req, 'assignments.flash.updated');
  res.redirect(303, '/admin/assignments');
});

assignmentsRouter.post('/admin/assignments/:id/retry', async (req, res) => {
  const { id } = parseOrThrow(assignmentIdParams, req.params, 404);
  const { from } = parseOrThrow(jobRequestForm, req.body);
  await retryAssignmentCompliance(actorOf(req), id, { requestId: String(req.id) });
  setFlash(req, 'assignments.flash.retried');
  res.redirect(303, from === 'edit' ? `/admin/assignments/${id}/edit` : '/admin/assignments');
});

assignmentsRouter.post('/admin/assignments/:id/archive', async (req, res) => {
  const { id } = parseOrThrow(assignmentIdParams, req.params, 404);
  await archiveAssignment(actorOf(req), id, { requestId: String(req.id) });
  setFlash(req, 'assignments.flash.archived');
  res.redirect(303, '/admin/assignments');
});
