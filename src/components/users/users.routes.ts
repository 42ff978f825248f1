import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { listSchoolOptions } from '../schools';
import { listRegionOptions } from '../regions';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { JOB_TITLES, LANGUAGES, ROLES } from './user.model';
import { idParams, setPasswordSchema, userCreateSchema, userListQuerySchema, userUpdateSchema, PASSWORD_MIN_LENGTH } from './users.schemas';
import { createUser, getUser, listUsers, setUserActive, setUserPassword, updateUser, type UserView } from './users.service';

export const usersRouter = Router();
usersRouter.use('/admin/users', requireRole('district_admin'));

const choices = { roles: ROLES, jobTitles: JOB_TITLES, languages: LANGUAGES, passwordMinLength: PASSWORD_MIN_LENGTH };

/** Stored record → the strings the form shows. */
function formValues(user: UserView): Record<string, unknown> {
  return {
    name: user.name,
    email: user.email,
    employeeId: user.employeeId ?? '',
    role: user.role,
    jobTitle: user.jobTitle ?? '',
    schools: user.schoolIds,
    regions: user.regionIds,
    preferredLanguage: user.preferredLanguage,
    startDate: user.startDate ? user.startDate.toISOString().slice(0, 10) : '',
  };
}

/** Re-rendered values keep checkbox groups as arrays (of strings only: an operator object is not shown back). */
function enteredValues(values: Record<string, unknown>): Record<string, unknown> {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);
  return { ...values, schools: list(values.schools), regions: list(values.regions) };
}

/** The submitted fields as entered (no token, no password), for a re-render after a rule failed. */
function stripCsrf(body: unknown): Record<string, unknown> {
  const values: Record<string, unknown> = Object.create(null);
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (k === '_csrf' || k === '__proto__' || /password/i.test(k)) continue;
      if (typeof v === 'string' || Array.isArray(v)) values[k] = v;
    }
  }
  return values;
}

usersRouter.get('/admin/users', async (req, res) => {
  const actor = actorOf(req);
  const query = parseOrThrow(userListQuerySchema, req.query);
  const [page, schools] = await Promise.all([listUsers(actor, query), listSchoolOptions(actor)]);
  res.render('users/list', { title: res.locals.t('users.list.title'), page, query, schools, schoolName: new Map(schools.map((s) => [s.id, s.name])), ...choices });
});

async function renderNew(req: Request, res: Response, status: number, errors: FieldErrors, values: Record<string, unknown>) {
  const [schools, regions] = await Promise.all([listSchoolOptions(actorOf(req)), listRegionOptions(actorOf(req))]);
  res.status(status).render('users/new', { title: res.locals.t('users.new.title'), schools, regions, errors, values, ...choices });
}

usersRouter.get('/admin/users/new', async (req, res) => {
  await renderNew(req, res, 200, {}, { role: 'staff', preferredLanguage: 'en', schools: [], regions: [] });
});

usersRouter.post('/admin/users', async (req, res) => {
  const form = parseForm(userCreateSchema, req.body);
  if (!form.ok) return renderNew(req, res, 422, form.errors, enteredValues(form.values));
  const result = await createUser(actorOf(req), form.data, { requestId: String(req.id) });
  if (!result.ok) return renderNew(req, res, 422, result.errors, enteredValues(stripCsrf(req.body)));
  setFlash(req, 'users.flash.created');
  res.redirect(303, `/admin/users/${result.id}`);
});

async function renderEdit(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>) {
  const actor = actorOf(req);
  const { id } = parseOrThrow(idParams, req.params, 404);
  const [user, schools, regions] = await Promise.all([getUser(actor, id), listSchoolOptions(actor), listRegionOptions(actor)]);
  res.status(status).render('users/edit', {
    title: res.locals.t('users.edit.title', { name: user.name }),
    user,
    isSelf: user.id === actor.userId,
    schools,
    regions,
    errors,
    values: values ?? formValues(user),
    ...choices,
  });
}

usersRouter.get('/admin/users/:id', async (req, res) => {
  await renderEdit(req, res, 200);
});

usersRouter.post('/admin/users/:id', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const form = parseForm(userUpdateSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, form.errors, enteredValues(form.values));
  const result = await updateUser(actorOf(req), id, form.data, { requestId: String(req.id) });
  if (!result.ok) return renderEdit(req, res, 422, result.errors, enteredValues(stripCsrf(req.body)));
  setFlash(req, 'users.flash.saved');
  res.redirect(303, `/admin/users/${id}`);
});

for (const [action, active] of [['deactivate', false], ['reactivate', true]] as const) {
  usersRouter.post(`/admin/users/:id/${action}`, async (req, res) => {
    const { id } = parseOrThrow(idParams, req.params, 404);
    const result = await setUserActive(actorOf(req), id, active, { requestId: String(req.id) });
    if (!result.ok) return renderEdit(req, res, 422, result.errors);
    setFlash(req, active ? 'users.flash.reactivated' : 'users.flash.deactivated');
    res.redirect(303, `/admin/users/${id}`);
  });
}

usersRouter.post('/admin/users/:id/password', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const form = parseForm(setPasswordSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, form.errors);
  await setUserPassword(actorOf(req), id, form.data.password, { requestId: String(req.id) });
  setFlash(req, 'users.flash.passwordSet');
  res.redirect(303, `/admin/users/${id}`);
});
