import { Router } from 'express';
import { parseOrThrow, parseForm } from '../../shared/validation';
import { SCHOOL_LEADERS } from '../../shared/actor';
import { actorOf, requireRole } from '../auth';
import { sendFormSchema, sendParams } from './reminders.schemas';
import { sendSchoolReminders, visibleSchool, type SendResult } from './reminders.service';

declare module 'express-session' {
  interface SessionData {
    reminderResult?: SendResult & { schoolId: string };
  }
}

export const remindersRouter = Router();

remindersRouter.post('/school/:schoolId/reminders/send', requireRole(...SCHOOL_LEADERS), async (req, res) => {
  const { schoolId } = parseOrThrow(sendParams, req.params, 404);
  const form = parseForm(sendFormSchema, req.body);
  if (!form.ok) {
    // A school out of the actor's scope does not exist for them, whatever the form says.
    await visibleSchool(actorOf(req), schoolId);
    return void res.status(400).send('Invalid request');
  }
  const result = await sendSchoolReminders(actorOf(req), schoolId, form.data.group, String(req.id));
  req.session.reminderResult = { ...result, schoolId };
  res.redirect(303, `/school/${schoolId}/reminders`);
});
