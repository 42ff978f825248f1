import path from 'node:path';
import express, { type Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { MongoStore } from 'connect-mongo';
import mongoose from 'mongoose';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import type { Config } from './config';
import { configureLogger, logger } from './shared/logger';
import { errorHandler, notFoundHandler } from './shared/error-handler';
import { languageMiddleware } from './shared/i18n';
import { csrfProtection, viewLocals } from './shared/view-locals';
import { headerSchoolNames } from './shared/header-school-names';
import { pingDatabase } from './shared/db';
import { CachedSessionStore } from './shared/session-cache';
import { authRouter, configurePassport, rememberLanguageChoice, requireAuth } from './components/auth';
import { ADMIN_SECTIONS, homeRouter } from './components/home';
import { accountRouter, usersRouter } from './components/users';
import { ownSchoolNames, schoolsRouter } from './components/schools';
import { settingsRouter } from './components/settings';
import { regionsRouter } from './components/regions';
import { modulesAdminRouter } from './components/modules-admin';
import { trainingRouter, verifyRouter } from './components/training';
import { assignmentsRouter } from './components/assignments';
import { reportsRouter } from './components/reports';
// Imported from its file: the audit component's index is imported by the features that record events.
import { auditRouter } from './components/audit/audit.routes';
import { sessionsRouter } from './components/sessions';
import { rosterRouter, rosterUpload } from './components/roster';
import { configureReminderRetention, remindersRouter } from './components/reminders';
import { configureMailer } from './shared/mailer';
import { redactIdTokenHint, redactSamlSloRedirect, redactSamlSloRequest, samlLogoutRouter, samlRouter, ssoFormActionSources, ssoRouter } from './components/sso';
import { scimAdminRouter, scimRouter } from './components/scim';
import { passwordResetRouter, redactResetPath } from './components/password-reset';
import { configureXapi, xapiAdminRouter } from './components/xapi';
import { configureLti, ltiAdminRouter, ltiPlatformRouter, redactLtiRedirect, redactLtiRequest } from './components/lti';

const root = path.join(__dirname, '..');
const SESSION_TOUCH_AFTER_S = 60;

/** Builds the app on an already-connected mongoose: middleware, routers, 404, error handler. No listen, no connect. */
export function buildApp(config: Config): Express {
  configureLogger(config.logLevel);
  configureMailer(config);
  configureReminderRetention(config.reminderRetentionDays);
  configureXapi(config);
  configureLti(config);
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(root, 'views'));
  app.locals.adminSections = ADMIN_SECTIONS;
  app.disable('x-powered-by');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // The SSO callback's query holds a one-time authorization code: it is logged without it.
      // An SSO sign-out redirects with the ID token in the URL (id_token_hint): logged without it (res).
      // A password-reset link's path holds its token: logged without it.
      // An LTI login initiation's query (login_hint) and its redirect (state, nonce): logged without them.
      // SAML Single Logout messages (they carry the NameID), in the query and in our redirects: logged without them.
      serializers: { req: (req: { url?: string }) => redactSamlSloRequest(redactLtiRequest(redactResetPath(req.url?.startsWith('/auth/oidc/callback') ? { ...req, url: '/auth/oidc/callback?[redacted]', query: '[redacted]' } : req))), res: (res: Parameters<typeof redactIdTokenHint>[0]) => redactSamlSloRedirect(redactLtiRedirect(redactIdTokenHint(res))) },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          // The SSO forms answer with a 303 to the identity provider (sign-in, sign-out): its origin too.
          formAction: ["'self'", ...ssoFormActionSources(config)],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: config.isProduction ? [] : null,
        },
      },
    }),
  );

  // Probes answer before sessions so load balancers do not create sessions.
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    const ok = await pingDatabase();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'database unavailable' });
  });
  app.use('/static/pico', express.static(path.join(root, 'node_modules/@picocss/pico/css'), { maxAge: '7d' }));
  app.use('/static', express.static(path.join(root, 'public'), { maxAge: config.isProduction ? '1d' : 0 }));

  // SCIM provisioning (bearer token, no session, no CSRF): answered here, before sessions, and never falls through.
  app.use('/scim/v2', scimRouter(config));

  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }));
  app.use(express.json({ limit: '64kb' }));
  app.use(
    session({
      name: 'sst.sid',
      // The first signs new cookies; earlier secrets (SESSION_SECRET_PREVIOUS) still verify, so a rotation signs nobody out.
      secret: [config.sessionSecret, ...config.previousSessionSecrets],
      resave: false,
      saveUninitialized: false,
      rolling: true,
      // touchAfter: a session read on every request is written back at most once a minute (not on every
      // request) unless it changed; the 8-hour expiry drifts by under a minute. Saves one write per request.
      // The cache answers repeat reads from memory for a few seconds (shared/session-cache.ts).
      store: new CachedSessionStore(
        MongoStore.create({ client: mongoose.connection.getClient(), collectionName: 'sessions', ttl: 8 * 60 * 60, autoRemove: 'native', touchAfter: SESSION_TOUCH_AFTER_S }),
        { ttlMs: config.sessionCacheMs, touchAfterMs: SESSION_TOUCH_AFTER_S * 1000 },
      ),
      cookie: { httpOnly: true, sameSite: 'lax', secure: config.isProduction, maxAge: 8 * 60 * 60 * 1000 },
    }),
  );
  const passport = configurePassport(config);
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(languageMiddleware);
  app.use(rememberLanguageChoice);
  app.use(viewLocals(config));
  app.use(headerSchoolNames(ownSchoolNames));
  // The roster file is multipart: parsed here (district admins only) so the CSRF check below can read its token.
  app.use(rosterUpload);
  // SAML sign-in: its assertion consumer is posted by the identity provider, without our CSRF token; it is
  // checked by the signed response instead (samlRouter says how). Its only POSTs (that and Single Logout's signed
  // messages), so it comes before the check.
  app.use(samlRouter(config));
  // LTI login and launch are cross-site posts from the LMS (no CSRF token possible): answered before the
  // CSRF check, protected by one-use state, the signed id_token and its nonce (components/lti/lti.routes.ts).
  app.use(ltiPlatformRouter(config));
  app.use(csrfProtection);

  // Public routes: sign-in, certificate verification.
  // SAML Single Logout's sign-out (POST /logout of a SAML session), behind the CSRF check like every form.
  app.use(samlLogoutRouter(config));
  app.use(ssoRouter(config));
  app.use(authRouter(config));
  app.use(passwordResetRouter(config));
  app.use(verifyRouter(config));

  // Everything below requires a signed-in user; each router adds its role gate.
  const signedIn = express.Router();
  signedIn.use(requireAuth);
  signedIn.use(homeRouter);
  signedIn.use(accountRouter);
  signedIn.use(trainingRouter);
  signedIn.use(reportsRouter);
  signedIn.use(remindersRouter);
  signedIn.use(assignmentsRouter);
  signedIn.use(usersRouter);
  signedIn.use(schoolsRouter);
  signedIn.use(regionsRouter);
  signedIn.use(settingsRouter);
  signedIn.use(modulesAdminRouter);
  signedIn.use(auditRouter);
  signedIn.use(sessionsRouter);
  signedIn.use(rosterRouter);
  signedIn.use(scimAdminRouter);
  signedIn.use(xapiAdminRouter);
  signedIn.use(ltiAdminRouter);
  app.use(signedIn);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
