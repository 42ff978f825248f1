/**
 * `npm run seed`: creates or updates the demo district in the configured database (MONGODB_URI, else
 * the embedded server's data directory). Refused in production. Stop `npm start` first when using the
 * embedded database: one process owns its data directory.
 */
import path from 'node:path';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/shared/db';
import { failStartup, installFatalHandlers } from '../src/server';
import { DEMO_PASSWORD, DEMO_SIGN_INS, seedDemo } from './demo';

installFatalHandlers();
Promise.resolve()
  .then(async () => {
    const config = loadConfig();
    if (config.isProduction) throw new Error('Refusing to seed demo data when NODE_ENV=production.');
    const db = await connectDatabase({ mongodbUri: config.mongodbUri, embeddedDataDir: path.join(config.dataDir, 'db') });
    try {
      await seedDemo();
    } finally {
      await db.close();
    }
    process.stdout.write(
      [
        `Demo district seeded (${db.embedded ? `embedded database in ${config.dataDir}/db` : 'MONGODB_URI'}).`,
        `Sign in with any of these (password ${DEMO_PASSWORD}):`,
        ...DEMO_SIGN_INS.map((s) => `  ${s.role.padEnd(16)} ${s.email}`),
        '',
      ].join('\n'),
    );
  })
  .catch(failStartup);
