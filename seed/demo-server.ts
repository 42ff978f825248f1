/**
 * `npm start`: the app on the embedded database (./data/db) with the demo district seeded when the
 * database is empty, printing how to sign in as each role. Production runs src/server.ts (`npm run serve`).
 */
import { loadConfig } from '../src/config';
import { failStartup, installFatalHandlers, runUntilSignal, startServer } from '../src/server';
import { DEMO_PASSWORD, DEMO_SIGN_INS, seedDemoIfEmpty } from './demo';
import { startDemoIdp } from './demo-oidc';

installFatalHandlers();
Promise.resolve()
  .then(async () => {
    let config = loadConfig();
    if (config.isProduction) throw new Error('npm start runs the demo; in production use `npm run serve`.');
    // DEMO_OIDC=1: a local identity provider for the demo accounts, to try "Sign in with …" (docs/sso.md).
    const demoIdp = config.demoOidc ? await startDemoIdp(config, DEMO_SIGN_INS.map((s) => s.email)) : undefined;
    if (demoIdp) config = demoIdp.config;
    let seeded = false;
    const running = await startServer(config, {
      beforeListen: async () => {
        if (config.seedDemo) seeded = await seedDemoIfEmpty();
      },
    });
    const lines = [
      '',
      `Safe Schools Training is running at ${running.url}`,
      running.db.embedded ? `Database: embedded MongoDB-compatible server, data in ${config.dataDir}/db` : 'Database: MONGODB_URI',
      seeded ? 'The database was empty: the demo district was created.' : '',
      '',
      `Demo sign-ins (password for all: ${DEMO_PASSWORD}):`,
      ...DEMO_SIGN_INS.map((s) => `  ${s.role.padEnd(16)} ${s.email}${s.note ? `  (${s.note})` : ''}`),
      '',
      ...(demoIdp
        ? [`Single sign-on: a demo identity provider runs at ${demoIdp.issuer}. Click "Sign in with Demo IdP" and type a demo email as the login (any password).`, '']
        : []),
      'Stop with Ctrl+C.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
    runUntilSignal(running);
  })
  .catch(failStartup);
