/**
 * Renders one outbox record into a message at send time, from the current records: the person (active,
 * email, language, schools), their open trainings (compliance rows) and the contact tree (their school's
 * contacts, else its region's, else the district's). Returns why
 * not to send instead when the person completed the training, left, or has no email. Only the recipient's
 * own trainings appear (a principal's digest: names and counts of their overdue staff) — nothing about
 * students or families, nothing about immigration status.
 */
import path from 'node:path';
import ejs from 'ejs';
import { translator } from '../../shared/i18n';
import type { MailMessage } from '../../shared/mailer';
import { findPersonRows, formatLocalDate, listModuleOptions, statusAt, type ComplianceRowDoc, type ComplianceStatus } from '../assignments';
import type { DistrictContentSettings } from '../content';
import { School, getPersonContactContext, getSchoolContactContext } from '../schools';
import { User } from '../users';
import type { ReminderRecord } from './reminder.model';
import { findOverdueBySchool } from './reminder-rows';

const viewsDir = path.join(__dirname, '..', '..', '..', 'views', 'emails');

export type Built = { ok: true; message: MailMessage } | { ok: false; reason: 'inactive' | 'no_email' | 'completed' | 'nothing_overdue' };

type Training = { title: string; dueDate: string; status: ComplianceStatus; link: string };

async function render(name: string, data: Record<string, unknown>): Promise<{ text: string; html: string }> {
  const [text, html] = await Promise.all([
    ejs.renderFile(path.join(viewsDir, `${name}.txt.ejs`), data, { cache: true }),
    ejs.renderFile(path.join(viewsDir, `${name}.html.ejs`), data, { cache: true }),
  ]);
  return { text, html };
}

/**
 * The district's name and the contacts the recipient's training names, in `lang`, from the contact tree (school,
 * else its region, else the district, else the neutral wording): the reminder's school when it is about one,
 * else the person's first active school; nobody's school (a district admin) → the district's.
 */
async function contactsFor(reminder: ReminderRecord, schoolIds: readonly string[], lang: 'en' | 'es'): Promise<DistrictContentSettings> {
  const districtId = String(reminder.district);
  const context = reminder.school && schoolIds.includes(String(reminder.school)) ? await getSchoolContactContext(districtId, String(reminder.school)) : await getPersonContactContext({ districtId, schoolIds });
  return context.content[lang];
}

const OPEN = (status: ComplianceStatus) => status !== 'completed';

export async function buildReminderMessage(reminder: ReminderRecord, baseUrl: string, now: Date): Promise<Built> {
  const user = await User.findOne({ _id: reminder.user, district: reminder.district }, { name: 1, email: 1, active: 1, preferredLanguage: 1, schools: 1 }).lean();
  if (!user || user.active === false) return { ok: false, reason: 'inactive' };
  if (!user.email) return { ok: false, reason: 'no_email' };
  const lang = (user.preferredLanguage === 'es' ? 'es' : 'en') as 'en' | 'es';
  const t = translator(lang);
  const schoolIds = (user.schools ?? []).map(String);
  const district = await contactsFor(reminder, schoolIds, lang);
  const contacts = district.contacts;
  const common = { t, lang, districtName: district.districtName, formatDate: (d: string) => formatLocalDate(d, lang), baseUrl };

  if (reminder.kind === 'digest') {
    const schools = await School.find({ _id: { $in: user.schools ?? [] }, district: reminder.district }, { name: 1 }).lean();
    const overdue = await findOverdueBySchool(String(reminder.district), schools.map((s) => String(s._id)), now);
    const groups = schools
      .map((s) => ({ id: String(s._id), name: s.name, link: `${baseUrl}/school/${String(s._id)}/reminders`, people: overdue.get(String(s._id)) ?? [] }))
      .filter((g) => g.people.length > 0);
    if (groups.length === 0) return { ok: false, reason: 'nothing_overdue' };
    // People, not lines: someone at two of the principal's schools is listed under each but counted once.
    const total = new Set(groups.flatMap((g) => g.people.map((p) => p.userId))).size;
    const subject = t('reminders.email.digestSubject', { count: total });
    const body = await render('digest', { ...common, name: user.name, groups, total, contact: contacts.region_operations });
    return { ok: true, message: { to: user.email, subject, language: lang, ...body } };
  }

  const titles = new Map((await listModuleOptions()).map((m) => [m.slug, m.title[lang]]));
  let rows: ComplianceRowDoc[] = await findPersonRows(String(reminder.district), String(reminder.user));
  if (reminder.assignment) rows = rows.filter((r) => String(r.assignment) === String(reminder.assignment));
  else if (reminder.school) rows = rows.filter((r) => r.schools.some((s) => String(s) === String(reminder.school)));
  const trainings: Training[] = rows
    .map((r) => ({ title: titles.get(r.moduleSlug) ?? r.moduleSlug, dueDate: r.dueDate, status: statusAt(r, now), link: `${baseUrl}/training/${encodeURIComponent(r.moduleSlug)}` }))
    .filter((tr) => OPEN(tr.status))
    .sort((a, b) => a.dueDate.localeCompare(b.dueDate));
  if (trainings.length === 0) return { ok: false, reason: 'completed' };
  const first = trainings[0];
  const subject =
    trainings.length > 1
      ? t('reminders.email.subjectMany', { title: first.title, count: trainings.length - 1 })
      : t(`reminders.email.subject.${reminder.kind}`, { title: first.title, date: formatLocalDate(first.dueDate, lang) });
  const body = await render('reminder', { ...common, name: user.name, kind: reminder.kind, trainings, trainingUrl: `${baseUrl}/training`, contact: contacts.principal });
  return { ok: true, message: { to: user.email, subject, language: lang, ...body } };
}
