import { Router, type Response } from 'express';
import { parseForm } from '../../shared/validation';
import { actorOf, requireRole } from '../auth';
import { CONTACT_KEYS } from '../content';
import { getSettingsForm, updateSettings } from './settings.service';
import { contactNameEsField, contactNameField, contactPhoneField, listTimeZones, settingsFormSchema, toSettingsInput } from './settings.schemas';

export const settingsRouter = Router();

const onlyAdmins = requireRole('district_admin');

function renderForm(res: Response, status: number, values: Record<string, unknown>, errors: Record<string, string> = {}, isSaved = false): void {
  res.status(status).render('settings/edit', {
    title: res.locals.t('settings.title'),
    values,
    errors,
    isSaved,
    contacts: CONTACT_KEYS.map((key) => ({ key, nameField: contactNameField(key), nameEsField: contactNameEsField(key), phoneField: contactPhoneField(key) })),
    timeZones: listTimeZones(),
  });
}

settingsRouter.get('/admin/settings', onlyAdmins, async (req, res) => {
  renderForm(res, 200, await getSettingsForm(actorOf(req)), {}, req.query.saved === '1');
});

settingsRouter.post('/admin/settings', onlyAdmins, async (req, res) => {
  const form = parseForm(settingsFormSchema, req.body);
  if (!form.ok) return renderForm(res, 422, form.values, form.errors);
  await updateSettings(actorOf(req), toSettingsInput(form.data), String(req.id));
  res.redirect(303, '/admin/settings?saved=1');
});
