/**
 * Outgoing mail. Three modes, decided once from the config:
 *   - smtp:     SMTP_URL is set (smtp:// or smtps:// with credentials) — nodemailer sends through it;
 *   - file:     no SMTP_URL outside production — each message is written as an .eml file under
 *               DATA_DIR/outbox, so the demo works with no mail server;
 *   - disabled: no SMTP_URL in production — nothing is sent, and the pages say so.
 * The SMTP URL carries a password: it is never logged, and errors are cleaned of it before they are stored.
 */
import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../config';
import { logger } from './logger';

export type MailMode = 'smtp' | 'file' | 'disabled';
export const SMTP_POOL_CONNECTIONS = 3;
export const SMTP_POOL_MESSAGES = 100;
export type MailMessage = { to: string; subject: string; text: string; html: string; language: string };
export type Mailer = {
  mode: MailMode;
  from: string;
  /** The site's public address, for links in messages. */
  baseUrl: string;
  /** Where file mode writes (file mode only). */
  outboxDir?: string;
  send(message: MailMessage): Promise<{ messageId: string }>;
  /** Deletes messages kept on this server written before `before` (file mode's .eml files); returns how many. */
  pruneFiles(before: Date): Promise<number>;
  /** Ends the open SMTP connections (idle ones at once, a message being sent after it). Sends after close fail. */
  close(): void;
};

/** The host and port of an SMTP URL, for logs and pages (never the user or password). */
export function describeSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`;
  } catch {
    return 'smtp';
  }
}

/** An error message with anything that looks like URL credentials removed, at most 500 characters. */
export function cleanMailError(err: unknown, smtpUrl?: string): string {
  let message = err instanceof Error ? err.message : String(err);
  if (smtpUrl) {
    try {
      const parsed = new URL(smtpUrl);
      for (const secret of [parsed.password, decodeURIComponent(parsed.password)].filter((s) => s.length > 0)) message = message.split(secret).join('[redacted]');
    } catch {
      // Unparseable URL: the generic rule below still applies.
    }
  }
  return (message.replace(/\/\/[^/\s:@]+:[^@\s]+@/g, '//[redacted]@') || 'Unknown error').slice(0, 500);
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir' | 'isProduction' | 'baseUrl'>): Mailer {
  const from = config.mailFrom;
  const baseUrl = config.baseUrl;
  if (config.smtpUrl) {
    const smtpUrl = config.smtpUrl;
    // A small pool per process: the runner's workers share up to SMTP_POOL_CONNECTIONS open connections, each
    // reused for up to SMTP_POOL_MESSAGES messages (then reopened: servers limit messages per connection), and
    // an idle one closes by itself after a few minutes. close() ends them (the server's stop path, tests), so
    // a server shutting down does not wait for connections the app forgot.
    const transport: Transporter = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: SMTP_POOL_CONNECTIONS, maxMessages: SMTP_POOL_MESSAGES }, { from });
    return {
      mode: 'smtp',
      from,
      baseUrl,
      async send(message) {
        try {
          const info = await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html, headers: { 'Content-Language': message.language, 'Auto-Submitted': 'auto-generated' } });
          return { messageId: String(info.messageId) };
        } catch (err) {
          throw new Error(cleanMailError(err, smtpUrl));
        }
      },
      pruneFiles: async () => 0,
      close: () => transport.close(),
    };
  }
  if (config.isProduction) {
    return {
      mode: 'disabled',
      from,
      baseUrl,
      async send() {
        throw new Error('Email is not configured (SMTP_URL is not set).');
      },
      pruneFiles: async () => 0,
      close() {},
    };
  }
  const outboxDir = path.resolve(config.dataDir, 'outbox');
  const transport: Transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    mode: 'file',
    from,
    baseUrl,
    outboxDir,
    async send(message) {
      const info = await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html, headers: { 'Content-Language': message.language, 'Auto-Submitted': 'auto-generated' } });
      await mkdir(outboxDir, { recursive: true });
      const file = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      return { messageId: String(info.messageId) };
    },
    pruneFiles: (before) => pruneEmlFiles(outboxDir, before),
    close: () => transport.close(),
  };
}

/**
 * The .eml files are a development mail sink, not a record: the outbox record in MongoDB holds who, when and
 * the status. They hold names and addresses, so they are deleted with the records (same retention).
 */
async function pruneEmlFiles(dir: string, before: Date): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names.filter((n) => n.endsWith('.eml'))) {
    const file = path.join(dir, name);
    try {
      if ((await stat(file)).mtime < before) {
        await unlink(file);
        removed += 1;
      }
    } catch {
      // Removed meanwhile (another process pruning): nothing to do.
    }
  }
  return removed;
}

let current: Mailer | undefined;

/** Sets this process's mailer (buildApp does, from its config). Returns it. */
export function configureMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir' | 'isProduction' | 'baseUrl'>): Mailer {
  current?.close();
  current = createMailer(config);
  return current;
}

/** Closes this process's mailer (after the reminder runner stopped): its SMTP connections end now. */
export function closeMailer(): void {
  current?.close();
  current = undefined;
}

/** The process's mailer; disabled until configureMailer ran. */
export function getMailer(): Mailer {
  return current ?? createMailer({ smtpUrl: undefined, mailFrom: 'no-reply@localhost', dataDir: './data', isProduction: true, baseUrl: 'http://localhost' });
}

/** Logs where mail goes (the server does this once at start). */
export function logMailMode(mailer: Mailer, smtpUrl?: string): void {
  if (mailer.mode === 'smtp') logger.info({ smtp: describeSmtpUrl(smtpUrl ?? '') }, 'emails (reminders, password links, audit fingerprints) are sent through SMTP');
  else if (mailer.mode === 'file') logger.info({ outbox: mailer.outboxDir }, `no SMTP_URL: emails (reminders, password links, audit fingerprints) are written as .eml files to ${mailer.outboxDir}`);
  else logger.warn('no SMTP_URL in production: emails (reminders, password links, audit fingerprints) are disabled');
}
