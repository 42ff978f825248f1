import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo/index';

/**
 * Where a conformance test file runs: the embedded server (in memory, one per file) by default, or the
 * real MongoDB named by MONGODB_URI. Each file gets its own database; everything opened here is closed
 * by `close()`.
 */
export interface Target {
  /** True against the embedded server: tests assert its refusals there and real behaviour otherwise. */
  embedded: boolean;
  uri: string;
  dbName: string;
  server?: EmbeddedMongo;
  client(): Promise<MongoClient>;
  db(): Promise<Db>;
  mongoose(): Promise<Connection>;
  close(): Promise<void>;
}

export async function openTarget(tag: string, options: { ttlIntervalMs?: number } = {}): Promise<Target> {
  const external = process.env.MONGODB_URI;
  const server = external ? undefined : await startEmbeddedMongo({ ttlIntervalMs: options.ttlIntervalMs ?? 200, logger: () => {} });
  const uri = external ?? server!.uri;
  const dbName = `conformance_${tag}_${randomBytes(4).toString('hex')}`;
  const clients: MongoClient[] = [];
  const conns: Connection[] = [];
  let shared: MongoClient | undefined;
  const client = async (): Promise<MongoClient> => {
    const c = await MongoClient.connect(uri);
    clients.push(c);
    return c;
  };
  return {
    embedded: !external,
    uri,
    dbName,
    server,
    client,
    async db() {
      shared ??= await client();
      return shared.db(dbName);
    },
    async mongoose() {
      const conn = await mongoose.createConnection(uri, { dbName }).asPromise();
      conns.push(conn);
      return conn;
    },
    async close() {
      if (external) {
        const c = shared ?? (await client());
        await c.db(dbName).dropDatabase();
      }
      await Promise.all(conns.map((c) => c.close()));
      await Promise.all(clients.map((c) => c.close()));
      await server?.stop();
    },
  };
}
