import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { EmbeddedMongo, EmbeddedMongoOptions } from './index';

type LogLevel = 'info' | 'warn' | 'error';
type FromWorker =
  | { type: 'started'; uri: string; port: number }
  | { type: 'failed'; message: string; stack?: string }
  | { type: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { type: 'stopped' };

// Plain CommonJS run by the worker: loads this folder's index (through tsx when the sources are .ts, as
// under `tsx` and jest), starts the server there and answers `stop`. SQLite is opened, written and closed
// on the worker's thread, so a write is acknowledged on the wire only after it is stored, exactly as
// in-thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx).register();
const { startEmbeddedMongo } = require(workerData.entry);
const logger = (level, msg, fields) => parentPort.postMessage({ type: 'log', level, msg, fields });
startEmbeddedMongo({ ...workerData.options, logger }).then(
  (server) => {
    parentPort.on('message', (message) => {
      if (message && message.type === 'stop') {
        server.stop().then(
          () => parentPort.postMessage({ type: 'stopped' }),
          (err) => { logger('error', 'embedded-mongo: stop failed', { error: String(err) }); parentPort.postMessage({ type: 'stopped' }); },
        );
      }
    });
    parentPort.postMessage({ type: 'started', uri: server.uri, port: server.port });
  },
  (err) => parentPort.postMessage({ type: 'failed', message: String(err && err.message || err), stack: err && err.stack }),
);
`;

const stderrLogger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
  process.stderr.write(JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n');
};

/**
 * Starts the embedded server on a worker thread of this process: the app's thread then pays only the
 * driver's side of each command, as with a separate mongod, and two cores work in parallel. Same result
 * as `startEmbeddedMongo` (`uri`, `port`, `stop()`); `stop()` closes the server and its data file on the
 * worker's thread, then ends the worker. If the worker dies, its error is logged and clients see a closed
 * server (as when mongod goes away); the process itself keeps running. `logger` stays on this thread:
 * the worker's log lines are forwarded to it.
 */
export async function startEmbeddedMongoInWorker(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const { logger, ...workerOptions } = options;
  const log = logger ?? stderrLogger;
  const isTypeScript = __filename.endsWith('.ts');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    name: 'embedded-mongo',
    workerData: {
      entry: path.join(__dirname, isTypeScript ? 'index.ts' : 'index.js'),
      tsx: isTypeScript ? require.resolve('tsx/cjs/api') : undefined,
      options: workerOptions,
    },
  });

  let exited = false;
  let stopping = false;
  const exit = new Promise<number>((resolve) => worker.once('exit', (code) => { exited = true; resolve(code); }));
  let onStopped: (() => void) | undefined;

  const started = new Promise<{ uri: string; port: number }>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'log') log(message.level, message.msg, message.fields);
      else if (message.type === 'started') resolve({ uri: message.uri, port: message.port });
      else if (message.type === 'failed') reject(Object.assign(new Error(message.message), { stack: message.stack ?? message.message }));
      else if (message.type === 'stopped') onStopped?.();
    });
    worker.on('error', (err) => {
      log('error', 'embedded-mongo: worker failed', { error: String(err), stack: err.stack });
      reject(err);
    });
    void exit.then((code) => {
      if (!stopping) log('error', 'embedded-mongo: worker exited', { code });
      reject(new Error(`embedded-mongo worker exited with code ${code} before it started`));
    });
  });

  let address: { uri: string; port: number };
  try {
    address = await started;
  } catch (err) {
    stopping = true;
    await worker.terminate();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    uri: address.uri,
    port: address.port,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (!exited) {
          await new Promise<void>((resolve) => {
            onStopped = resolve;
            void exit.then(() => resolve());
            worker.postMessage({ type: 'stop' });
          });
        }
        await worker.terminate();
      })();
      return stopped;
    },
  };
}
