/**
 * `npm run bench -- scenario-step [--same-thread]`: what one learner's scenario step costs, against the
 * framework floor, on this machine, in one run (under 2 minutes, loopback only).
 *
 * A step is what a learner's click costs: POST the decision (session, actor, one update conditional on the
 * position the form was rendered at, 303) and GET the next node the redirect points to (session, actor,
 * attempt read, render). Sessions and the signed-in person come from short per-process memos after the
 * first read (SESSION_CACHE_MS=0 in the environment turns the session cache off for comparison). The
 * floor is a bare Express + EJS render of the same play template with the same (precomputed) data: no
 * session, no database. For reference a "bare step" is measured too: the same two requests (a form POST
 * answered 303, then that render) with no app in between — the most a PRG step can reach on this machine —
 * and one signed-in page of the app that does no database work (the quick-reference card, session and
 * person from memory): what the app's middleware alone leaves of the floor.
 * The real app runs with the embedded database on its own thread (as `npm start`
 * runs it, and as production has MongoDB in another process), compiled templates cached as in production,
 * logging silent. Load generators run on worker threads so they do not share the server's event loop.
 *
 * (a) Throughput, closed loop (50 connections, no think time: a saturation test): floor renders/s and
 *     real steps/s are measured in alternating rounds (floor, bare step, real, …) so a neighbour's load
 *     hits both; the ratio reported is the median of the per-round ratios. Target: steps/s ≥ 50 % of
 *     floor renders/s.
 * (b) Latency at 50 concurrent learners: each learner reads for 1–3 s (uniform), then steps (POST + GET).
 *     p50/p99 per step (POST + GET, what the learner waits for) and per request. Target: step p99 < 50 ms.
 *     (Closed-loop p99 at 50 connections is queueing, not service time: by Little's law, p99 < 50 ms there
 *     would need well over 1,000 req/s.)
 * Learners are never reset artificially: content modules are acyclic, so whoever reaches the results
 * posts Start and plays the module again, as a retake does (the final decision of each play-through also
 * runs the completion transaction). Nothing is faked.
 * For each closed-loop round the app's thread's busy time (event-loop utilisation) is divided by the requests
 * answered: the work each request costs that thread, independent of how the two cores were shared with the
 * load generator and the database thread in that round.
 * Then a sequential breakdown (one learner, one request at a time, medians) separates the fixed cost of
 * any signed-in page from the player's own work. `--same-thread` adds a closed-loop run with the database
 * on the app's thread, for comparison.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { performance as perfHooks } from 'node:perf_hooks';
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
const LEARNERS = 50;
const ROUNDS = 3;
const ROUND_S = 5;
const WARMUP_S = 2;
const THINK_S = 24;
const THINK_MIN_MS = 1000;
const THINK_MAX_MS = 3000;
const TARGET_RATIO = 50;
const TARGET_STEP_P99_MS = 50;
const PASSWORD = 'Bench-Password-2026!';

type Summary = { rps: number; p50: number; p99: number; requests: number; errors: number; timeouts: number; statuses: Record<string, number>; stale: number; restarts: number; busyMs: number };

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
const FLOOR_BODY = '_csrf=' + 'f'.repeat(128) + '&step=3&at=v1.0.node.first&choice=notify';
const requests = mode === 'floor' ? [{ method: 'GET', path: '/floor', onResponse: (status) => count(status) }]
  : mode === 'prg-floor' ? [
    { method: 'POST', path: '/floor/move', body: FLOOR_BODY, headers: { 'content-type': 'application/x-www-form-urlencoded' }, onResponse: (status) => count(status) },
    { method: 'GET', path: '/floor', onResponse: (status) => count(status) },
  ] : mode === 'signed-in' ? [
    {
      method: 'GET',
      path: '/training/' + slug + '/card',
      learner: {},
      setupRequest(req, ctx) {
        if (!req.learner.user) req.learner.user = users[nextUser++ % users.length];
        req.headers = { cookie: req.learner.user.cookie, accept: 'text/html' };
        return req;
      },
      onResponse: (status) => count(status),
    },
  ] : [
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
      const at = /name="at" value="([^"]+)"/.exec(body);
      ctx.step = step ? step[1] : undefined;
      ctx.choice = choice ? choice[1] : undefined;
      ctx.at = at ? at[1] : undefined;
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
        req.body = '_csrf=' + csrf + '&step=' + ctx.step + (ctx.at ? '&at=' + ctx.at : '') + (ctx.choice ? '&choice=' + ctx.choice : '');
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

const eventLoopUtilization = perfHooks.eventLoopUtilization.bind(perfHooks);

function load(mode: 'floor' | 'prg-floor' | 'signed-in' | 'real', url: string, duration: number, users: { cookie: string; csrf: string }[] = []): Promise<Summary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { mode, url, slug: SLUG, users, duration, connections: CONNECTIONS, autocannonPath: require.resolve('autocannon') },
    });
    // The servers' thread (this one) is busy for this long during the round: its work per request, whatever
    // the load generator's and the database thread's share of the two cores.
    const before = eventLoopUtilization();
    worker.once('message', (summary: Omit<Summary, 'busyMs'>) => {
      resolve({ ...summary, busyMs: summary.requests > 0 ? eventLoopUtilization(before).active / summary.requests : NaN });
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
  for (let round = 0; round < 100; round += 1) {
    await time('floor: bare EJS render of the play page', () => fetch(`${floorUrl}/floor`));
    await time('GET /healthz (no session)', () => fetch(`${url}/healthz`));
    await time('GET card (signed in: session, memoised user/names, render)', () => fetch(`${url}/training/${SLUG}/card`, { headers }));
    const page = await time('GET play (the above + attempt read)', () => fetch(`${url}/training/${SLUG}/play`, { headers }));
    const step = /name="step" value="(\d+)"/.exec(page)?.[1];
    const choice = /name="choice" value="([^"]+)"/.exec(page)?.[1];
    const at = /name="at" value="([^"]+)"/.exec(page)?.[1];
    const body = new URLSearchParams({ _csrf: learner.csrf });
    if (step !== undefined) body.set('step', step);
    if (at) body.set('at', at);
    if (choice) body.set('choice', choice);
    const target = step === undefined ? 'start' : 'play';
    await time('POST move (session, one conditional update, 303)', () => fetch(`${url}/training/${SLUG}/${target}`, { method: 'POST', body, headers, redirect: 'manual' }));
  }
  return Object.entries(times).map(([label, values]) => [label, median(values)]);
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

type Placement = 'same-thread' | 'own-thread';

type ThinkSummary = { steps: number; step: { p50: number; p99: number }; request: { p50: number; p99: number }; post: { p50: number; p99: number }; get: { p50: number; p99: number }; statuses: Record<string, number>; errors: number; stale: number };

// Runs inside a worker thread (plain CommonJS): LEARNERS virtual learners, each reads for THINK_MIN..MAX ms,
// then steps: POST the move its page offers (303), GET the page the redirect names. Latencies in ms.
const THINK_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, slug, users, durationMs, thinkMinMs, thinkMaxMs } = workerData;
const { hostname, port } = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: users.length });
const statuses = {};
let errors = 0, stale = 0;
const steps = [], requests = [], posts = [], gets = [];
function request(method, path, headers, body) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request({ hostname, port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - started;
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
        resolve({ status: res.statusCode, location: res.headers.location || '', body: Buffer.concat(chunks).toString(), ms });
      });
    });
    req.on('error', () => { errors++; resolve({ status: 0, location: '', body: '', ms: performance.now() - started }); });
    if (body) req.end(body); else req.end();
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function learner(user, endAt) {
  const get = (path) => request('GET', path, { cookie: user.cookie, accept: 'text/html' });
  let page = await get('/training/' + slug + '/play');
  await sleep(Math.random() * thinkMaxMs);
  while (performance.now() < endAt) {
    const step = /name="step" value="(\\d+)"/.exec(page.body);
    const choice = /name="choice" value="([^"]+)"/.exec(page.body);
    const at = /name="at" value="([^"]+)"/.exec(page.body);
    const csrf = '_csrf=' + encodeURIComponent(user.csrf);
    const body = step ? csrf + '&step=' + step[1] + (at ? '&at=' + at[1] : '') + (choice ? '&choice=' + choice[1] : '') : csrf;
    const post = await request('POST', '/training/' + slug + (step ? '/play' : '/start'), { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }, body);
    if (post.location.includes('notice=stale')) stale++;
    page = await get(post.location || '/training/' + slug + '/play');
    if (post.status === 303 && page.status === 200) {
      steps.push(post.ms + page.ms); posts.push(post.ms); gets.push(page.ms); requests.push(post.ms, page.ms);
    }
    await sleep(thinkMinMs + Math.random() * (thinkMaxMs - thinkMinMs));
  }
}
const pct = (values, p) => { const s = [...values].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN; };
const both = (values) => ({ p50: pct(values, 50), p99: pct(values, 99) });
const endAt = performance.now() + durationMs;
Promise.all(users.map((u) => learner(u, endAt))).then(() => {
  agent.destroy();
  parentPort.postMessage({ steps: steps.length, step: both(steps), request: both(requests), post: both(posts), get: both(gets), statuses, errors, stale });
});
`;

function thinkTimeLoad(url: string, users: { cookie: string; csrf: string }[]): Promise<ThinkSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THINK_SOURCE, {
      eval: true,
      workerData: { url, slug: SLUG, users, durationMs: THINK_S * 1000, thinkMinMs: THINK_MIN_MS, thinkMaxMs: THINK_MAX_MS },
    });
    worker.once('message', (summary: ThinkSummary) => {
      resolve(summary);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

type RealApp = { url: string; learners: { cookie: string; csrf: string }[]; close(): Promise<void> };

/** The real app on a fresh in-memory embedded database, with LEARNERS signed-in learners who have started the module. */
async function startReal(placement: Placement): Promise<RealApp> {
  // SESSION_CACHE_MS=0 npm run bench -- scenario-step: the same with every session read from the database.
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...(process.env.SESSION_CACHE_MS !== undefined ? { SESSION_CACHE_MS: process.env.SESSION_CACHE_MS } : {}) });
  const db = await connectDatabase({ dbName: 'bench_scenario_step', embeddedOnOwnThread: placement === 'own-thread' });
  await Promise.all(Object.values(mongoose.models).map((model) => model.init()));
  await prepareTrainingContent();
  // Compiled templates cached as in production (Express turns this on when NODE_ENV=production).
  const app = buildApp(config);
  app.set('view cache', true);
  const real = await listen(app);

  const district = await District.create({ name: 'Bench District', slug: 'bench' });
  const school = await School.create({ district: district._id, code: 'B1', name: 'Bench School' });
  const passwordHash = await hashPassword(PASSWORD);
  const users = await User.insertMany(
    Array.from({ length: Math.max(CONNECTIONS, LEARNERS) }, (_, i) => ({
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
  return {
    url: real.url,
    learners,
    async close() {
      await new Promise<void>((resolve) => {
        real.server.close(() => resolve());
        real.server.closeIdleConnections();
      });
      // Requests cut off when the load generator stopped may still be finishing their writes.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await db.close();
    },
  };
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))] ?? NaN;

function merge(rounds: Summary[]): Summary {
  const statuses: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    rps: quantile(rounds.map((r) => r.rps), 0.5),
    p50: quantile(rounds.map((r) => r.p50), 0.5),
    p99: Math.max(...rounds.map((r) => r.p99)),
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    timeouts: rounds.reduce((n, r) => n + r.timeouts, 0),
    statuses,
    stale: rounds.reduce((n, r) => n + r.stale, 0),
    restarts: rounds.reduce((n, r) => n + r.restarts, 0),
    busyMs: quantile(rounds.map((r) => r.busyMs), 0.5),
  };
}

export default async function run(): Promise<void> {
  const withSameThread = process.argv.includes('--same-thread');
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
    schoolNames: ['Bench School'],
    title: header.title,
    header,
    view: stepView(module, attempt, r),
    errors: {},
    values: {},
    notice: undefined,
    update: undefined,
  };
  const floorApp = express();
  floorApp.set('view engine', 'ejs');
  floorApp.set('views', path.join(__dirname, '..', 'views'));
  floorApp.set('view cache', true);
  floorApp.get('/floor', (_req, res) => res.render('training/play', floorLocals));
  // The same step without the app: parse the posted form, answer 303 (the GET above is the next page).
  floorApp.post('/floor/move', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    res.redirect(303, typeof (req.body as { choice?: unknown }).choice === 'string' ? '/floor' : '/floor?x');
  });
  const floor = await listen(floorApp);
  // The floor must be the real page: a template that fails (a local it lacks) would answer a cheap 500 and
  // make every ratio meaningless. Check it once, and every status of every round below.
  const probe = await fetch(`${floor.url}/floor`);
  const probeBody = await probe.text();
  if (probe.status !== 200 || !probeBody.includes('name="step"')) throw new Error(`the floor page does not render (status ${probe.status}): fix floorLocals in bench/scenario-step.ts`);

  const started = performance.now();
  process.stdout.write(
    `scenario-step: ${os.cpus().length} CPU(s), load average ${os.loadavg()[0].toFixed(1)}; module ${SLUG} v${module.version}\n` +
      `  (a) closed loop, ${CONNECTIONS} connections: ${ROUNDS} alternating rounds of ${ROUND_S} s (floor, bare step, signed-in page, real) after ${WARMUP_S} s warm-ups\n` +
      `  (b) ${LEARNERS} learners reading ${THINK_MIN_MS / 1000}–${THINK_MAX_MS / 1000} s between steps, ${THINK_S} s\n`,
  );
  const real = await startReal('own-thread');
  await load('floor', floor.url, WARMUP_S);
  await load('real', real.url, WARMUP_S, real.learners.slice(0, CONNECTIONS));
  await load('prg-floor', floor.url, WARMUP_S);
  const floorRounds: Summary[] = [];
  const prgRounds: Summary[] = [];
  const signedInRounds: Summary[] = [];
  const realRounds: Summary[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    floorRounds.push(await load('floor', floor.url, ROUND_S));
    prgRounds.push(await load('prg-floor', floor.url, ROUND_S));
    signedInRounds.push(await load('signed-in', real.url, ROUND_S, real.learners.slice(0, CONNECTIONS)));
    realRounds.push(await load('real', real.url, ROUND_S, real.learners.slice(0, CONNECTIONS)));
  }
  // Requests cut off when the last closed-loop round stopped finish first (they would make pages stale).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const think = await thinkTimeLoad(real.url, real.learners.slice(0, LEARNERS));
  const breakdown = await sequentialBreakdown(real.url, floor.url, real.learners[0]);
  await real.close();

  let sameThread: Summary | undefined;
  if (withSameThread) {
    const same = await startReal('same-thread');
    await load('real', same.url, WARMUP_S, same.learners.slice(0, CONNECTIONS));
    sameThread = await load('real', same.url, ROUND_S * ROUNDS, same.learners.slice(0, CONNECTIONS));
    await same.close();
  }
  await new Promise<void>((resolve) => floor.server.close(() => resolve()));

  const ratios = realRounds.map((round, i) => (100 * (round.rps / 2)) / floorRounds[i].rps);
  const ratio = quantile(ratios, 0.5);
  const prgRatios = prgRounds.map((round, i) => (100 * (round.rps / 2)) / floorRounds[i].rps);
  const realOfPrg = realRounds.map((round, i) => (100 * round.rps) / prgRounds[i].rps);
  const floorAll = merge(floorRounds);
  const prgAll = merge(prgRounds);
  const signedInAll = merge(signedInRounds);
  const signedInRatios = signedInRounds.map((round, i) => (100 * round.rps) / floorRounds[i].rps);
  const realAll = merge(realRounds);
  // A page answers 200; only a step's POST answers 303. A signed-in page answering 303 (to the sign-in form)
  // would measure a redirect, not the page.
  for (const [label, summary, expected] of [['floor', floorAll, ['200']], ['bare step', prgAll, ['200', '303']], ['signed-in page', signedInAll, ['200']], ['real step', realAll, ['200', '303']]] as const) {
    const unexpected = Object.keys(summary.statuses).filter((status) => !(expected as readonly string[]).includes(status));
    if (unexpected.length) throw new Error(`${label}: unexpected statuses ${JSON.stringify(summary.statuses)} — the figures would not measure the page`);
  }
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const row = (label: string, cells: string[]) => `${label.padEnd(44)}${cells.map((c) => c.padStart(11)).join('')}`;
  const lines = [
    '',
    row('', ['req/s', 'steps/s', 'p50 ms', 'p99 ms', 'requests']),
    row('(a) floor: bare Express + EJS render', [fmt(floorAll.rps), '', fmt(floorAll.p50, 1), fmt(floorAll.p99, 1), String(floorAll.requests)]),
    row('    floor step: bare POST → 303 + render', [fmt(prgAll.rps), fmt(prgAll.rps / 2), fmt(prgAll.p50, 1), fmt(prgAll.p99, 1), String(prgAll.requests)]),
    row('    app, signed-in page, no database work', [fmt(signedInAll.rps), '', fmt(signedInAll.p50, 1), fmt(signedInAll.p99, 1), String(signedInAll.requests)]),
    row('(a) real step (POST + GET), closed loop', [fmt(realAll.rps), fmt(realAll.rps / 2), fmt(realAll.p50, 1), fmt(realAll.p99, 1), String(realAll.requests)]),
  ];
  if (sameThread) lines.push(row('    same, DB on the app thread', [fmt(sameThread.rps), fmt(sameThread.rps / 2), fmt(sameThread.p50, 1), fmt(sameThread.p99, 1), String(sameThread.requests)]));
  lines.push(
    row(`(b) ${LEARNERS} learners, think time: per step`, ['', fmt(think.steps / THINK_S, 1), fmt(think.step.p50, 1), fmt(think.step.p99, 1), String(think.steps)]),
    row('    per request (POST / GET)', [fmt((2 * think.steps) / THINK_S, 1), '', fmt(think.request.p50, 1), fmt(think.request.p99, 1), String(2 * think.steps)]),
    row('    POST decision → 303', ['', '', fmt(think.post.p50, 1), fmt(think.post.p99, 1), '']),
    row('    GET next node → 200', ['', '', fmt(think.get.p50, 1), fmt(think.get.p99, 1), '']),
    '',
    `Throughput: steps/s ÷ floor renders/s = ${fmt(ratio, 1)} % (median of rounds ${ratios.map((x) => fmt(x, 1)).join(', ')} %); target ≥ ${TARGET_RATIO} % → ${verdict(ratio >= TARGET_RATIO)}`,
    `  for reference: the same two requests with no app at all (bare POST → 303, then the render) = ${fmt(quantile(prgRatios, 0.5), 1)} % of the floor;`,
    `  the real step is ${fmt(quantile(realOfPrg, 0.5), 1)} % of that bare step (the rest is the app: session, sign-in, language, CSRF, logging, security headers, database);`,
    `  one signed-in page of the app with no database work at all (the quick-reference card: session and person from memory) = ${fmt(quantile(signedInRatios, 0.5), 1)} % of the floor`,
    `Work on the app's thread per request (event-loop busy time ÷ requests, median of rounds; the database has its own thread):`,
    `  floor render ${fmt(floorAll.busyMs, 2)} ms; signed-in page, no database work ${fmt(signedInAll.busyMs, 2)} ms; real step ${fmt(2 * realAll.busyMs, 2)} ms (POST + GET)`,
    `  → if that thread were the only limit, steps/s ÷ floor renders/s would be ${fmt((100 * floorAll.busyMs) / (2 * realAll.busyMs), 1)} %`,
    `Latency: step p99 at ${LEARNERS} learners = ${fmt(think.step.p99, 1)} ms (per request ${fmt(think.request.p99, 1)} ms); target < ${TARGET_STEP_P99_MS} ms → ${verdict(think.step.p99 < TARGET_STEP_P99_MS)}`,
    `  closed loop: statuses ${JSON.stringify(realAll.statuses)}, stale ${realAll.stale}, restarts ${realAll.restarts}, errors ${realAll.errors}, timeouts ${realAll.timeouts}; floor errors ${floorAll.errors}`,
    `  think time: statuses ${JSON.stringify(think.statuses)}, stale ${think.stale}, errors ${think.errors}`,
    '',
    'Where the time goes (one connection, sequential, median of 100):',
    ...breakdown.map(([label, ms]) => `  ${label.padEnd(62)} ${fmt(ms, 2).padStart(7)} ms`),
    '',
    `(${fmt((performance.now() - started) / 1000)} s; load average now ${os.loadavg()[0].toFixed(1)} — on a shared machine, compare ratios, not absolute figures)`,
    '',
  );
  process.stdout.write(lines.join('\n'));
}
