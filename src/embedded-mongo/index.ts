import { ObjectId } from 'bson';
import { Engine } from './storage/engine';
import { listen, type Logger } from './wire/server';
import { startMaintenance } from './maintenance';
import { openSqliteStore } from './storage/sqlite-store';

export interface EmbeddedMongoOptions {
  /** Directory of the SQLite data file; without it data lives in memory only. */
  dataDir?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Interface to listen on; loopback unless told otherwise. */
  host?: string;
  /** How often expired TTL documents are deleted (mongod: 60 s). */
  ttlIntervalMs?: number;
  /** Replica set name advertised in hello. */
  replSetName?: string;
  logger?: Logger;
}

export interface EmbeddedMongo {
  uri: string;
  port: number;
  stop(): Promise<void>;
}

const stderrLogger: Logger = (level, msg, fields) => {
  process.stderr.write(JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n');
};

/** Starts the embedded MongoDB-compatible server; its URI works with the official driver and mongoose. */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? stderrLogger;
  const engine = new Engine();
  if (options.dataDir) {
    engine.store = openSqliteStore(options.dataDir, engine, (e) => log('error', 'embedded-mongo: folding the operation log failed', { error: String(e) }));
  }
  const advertised = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const setName = options.replSetName ?? 'rs0';
  let started;
  try {
    started = await listen(engine, {
      host: advertised,
      setName,
      electionId: new ObjectId('7fffffff0000000000000001'),
      startedAt: new Date(),
    }, host, options.port ?? 0, log);
  } catch (e) {
    engine.store?.close();
    throw e;
  }
  const { wire, port } = started;
  const maintenance = startMaintenance(engine, options.ttlIntervalMs ?? 1000, log);
  let stopped: Promise<void> | undefined;
  return {
    uri: `mongodb://${advertised.includes(':') ? `[${advertised}]` : advertised}:${port}/`,
    port,
    stop() {
      stopped ??= (async () => {
        maintenance.stop();
        await wire.close();
        engine.store?.close();
      })();
      return stopped;
    },
  };
}

export { startEmbeddedMongoInWorker } from './worker-host';
