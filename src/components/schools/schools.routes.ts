import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { idParams, schoolFormSchema, schoolListQuerySchema } from './schools.schemas';
import { createSchool, getSchool, listSchools, setSchoolActive, updateSchool } from './schools.service';

export const schoolsRouter = Router();
schoolsRouter.use('/admin/schools', requireRole('district_admin'));

function entered(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>;
  return { code: typeof b.code === 'string' ? b.code : '', name: typeof b.name === 'string' ? b.name : '' };
}

schoolsRouter.get('/admin/schools', async (req, res) => {
  const query = parseOrThrow(schoolListQuerySchema, req.query);
  const page = await listSchools(actorOf(req), query);
  res.render('schools/list', { title: res.locals.t('schools.list.title'), page, query });
});

function renderNew(res: Response, status: number, errors: FieldErrors, values: Record<string, unknown>) {
  res.status(status).render('schools/new', { title: res.locals.t('schools.new.title'), errors, values });
}

schoolsRouter.get('/admin/schools/new', (_req, res) => {
  renderNew(res, 200, {}, {});
});

schoolsRouter.post('/admin/schools', async (req, res) => {
  const form = parseForm(schoolFormSchema, req.body);
  if (!form.ok) return renderNew(res, 422, form.errors, entered(req.body));
  const result = await createSchool(actorOf(req), form.data, { requestId: String(req.id) });
  if (!result.ok) return renderNew(res, 422, result.errors, entered(req.body));
  setFlash(req, 'schools.flash.created');
  res.redirect(303, `/admin/schools/${result.id}`);
});

async function renderEdit(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>) {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const school = await getSchool(actorOf(req), id);
  res.status(status).render('schools/edit', {
    title: res.locals.t('schools.edit.title', { name: school.name }),
    school,
    errors,
    values: values ?? { code: school.code, name: school.name },
  });
}

schoolsRouter.get('/admin/schools/:id', async (req, res) => {
  await renderEdit(req, res, 200);
});

schoolsRouter.post('/admin/schools/:id', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const form = parseForm(schoolFormSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, form.errors, entered(req.body));
  const result = await updateSchool(actorOf(req), id, form.data, { requestId: String(req.id) });
  if (!result.ok) return renderEdit(req, res, 422, result.errors, entered(req.body));
  setFlash(req, 'schools.flash.saved');
  res.redirect(303, `/admin/schools/${id}`);
});

for (const [action, active] of [['deactivate', false], ['reactivate', true]] as const) {
  schoolsRouter.post(`/admin/schools/:id/${action}`, async (req, res) => {
    const { id } = parseOrThrow(idParams, req.params, 404);
    await setSchoolActive(actorOf(req), id, active, { requestId: String(req.id) });
    setFlash(req, active ? 'schools.flash.reactivated' : 'schools.flash.deactivated');
    res.redirect(303, `/admin/schools/${id}`);
  });
}
