/**
 * `npm run bench -- scenario-step`: the cost of one scenario step against the framework floor.
 *
 * One process: the embedded database (in memory) and the real app on a random loopback port, plus a bare
 * Express + EJS app that renders the same play template with the same (precomputed) data and no database
 * work. autocannon runs in a worker thread so the load generator does not share the server's event loop.
 * The real thing runs twice: with the embedded database on the app's own thread (as `npm start` runs it)
 * and on a worker thread (as in production, where MongoDB is another process and the app pays only the
 * driver's side of each command).
 *
 * (a) The real thing, 50 connections, each its own signed-in learner (session cookie + CSRF token):
 *     GET /training/front-office/play (session, actor, attempt and district lookups, render), then POST the
 *     move the page offers (the first choice at a decision, Continue elsewhere) — a conditional
 *     findOneAndUpdate-style write, 303. A step is that GET + POST pair. Content modules are acyclic
 *     (the validator refuses loops), so learners are never reset artificially: whoever reaches the results
 *     posts Start and plays the module again, exactly as a retake does (about 1 request in 40; the final
 *     decision of each play-through also runs the completion transaction). Nothing is faked.
 * (b) The floor: GET of the bare render, 50 connections.
 *
 * Reports req/s, p50 and p99, steps/s, the ratio of steps/s to floor renders/s (the target: ≥ 50 %, and
 * p99 < 50 ms per request at 50 connections), and a sequential per-request breakdown that separates the
 * fixed cost of any signed-in page (session, user, middleware) from the player's own work.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { loadConfig } from '../src/config';
import { buildApp } from '../src/app';
import { connectDatabase } from '../src/shared/db';
import os from 'node:os';
import mongoose from 'mongoose';
import { translator } from '../src/shared/i18n';
import { configureLogger } from '../src/shared/logger';
import { District } from '../src/components/districts';
import { School } from '../src/components/schools';
import { User } from '../src/components/users';
import { hashPassword } from '../src/components/auth';
import { DEFAULT_CONTENT_SETTINGS_BY_LANG, loadModuleCatalog } from '../src/components/content';
import { DEFAULT_MODULES_DIR, prepareTrainingContent } from '../src/components/training';
import { initialPosition } from '../src/components/training/training.progress';
import { createRenderer, moduleHeader, stepView } from '../src/components/training/training.view';
import type { AttemptView } from '../src/components/training/play.service';

const SLUG = 'front-office';
const CONNECTIONS = 50;
const DURATION_S = 10;
const WARMUP_S = 3;
const PASSWORD = 'Bench-Password-2026!';

type Summary = { rps: number; p50: number; p99: number; requests: number; errors: number; timeouts: number; statuses: Record<string, number>; stale: number; restarts: number };

// Runs inside the worker thread (plain CommonJS): autocannon with per-connection learners.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const autocannon = require(workerData.autocannonPath);
const { mode, url, slug, users, duration, connections } = workerData;
let nextUser = 0;
let stale = 0;
let restarts = 0;
const statuses = {};
const count = (status) => { statuses[status] = (statuses[status] || 0) + 1; };
const requests = mode === 'floor' ? [{ method: 'GET', path: '/floor', onResponse: (status) => count(status) }] : [
  {
    method: 'GET',
    path: '/training/' + slug + '/play',
    learner: {},
    setupRequest(req, ctx) {
      if (!req.learner.user) req.learner.user = users[nextUser++ % users.length];
      ctx.user = req.learner.user;
      req.headers = { cookie: ctx.user.cookie, accept: 'text/html' };
      return req;
    },
    onResponse(status, body, ctx) {
      count(status);
      const step = /name="step" value="(\\d+)"/.exec(body);
      const choice = /name="choice" value="([^"]+)"/.exec(body);
      ctx.step = step ? step[1] : undefined;
      ctx.choice = choice ? choice[1] : undefined;
    },
  },
  {
    method: 'POST',
    path: '/training/' + slug + '/play',
    setupRequest(req, ctx) {
      const csrf = encodeURIComponent(ctx.user.csrf);
      if (ctx.step === undefined) {
        req.path = '/training/' + slug + '/start';
        req.body = '_csrf=' + csrf;
      } else {
        req.path = '/training/' + slug + '/play';
        req.body = '_csrf=' + csrf + '&step=' + ctx.step + (ctx.choice ? '&choice=' + ctx.choice : '');
      }
      req.headers = { cookie: ctx.user.cookie, 'content-type': 'application/x-www-form-urlencoded' };
      return req;
    },
    onResponse(status, body, ctx, headers) {
      count(status);
      if (ctx.step === undefined) restarts++;
      if (String(headers.location || headers.Location || '').includes('notice=stale')) stale++;
    },
  },
];
autocannon({ url, connections, duration, requests }, (err, raw) => {
  let result = raw;
  if (err) throw err;
  // Inside a worker thread autocannon returns raw histograms (it assumes it is one of its own workers).
  if (!result.latency) result = autocannon.aggregateResult([result], { url, connections });
  parentPort.postMessage({
    rps: result.requests.total / duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    stale,
    restarts,
  });
});
`;

function load(mode: 'floor' | 'real', url: string, duration: number, users: { cookie: string; csrf: string }[] = []): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { mode, url, slug: SLUG, users, duration, connections: CONNECTIONS, autocannonPath: require.resolve('autocannon') },
    });
    worker.once('message', (summary: Summary) => {
      resolve(summary);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
    server.once('error', reject);
  });
}

function cookieOf(res: Response): string {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('sst.sid='));
  if (!header) throw new Error('no session cookie');
  return header.split(';')[0];
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Signs a learner in through the real form and starts the module; returns their cookie and CSRF token. */
async function signInLearner(url: string, email: string): Promise<{ cookie: string; csrf: string }> {
  const login = await fetch(`${url}/login`);
  const anonymous = cookieOf(login);
  const body = new URLSearchParams({ _csrf: csrfIn(await login.text()), email, password: PASSWORD });
  const signedIn = await fetch(`${url}/login`, { method: 'POST', body, headers: { cookie: anonymous }, redirect: 'manual' });
  if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status}`);
  const cookie = cookieOf(signedIn);
  const overview = await fetch(`${url}/training/${SLUG}`, { headers: { cookie } });
  const csrf = csrfIn(await overview.text());
  const start = await fetch(`${url}/training/${SLUG}/start`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf }), headers: { cookie }, redirect: 'manual' });
  if (start.status !== 303) throw new Error(`start failed: ${start.status}`);
  return { cookie, csrf };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? 0;
}

/**
 * One learner, one request at a time: the floor render, an unauthenticated probe, a signed-in page with no
 * training database work (the card: session, user and middleware only), the play page and a move.
 */
async function sequentialBreakdown(url: string, floorUrl: string, learner: { cookie: string; csrf: string }): Promise<[string, number][]> {
  const times: Record<string, number[]> = {};
  const time = async (label: string, request: () => Promise<Response>): Promise<string> => {
    const started = performance.now();
    const res = await request();
    const body = await res.text();
    (times[label] ??= []).push(performance.now() - started);
    return body;
  };
  const headers = { cookie: learner.cookie };
  for (let round = 0; round < 200; round += 1) {
    await time('(b) floor: bare EJS render of the play page', () => fetch(`${floorUrl}/floor`));
    await time('GET /healthz (no session)', () => fetch(`${url}/healthz`));
    await time('GET card (signed in: session, user, school names, render)', () => fetch(`${url}/training/${SLUG}/card`, { headers }));
    const page = await time('GET play (the above + attempt read)', () => fetch(`${url}/training/${SLUG}/play`, { headers }));
    const step = /name="step" value="(\d+)"/.exec(page)?.[1];
    const choice = /name="choice" value="([^"]+)"/.exec(page)?.[1];
    const body = new URLSearchParams({ _csrf: learner.csrf });
    if (step !== undefined) body.set('step', step);
    if (choice) body.set('choice', choice);
    const target = step === undefined ? 'start' : 'play';
    await time('POST move (session, user, attempt read, conditional update)', () => fetch(`${url}/training/${SLUG}/${target}`, { method: 'POST', body, headers, redirect: 'manual' }));
  }
  return Object.entries(times).map(([label, values]) => [label, median(values)]);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

type Placement = 'same-thread' | 'own-thread';

/** The embedded server on a worker thread of this process: the app then pays only the driver side, as with a real mongod. */
const DB_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
require('tsx/cjs/api').register();
const { startEmbeddedMongo } = require(workerData.entry);
startEmbeddedMongo({}).then((server) => {
  parentPort.postMessage({ uri: server.uri });
  parentPort.on('message', () => server.stop().then(() => parentPort.postMessage({ stopped: true })));
});
`;

async function connect(placement: Placement): Promise<{ close(): Promise<void> }> {
  if (placement === 'same-thread') return connectDatabase({ dbName: 'bench_scenario_step' });
  const worker = new Worker(DB_WORKER_SOURCE, { eval: true, workerData: { entry: path.join(__dirname, '../src/embedded-mongo/index.ts') } });
  const uri = await new Promise<string>((resolve, reject) => {
    worker.once('message', (message: { uri: string }) => resolve(message.uri));
    worker.once('error', reject);
  });
  await mongoose.connect(`${uri.replace(/\/$/, '')}/bench_scenario_step`, { autoIndex: true });
  return {
    async close() {
      await mongoose.disconnect();
      await new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('stop');
      });
      await worker.terminate();
    },
  };
}

type RealRun = { placement: Placement; load: Summary; breakdown: [string, number][] };

/** (a) for one placement of the database: seed, sign 50 learners in, load, then the sequential breakdown. */
async function measureReal(placement: Placement, floorUrl: string): Promise<RealRun> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const db = await connect(placement);
  await Promise.all(Object.values(mongoose.models).map((model) => model.init()));
  await prepareTrainingContent();
  // The real app, with compiled templates cached as in production (NODE_ENV=production turns this on).
  const app = buildApp(config);
  app.set('view cache', true);
  const real = await listen(app);

  const district = await District.create({ name: 'Bench District', slug: 'bench' });
  const school = await School.create({ district: district._id, code: 'B1', name: 'Bench School' });
  const passwordHash = await hashPassword(PASSWORD);
  const users = await User.insertMany(
    Array.from({ length: CONNECTIONS }, (_, i) => ({
      district: district._id,
      email: `learner${i}@bench.example`,
      name: `Learner ${i}`,
      role: 'staff',
      jobTitle: 'front_office',
      schools: [school._id],
      passwordHash,
    })),
  );
  const learners = await Promise.all(users.map((u) => signInLearner(real.url, u.email)));

  await load('real', real.url, WARMUP_S, learners);
  const result = await load('real', real.url, DURATION_S, learners);
  const breakdown = await sequentialBreakdown(real.url, floorUrl, learners[0]);

  await new Promise<void>((resolve) => {
    real.server.close(() => resolve());
    real.server.closeIdleConnections();
  });
  // Requests cut off when the load generator stopped may still be finishing their session writes.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await db.close();
  return { placement, load: result, breakdown };
}

export default async function run(): Promise<void> {
  configureLogger('silent');
  const modules = await loadModuleCatalog(DEFAULT_MODULES_DIR);
  const module = modules.getLatest(SLUG);
  if (!module) throw new Error(`module ${SLUG} not found`);

  // The floor: same template, same data, computed once; no session, no database.
  const r = createRenderer(DEFAULT_CONTENT_SETTINGS_BY_LANG.en, 'en');
  let position = initialPosition(module.content);
  for (let node = module.content.scenarios[0].nodes[position.nodeId]; node.type === 'narrative'; node = module.content.scenarios[0].nodes[position.nodeId]) {
    position = { ...position, nodeId: node.next, step: position.step + 1 };
  }
  const attempt: AttemptView = { id: 'bench', moduleVersion: module.version, status: 'in_progress', position, decisions: [], points: 0, maxPoints: 0 };
  const header = moduleHeader(module, r);
  const floorLocals = {
    lang: 'en',
    t: translator('en'),
    actor: { userId: '0'.repeat(24), districtId: '0'.repeat(24), role: 'staff', schoolIds: [], name: 'Bench Learner', email: 'b@x', jobTitle: 'front_office', language: 'en' },
    currentPath: `/training/${SLUG}/play`,
    csrfToken: () => 'f'.repeat(128),
    languageUrls: { en: `/training/${SLUG}/play?lang=en`, es: `/training/${SLUG}/play?lang=es` },
    baseUrl: 'http://localhost:3000',
    title: header.title,
    header,
    view: stepView(module, attempt, r),
    errors: {},
    values: {},
    notice: undefined,
  };
  const floorApp = express();
  floorApp.set('view engine', 'ejs');
  floorApp.set('views', path.join(__dirname, '..', 'views'));
  floorApp.set('view cache', true);
  floorApp.get('/floor', (_req, res) => res.render('training/play', floorLocals));
  const floor = await listen(floorApp);

  process.stdout.write(`scenario-step: ${CONNECTIONS} connections, ${DURATION_S}s each after a ${WARMUP_S}s warm-up; module ${SLUG} v${module.version}; ${os.cpus().length} CPU(s), load average ${os.loadavg()[0].toFixed(1)}\n`);
  await load('floor', floor.url, WARMUP_S);
  const floorResult = await load('floor', floor.url, DURATION_S);
  const runs: RealRun[] = [];
  for (const placement of ['same-thread', 'own-thread'] as const) runs.push(await measureReal(placement, floor.url));
  await new Promise<void>((resolve) => floor.server.close(() => resolve()));

  const row = (label: string, summary: Summary) =>
    `${label.padEnd(34)} ${fmt(summary.rps).padStart(7)} ${fmt(summary.p50).padStart(8)} ${fmt(summary.p99).padStart(8)}   ${summary.requests}`;
  const lines = ['', `${''.padEnd(34)}   req/s   p50 ms   p99 ms   requests`, row('(b) floor: bare Express + EJS', floorResult)];
  for (const run of runs) lines.push(row(`(a) step requests, DB ${run.placement}`, run.load));
  lines.push('');
  for (const run of runs) {
    const steps = run.load.rps / 2;
    const ratio = (100 * steps) / floorResult.rps;
    lines.push(
      `DB ${run.placement}: ${fmt(steps)} steps/s (GET + POST) = ${fmt(ratio, 1)} % of floor renders/s (per request ${fmt((100 * run.load.rps) / floorResult.rps, 1)} %);` +
        ` target ≥ 50 % and p99 < 50 ms → ${ratio >= 50 && run.load.p99 < 50 ? 'met' : 'NOT met'}`,
      `  statuses ${JSON.stringify(run.load.statuses)}, stale answers ${run.load.stale}, restarts ${run.load.restarts}, errors ${run.load.errors}, timeouts ${run.load.timeouts}`,
    );
  }
  lines.push(`floor: statuses ${JSON.stringify(floorResult.statuses)}, errors ${floorResult.errors}`, '');
  for (const run of runs) {
    lines.push(`Where the time goes, DB ${run.placement} (one connection, sequential, median of 200):`);
    lines.push(...run.breakdown.map(([label, ms]) => `  ${label.padEnd(62)} ${fmt(ms, 2).padStart(7)} ms`), '');
  }
  process.stdout.write(lines.join('\n'));
}
