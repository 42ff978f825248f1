import { Router, type Response } from 'express';
import { parseForm } from '../../shared/validation';
import { actorOf, requireRole } from '../auth';
import { getSettingsForm, updateSettings } from './settings.service';
import { getReminderSettingsView, reminderSettingsFormSchema, toReminderSettingsInput, updateReminderSettings } from '../reminders';
import { contactFields, contactsMissingSpanish, commonTimeZones, listTimeZones, settingsFormSchema, toSettingsInput } from './settings.schemas';

export const settingsRouter = Router();

const onlyAdmins = requireRole('district_admin');

type ReminderSection = Awaited<ReturnType<typeof getReminderSettingsView>> & { errors?: Record<string, string>; isSaved?: boolean };

function renderForm(res: Response, status: number, values: Record<string, unknown>, errors: Record<string, string> = {}, isSaved = false, reminders?: ReminderSection): void {
  res.status(status).render('settings/edit', {
    reminders,
    title: res.locals.t('settings.title'),
    values,
    errors,
    isSaved,
    contacts: contactFields(),
    missingSpanish: contactsMissingSpanish(values),
    timeZones: listTimeZones(),
    commonTimeZones: commonTimeZones(res.locals.lang),
  });
}

settingsRouter.get('/admin/settings', onlyAdmins, async (req, res) => {
  const reminders = { ...(await getReminderSettingsView(actorOf(req))), isSaved: req.query.saved === 'reminders' };
  renderForm(res, 200, await getSettingsForm(actorOf(req)), {}, req.query.saved === '1', reminders);
});

settingsRouter.post('/admin/settings', onlyAdmins, async (req, res) => {
  const form = parseForm(settingsFormSchema, req.body);
  if (!form.ok) return renderForm(res, 422, form.values, form.errors, false, await getReminderSettingsView(actorOf(req)));
  await updateSettings(actorOf(req), toSettingsInput(form.data), String(req.id));
  res.redirect(303, '/admin/settings?saved=1');
});

// The automatic reminder schedule: its own form (and 422) on the same page.
settingsRouter.post('/admin/settings/reminders', onlyAdmins, async (req, res) => {
  const form = parseForm(reminderSettingsFormSchema, req.body);
  if (!form.ok) {
    const view = await getReminderSettingsView(actorOf(req));
    return renderForm(res, 422, await getSettingsForm(actorOf(req)), {}, false, { ...view, values: form.values as Record<string, string>, errors: form.errors });
  }
  await updateReminderSettings(actorOf(req), toReminderSettingsInput(form.data), String(req.id));
  res.redirect(303, '/admin/settings?saved=reminders#reminders-heading');
});
