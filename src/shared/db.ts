import path from 'node:path';
import mongoose from 'mongoose';
import { startEmbeddedMongo, startEmbeddedMongoInWorker } from '../embedded-mongo';
import { logger } from './logger';

export type DatabaseHandle = {
  uri: string;
  embedded: boolean;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  /** A real MongoDB; when absent the embedded server is started. */
  mongodbUri?: string;
  /** Where the embedded server keeps its data; absent means in memory (tests). */
  embeddedDataDir?: string;
  dbName?: string;
  /**
   * Run the embedded server on a worker thread (the default), as a separate mongod would run: the app's
   * event loop then pays only the driver's side of each command and the server's work runs on another
   * core. `false` keeps it on the app's thread (for comparison in benchmarks).
   */
  embeddedOnOwnThread?: boolean;
};

/**
 * The only place that decides between a real MongoDB and the embedded server.
 * Everything else talks to mongoose's default connection and cannot tell which it has.
 */
export async function connectDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  mongoose.set('strictQuery', true);
  if (options.mongodbUri) {
    await mongoose.connect(options.mongodbUri, { dbName: options.dbName, autoIndex: true });
    return { uri: options.mongodbUri, embedded: false, close: () => mongoose.disconnect() };
  }
  const start = options.embeddedOnOwnThread === false ? startEmbeddedMongo : startEmbeddedMongoInWorker;
  const server = await start({
    ...(options.embeddedDataDir ? { dataDir: path.resolve(options.embeddedDataDir) } : {}),
    logger: (level, msg, fields) => logger[level](fields ?? {}, msg),
  });
  const uri = `${server.uri.replace(/\/$/, '')}/${options.dbName ?? 'safe_schools'}`;
  logger.info({ uri, dataDir: options.embeddedDataDir ?? 'memory', thread: options.embeddedOnOwnThread === false ? 'app' : 'worker' }, 'embedded MongoDB-compatible server started');
  await mongoose.connect(uri, { autoIndex: true });
  return {
    uri,
    embedded: true,
    async close() {
      await mongoose.disconnect();
      await server.stop();
    },
  };
}

export function isDatabaseReady(): boolean {
  return mongoose.connection.readyState === 1;
}

export async function pingDatabase(): Promise<boolean> {
  try {
    const db = mongoose.connection.db;
    if (!db) return false;
    await db.admin().ping();
    return true;
  } catch {
    return false;
  }
}
