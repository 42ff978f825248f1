import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { actorOf, requireRole } from '../auth';
import { setFlash } from '../../shared/flash';
import { objectId, parseForm, parseOrThrow, type FieldErrors } from '../../shared/validation';
import { contactFields, contactFormValues, contactsFormSchema, contactsMissingSpanish, toContactsInput } from '../settings';
import { getSchoolContacts, updateSchoolContacts } from './school-contacts.service';

/** A school's own contacts for its principal (and district admins): not the region's or the district's. */
export const schoolContactsRouter = Router();
const leaders = requireRole('principal', 'district_admin');
const schoolParams = z.object({ schoolId: objectId });

async function render(req: Request, res: Response, status: number, errors: FieldErrors = {}, values?: Record<string, unknown>) {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  const school = await getSchoolContacts(actorOf(req), schoolId);
  const shown = values ?? contactFormValues(school.contacts);
  res.status(status).render('school/contacts', {
    title: res.locals.t('schools.contacts.title', { school: school.name }),
    school,
    errors,
    values: shown,
    contacts: contactFields(),
    missingSpanish: contactsMissingSpanish(shown),
    fallbacks: school.fallbacks[res.locals.lang as 'en' | 'es'],
  });
}

schoolContactsRouter.get('/school/:schoolId/contacts', leaders, async (req, res) => {
  await render(req, res, 200);
});

schoolContactsRouter.post('/school/:schoolId/contacts', leaders, async (req, res) => {
  const { schoolId } = parseOrThrow(schoolParams, req.params, 404);
  await getSchoolContacts(actorOf(req), schoolId); // not their school: 404 before any form check
  const form = parseForm(contactsFormSchema, req.body);
  if (!form.ok) return render(req, res, 422, form.errors, form.values);
  await updateSchoolContacts(actorOf(req), schoolId, toContactsInput(form.data), String(req.id));
  setFlash(req, 'schools.flash.contactsSaved');
  res.redirect(303, `/school/${schoolId}/contacts`);
});
