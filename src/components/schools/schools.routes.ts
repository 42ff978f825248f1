import { Router, type Request, type Response } from 'express';
import { actorOf, requireRole } from '../auth';
import { setFlash } from '../../shared/flash';
import { parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { idParams, schoolFormSchema, schoolListQuerySchema } from './schools.schemas';
import { createSchool, getSchool, listSchools, setSchoolActive, updateSchool } from './schools.service';
import { listRegionOptions } from '../regions';
import { contactFields, contactFormValues, contactsFormSchema, contactsMissingSpanish, toContactsInput } from '../settings';
import { getSchoolContacts, updateSchoolContacts } from './school-contacts.service';
import { schoolContactsRouter } from './school-contacts.routes';
import { regionRemovalRouter } from './region-removal.routes';

export const schoolsRouter = Router();
schoolsRouter.use('/admin/schools', requireRole('district_admin'));
schoolsRouter.use(schoolContactsRouter);
schoolsRouter.use(regionRemovalRouter);

function entered(body: unknown): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>;
  return { code: typeof b.code === 'string' ? b.code : '', name: typeof b.name === 'string' ? b.name : '', region: typeof b.region === 'string' ? b.region : '' };
}

schoolsRouter.get('/admin/schools', async (req, res) => {
  const query = parseOrThrow(schoolListQuerySchema, req.query);
  const [page, regions] = await Promise.all([listSchools(actorOf(req), query), listRegionOptions(actorOf(req))]);
  res.render('schools/list', { title: res.locals.t('schools.list.title'), page, query, regions });
});

async function renderNew(req: Request, res: Response, status: number, errors: FieldErrors, values: Record<string, unknown>) {
  const regions = await listRegionOptions(actorOf(req));
  res.status(status).render('schools/new', { title: res.locals.t('schools.new.title'), errors, values, regions });
}

schoolsRouter.get('/admin/schools/new', async (req, res) => {
  await renderNew(req, res, 200, {}, {});
});

schoolsRouter.post('/admin/schools', async (req, res) => {
  const form = parseForm(schoolFormSchema, req.body);
  if (!form.ok) return renderNew(req, res, 422, form.errors, entered(req.body));
  const result = await createSchool(actorOf(req), form.data, { requestId: String(req.id) });
  if (!result.ok) return renderNew(req, res, 422, result.errors, entered(req.body));
  setFlash(req, 'schools.flash.created');
  res.redirect(303, `/admin/schools/${result.id}`);
});

type ContactsForm = { errors: FieldErrors; values: Record<string, unknown> };

async function renderEdit(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>, contactsForm?: ContactsForm) {
  const { id } = parseOrThrow(idParams, req.params, 404);
  const actor = actorOf(req);
  const [school, regions, own] = await Promise.all([getSchool(actor, id), listRegionOptions(actor), getSchoolContacts(actor, id)]);
  const contactValues = contactsForm?.values ?? contactFormValues(own.contacts);
  res.status(status).render('schools/edit', {
    title: res.locals.t('schools.edit.title', { name: school.name }),
    school,
    regions,
    errors,
    values: values ?? { code: school.code, name: school.name, region: school.regionId },
    contactsForm: {
      errors: contactsForm?.errors ?? {},
      values: contactValues,
      contacts: contactFields(),
      missingSpanish: contactsMissingSpanish(contactValues),
      fallbacks: own.fallbacks[res.locals.lang as 'en' | 'es'],
    },
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

/** The school's own contacts (the principal's page /school/:id/contacts saves the same). */
schoolsRouter.post('/admin/schools/:id/contacts', async (req, res) => {
  const { id } = parseOrThrow(idParams, req.params, 404);
  await getSchool(actorOf(req), id); // another district's school: 404 before any form check
  const form = parseForm(contactsFormSchema, req.body);
  if (!form.ok) return renderEdit(req, res, 422, {}, undefined, { errors: form.errors, values: form.values });
  await updateSchoolContacts(actorOf(req), id, toContactsInput(form.data), String(req.id));
  setFlash(req, 'schools.flash.contactsSaved');
  res.redirect(303, `/admin/schools/${id}#contacts-heading`);
});

for (const [action, active] of [['deactivate', false], ['reactivate', true]] as const) {
  schoolsRouter.post(`/admin/schools/:id/${action}`, async (req, res) => {
    const { id } = parseOrThrow(idParams, req.params, 404);
    await setSchoolActive(actorOf(req), id, active, { requestId: String(req.id) });
    setFlash(req, active ? 'schools.flash.reactivated' : 'schools.flash.deactivated');
    res.redirect(303, `/admin/schools/${id}`);
  });
}
