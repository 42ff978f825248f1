import type { Server } from 'node:http';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { buildApp } from './app';
import { connectDatabase, type DatabaseHandle } from './shared/db';
import { configureLogger, logger } from './shared/logger';
import { prepareTrainingContent } from './components/training';
import { startComplianceJobRunner } from './components/assignments';
import { startDecisionTallyCatchUp, startExportJobRunner } from './components/reports';
import { startAuditAnchorRunner, startAuditSealer } from './components/audit';
import { settleResetMails } from './components/password-reset';
import { startReminderRunner } from './components/reminders';
import { startRosterImportRunner } from './components/roster';
import { rewrapFeedSecrets, startXapiRunner } from './components/xapi';
import { rewrapToolKeys, startLtiAgsRunner } from './components/lti';
import { closeMailer, getMailer, logMailMode } from './shared/mailer';

export type RunningServer = { config: Config; db: DatabaseHandle; server: Server; url: string; close(): Promise<void> };

/**
 * After a rotation of XAPI_SECRET_KEY (the old key moved to XAPI_SECRET_KEY_PREVIOUS; docs/rotation.md): the LRS
 * secrets and LTI tool keys the old key encrypted are encrypted again with the new one, once at start (buildApp has
 * configured both components). What is left unreadable is logged.
 */
async function rewrapStoredSecrets(config: Config): Promise<void> {
  if (config.previousXapiSecretKeys.length === 0) return;
  let feeds, toolKeys;
  try {
    [feeds, toolKeys] = await Promise.all([rewrapFeedSecrets(), rewrapToolKeys()]);
  } catch (err) {
    // Not fatal: every reader still opens them with the earlier key; the next start tries again.
    return logger.error({ err }, 'stored secrets could not be encrypted again with the current XAPI_SECRET_KEY');
  }
  logger.info({ lrsSecrets: feeds.rewrapped, ltiToolKeys: toolKeys.rewrapped }, 'stored secrets encrypted again with the current XAPI_SECRET_KEY');
  const unreadable = feeds.unreadable + toolKeys.unreadable;
  if (unreadable > 0) logger.warn({ lrsSecrets: feeds.unreadable, ltiToolKeys: toolKeys.unreadable }, 'stored secrets that neither XAPI_SECRET_KEY nor XAPI_SECRET_KEY_PREVIOUS opens: enter the LRS secret again on /admin/xapi; for a tool key see docs/lti.md');
}

/**
 * Connects, validates the training content, starts the compliance job runner, listens. The database is
 * the embedded server unless MONGODB_URI is set.
 */
export async function startServer(config: Config, options: { beforeListen?: () => Promise<void> } = {}): Promise<RunningServer> {
  configureLogger(config.logLevel);
  const db = await connectDatabase({
    mongodbUri: config.mongodbUri,
    embeddedDataDir: config.env === 'test' ? undefined : path.join(config.dataDir, 'db'),
  });
  try {
    await prepareTrainingContent();
    await options.beforeListen?.();
  } catch (err) {
    await db.close();
    throw err;
  }
  // Background compliance work (assignment changes, rebuilds) queued by any instance; see compliance-jobs.ts.
  const jobs = startComplianceJobRunner();
  // Exports prepared in the background (any instance serves the file from GridFS); see export-jobs.ts.
  const exportJobs = startExportJobRunner();
  // Roster imports applied in the background (any instance takes over a dead one's); see roster-jobs.ts.
  const rosterImports = startRosterImportRunner();
  // Chains new audit events for tamper evidence; see audit-chain.ts.
  const sealer = startAuditSealer();
  const app = buildApp(config);
  await rewrapStoredSecrets(config);
  // Reminder emails: the outbox and the automatic sweep, in every instance; see components/reminders.
  logMailMode(getMailer(), config.smtpUrl);
  const reminders = startReminderRunner();
  // Emails each district's audit-chain head to its chosen addresses once a day it moved; see audit-anchor.ts.
  const anchors = startAuditAnchorRunner();
  // Sends each district's decisions and results to its learning record store; see components/xapi.
  const xapi = startXapiRunner();
  // Sends LMS gradebook scores (LTI grade passback) for finished attempts; see components/lti/lti-ags-delivery.ts.
  const ags = startLtiAgsRunner();
  // Decision tallies for district/module versions that have none yet (attempts from before them, seeds); see
  // components/reports/decision-tallies.catch-up.ts.
  const tallies = startDecisionTallyCatchUp();
  // Password links being sent when the server stops are finished first (the request already answered).
  const stopMail = () => Promise.all([reminders.stop(), anchors.stop(), settleResetMails()]).then(closeMailer);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      // Express 5 calls app.listen's callback on an error too (EADDRINUSE …): check the argument, or a port held
      // by another process would be logged as "server listening" while nothing listens.
      const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    await Promise.all([xapi.stop(), ags.stop(), tallies.stop(), jobs.stop(), exportJobs.stop(), rosterImports.stop(), sealer.stop(), stopMail()]);
    await db.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // A loopback or all-interfaces host is printed as localhost, the host of the default BASE_URL: a browser opened
  // on 127.0.0.1 would post SSO responses and LTI launches to another host (localhost) than its cookies'.
  const url = `http://${['0.0.0.0', '127.0.0.1', '::', '::1'].includes(config.host) ? 'localhost' : config.host}:${port}`;
  logger.info({ url, database: db.embedded ? 'embedded' : 'MONGODB_URI' }, 'server listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish and the running compliance job finish its current
      // batch (the job is handed back for the next instance), then close the database.
      // The mailer's pooled SMTP connections are closed once the reminder and anchor runners sent their last message.
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), xapi.stop(), ags.stop(), tallies.stop(), jobs.stop(), exportJobs.stop(), rosterImports.stop(), sealer.stop(), stopMail()]);
      server.closeIdleConnections();
      await db.close();
    })());
  return { config, db, server, url, close };
}

export function runUntilSignal(running: RunningServer): void {
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    running.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

export function installFatalHandlers(): void {
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
}

export function failStartup(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    logger.fatal({ err }, 'startup failed');
    process.stderr.write(`Startup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
}

if (require.main === module) {
  installFatalHandlers();
  Promise.resolve()
    .then(() => startServer(loadConfig()))
    .then(runUntilSignal)
    .catch(failStartup);
}
