import type { Express } from 'express';
import mongoose from 'mongoose';
import { loadConfig, type Config } from '../../src/config';
import { buildApp } from '../../src/app';
import { connectDatabase, type DatabaseHandle } from '../../src/shared/db';
import { configureLogger } from '../../src/shared/logger';
import { closeMailer } from '../../src/shared/mailer';

export type TestApp = { app: Express; config: Config; db: DatabaseHandle; close(): Promise<void> };

let counter = 0;

/**
 * The app on a database of its own: the embedded server in memory, or — when MONGODB_URI is set —
 * a fresh database on that real MongoDB (dropped at close). Each test file calls this once.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const realUri = process.env.MONGODB_URI;
  const dbName = `test_${process.env.JEST_WORKER_ID ?? '0'}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const config = loadConfig({ NODE_ENV: 'test', ...(realUri ? { MONGODB_URI: realUri } : {}), ...env });
  configureLogger(config.logLevel);
  const db = await connectDatabase({ mongodbUri: config.mongodbUri, dbName });
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  const app = buildApp(config);
  return {
    app,
    config,
    db,
    async close() {
      // Ends the app's pooled SMTP connections, so a test's smtp-server stops at once.
      closeMailer();
      if (!db.embedded) await mongoose.connection.dropDatabase();
      await db.close();
    },
  };
}

/** Empties every collection between tests (cheaper than a new server). */
export async function clearDatabase(): Promise<void> {
  const collections = await mongoose.connection.db!.collections();
  await Promise.all(collections.map((c) => c.deleteMany({})));
}
