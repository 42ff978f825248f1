/** The "choose a password" email, in the person's language: plain text and HTML (EJS-escaped). */
import path from 'node:path';
import ejs from 'ejs';
import { translator } from '../../shared/i18n';
import type { MailMessage } from '../../shared/mailer';
import { District } from '../districts';
import { RESET_TOKEN_MINUTES } from './reset-token.model';

const viewsDir = path.join(__dirname, '..', '..', '..', 'views', 'emails');

type Recipient = { name: string; email: string; district: unknown; preferredLanguage?: string | null };

export async function buildResetMessage(user: Recipient, link: string): Promise<MailMessage> {
  const lang = user.preferredLanguage === 'es' ? 'es' : 'en';
  const t = translator(lang);
  const district = await District.findById(user.district, { name: 1 }).lean();
  const data = { t, lang, name: user.name, link, minutes: RESET_TOKEN_MINUTES, districtName: district?.name ?? '' };
  const [text, html] = await Promise.all([
    ejs.renderFile(path.join(viewsDir, 'password-reset.txt.ejs'), data, { cache: true }),
    ejs.renderFile(path.join(viewsDir, 'password-reset.html.ejs'), data, { cache: true }),
  ]);
  return { to: user.email, subject: t('passwordReset.email.subject'), language: lang, text, html };
}
