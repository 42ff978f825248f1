import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { Reminder, runQueuedReminders } from '../../../src/components/reminders';
import { translator } from '../../../src/shared/i18n';
import { School, forgetSchoolContacts } from '../../../src/components/schools';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

/**
 * What a reminder says, read as the people who get it: subjects counting the other trainings with the right
 * plural, and Spanish that uses the same word for "overdue" as the status shown everywhere else ("Atrasado"),
 * keeping "vencido" for an expired completion.
 */
let smtp: SmtpCapture;
let t: TestApp;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let principal: Agent;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'Training <training@w.example>', BASE_URL: 'https://training.w.example' });
  await publishModule('foundations', [1], 'Foundations');
  await publishModule('front-office', [1], 'Front office');
  await publishModule('classroom', [1], 'Classroom');
  const district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  await createUser(district, { role: 'principal', email: 'principal@w.example', schools: [lincoln], preferredLanguage: 'es' });
  people = {
    // Three overdue trainings each (every staff member gets every assignment below).
    ana: await createUser(district, { name: 'Ana Tres', email: 'ana@w.example', schools: [lincoln], preferredLanguage: 'es' }),
    ben: await createUser(district, { name: 'Ben Three', email: 'ben@w.example', schools: [lincoln] }),
  };
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });
  await createAssignment(district, { moduleSlug: 'front-office', due: { kind: 'fixed', date: '2024-10-15' } });
  await createAssignment(district, { moduleSlug: 'classroom', due: { kind: 'fixed', date: '2024-10-30' } });
  principal = await signIn(t.app, 'principal@w.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

describe('reminder wording', () => {
  test('when a Spanish-speaking principal opens the reminders page, then the button says "atrasada o vencida" like the status names', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}/reminders?lang=es`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Enviar un recordatorio a 2 personas (con capacitación atrasada o vencida)');
    expect(res.text).not.toContain('caducada');
  });

  test('when people with three overdue trainings are reminded, then each subject counts "2 more trainings" in their language', async () => {
    const res = await principal
      .post(`/school/${String(lincoln._id)}/reminders/send`)
      .type('form')
      .send({ _csrf: await csrfFor(principal, `/school/${String(lincoln._id)}/reminders`), group: 'urgent' });
    expect(res.status).toBe(303);
    expect(await Reminder.countDocuments({ user: { $in: [people.ana._id, people.ben._id] } })).toBe(2);
    await runQueuedReminders();
    const byTo = new Map(smtp.messages.map((m) => [m.to[0], m]));
    expect(byTo.get('ben@w.example')?.subject).toBe('Reminder: "Foundations (EN)" and 2 more trainings');
    expect(byTo.get('ana@w.example')?.subject).toBe('Recordatorio: “Foundations (ES)” y 2 capacitaciones más');
    expect(byTo.get('ana@w.example')?.text).toContain('Estado: Atrasado');
    const stored = await Reminder.find({ user: { $in: [people.ana._id, people.ben._id] } }).lean();
    expect(stored.map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  test('when everyone in a group was just reminded, then the page says they were reminded, not that "2 more" were', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}/reminders?lang=es`);
    expect(res.text).not.toContain('name="group" value="urgent"');
    expect(res.text).toContain('A 2 personas con capacitación atrasada o vencida se les envió un recordatorio manual en las últimas 24 horas');
    expect(res.text).not.toContain('personas más');
    const en = await principal.get(`/school/${String(lincoln._id)}/reminders?lang=en`);
    expect(en.text).toContain('2 people with overdue or expired training were reminded by hand in the last 24 hours');
    expect(en.text).not.toContain('2 more were reminded');
  });

  test('when the Spanish strings name overdue training, then they say "atrasada" (the overdue status) and never "vencida" (expired)', () => {
    const es = translator('es');
    expect(es('compliance.status.overdue')).toBe('Atrasado');
    expect(es('compliance.status.expired')).toBe('Vencido');
    expect(es('reminders.email.subjectMany', { title: 'X', count: 1 })).toBe('Recordatorio: “X” y 1 capacitación más');
    expect(es('reminders.page.sendPending', { count: 2 })).toBe('Enviar un recordatorio a 2 personas (con capacitación aún no completada)');
    for (const text of [
      es('reminders.email.subject.after_due', { date: '5 nov 2026', title: 'X' }),
      es('reminders.email.digestSubject', { count: 2 }),
      es('reminders.email.digestIntro'),
      es('reminders.email.digestTrainings', { count: 1 }),
      es('reminders.settings.principalDigest'),
    ]) {
      expect(text).toMatch(/atrasada/i);
      expect(text).not.toMatch(/vencid/i);
    }
  });

  test("when the school names its own principal, then the reminder tells its staff to ask that principal (the contact tree), in their language", async () => {
    await School.updateOne({ _id: lincoln._id }, { $set: { contacts: { principal: { name: 'Principal Marcus Whitaker', nameEs: 'el director Marcus Whitaker', phone: '555-010-0101' } } } });
    forgetSchoolContacts();
    const cam = await createUser(lincoln.district, { name: 'Cam Cuatro', email: 'cam@w.example', schools: [lincoln], preferredLanguage: 'es' });
    const dev = await createUser(lincoln.district, { name: 'Dev Four', email: 'dev@w.example', schools: [lincoln] });
    // Their overdue training (an assignment made after them builds their compliance rows).
    await createAssignment({ _id: lincoln.district }, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-11-15' } });
    smtp.messages.length = 0;

    const res = await principal
      .post(`/school/${String(lincoln._id)}/reminders/send`)
      .type('form')
      .send({ _csrf: await csrfFor(principal, `/school/${String(lincoln._id)}/reminders`), group: 'urgent' });
    expect(res.status).toBe(303);
    await runQueuedReminders();

    const byTo = new Map(smtp.messages.map((m) => [m.to[0], m]));
    expect(byTo.get('dev@w.example')?.text).toContain('Questions? Contact Principal Marcus Whitaker at 555-010-0101.');
    expect(byTo.get('cam@w.example')?.text).toContain('el director Marcus Whitaker');
    expect(byTo.get('cam@w.example')?.text).toContain('555-010-0101');
    expect(await Reminder.countDocuments({ user: { $in: [cam._id, dev._id] }, status: 'sent' })).toBe(2);
  });
});
