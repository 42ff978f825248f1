/**
 * `npm run bench -- dashboard`: server time of the district page (1,300 schools / 74,000 staff) and of a
 * school page, through the whole HTTP stack (session, scoping, summaries or rows, EJS), signed in as
 * the district admin and a principal; and the decision insights page (district and school, from the decision tallies;
 * the former scan of the attempts timed once for comparison). The database is the embedded server in memory in this process
 * (or MONGODB_URI if set), seeded by seed/seed-large.ts. Targets: district < 1 s, school < 200 ms.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { openBenchDatabase, seedDistrict, summarize } from './lib/large-district';
import { Region } from '../src/components/regions';
import { scanFinishedDecisions } from '../src/components/completions';
import { TrainingModule } from '../src/components/training';

type Session = { get(path: string): Promise<{ status: number; ms: number; bytes: number }> };

async function signIn(base: string, email: string): Promise<Session> {
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, value] = pair.split('=');
      cookies.set(name, value);
    }
  };
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${base}/login`);
  keep(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: header() },
    body: new URLSearchParams({ _csrf: csrf, email, password: 'Demo-Training-2026!' }),
  });
  if (res.status !== 303) throw new Error(`sign-in failed for ${email}: ${res.status}`);
  keep(res);
  return {
    async get(path: string) {
      const started = performance.now();
      const r = await fetch(`${base}${path}`, { headers: { cookie: header(), accept: 'text/html' }, redirect: 'manual' });
      const body = await r.arrayBuffer();
      return { status: r.status, ms: performance.now() - started, bytes: body.byteLength };
    },
  };
}

async function time(session: Session, path: string, runs: number, target: number, beforeEach?: () => void): Promise<void> {
  beforeEach?.();
  const first = await session.get(path);
  if (first.status !== 200) throw new Error(`${path} answered ${first.status}`);
  const ms: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    beforeEach?.();
    ms.push((await session.get(path)).ms);
  }
  const s = summarize(ms);
  const verdict = s.p95 < target ? 'ok' : 'MISSED';
  process.stdout.write(`  ${path.padEnd(58)} first ${first.ms.toFixed(0).padStart(5)} ms · median ${s.median.toFixed(0).padStart(4)} ms · p95 ${s.p95.toFixed(0).padStart(4)} ms · ${(first.bytes / 1024).toFixed(0)} KB  [target < ${target} ms: ${verdict}]\n`);
}

export default async function run(): Promise<void> {
  const db = await openBenchDatabase();
  process.stdout.write(`database: ${db.embedded ? 'embedded, in memory, in this process' : 'MONGODB_URI'}\n`);
  const server = http.createServer(buildApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' })));
  try {
    const seeded = await seedDistrict(1_300, 74_000);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = await signIn(base, 'admin@large-demo.example');
    const principal = await signIn(base, 'principal1@large-demo.example');
    const school = String(seeded.schoolIds[0]);
    process.stdout.write('\nDistrict page (district admin)\n');
    await time(admin, '/district', 20, 1000);
    await time(admin, '/district?module=foundations&status=overdue', 20, 1000);
    await time(admin, '/district?sort=name&page=40', 20, 1000);
    // One of the six regions seed-large makes, and the schools without one.
    const south = await Region.findOne({ district: seeded.districtId, code: 'SOUTH' }).orFail();
    await time(admin, `/district?region=${String(south._id)}`, 20, 1000);
    await time(admin, '/district?region=none&module=foundations', 20, 1000);
    process.stdout.write('\nSchool page (principal)\n');
    await time(principal, `/school/${school}`, 30, 200);
    await time(principal, `/school/${school}?status=overdue&sort=due`, 30, 200);
    await time(principal, `/school/${school}/reminders`, 30, 200);
    process.stdout.write(`\nDecision insights (read from the tallies kept current as attempts finish; built by the seed in ${seeded.seconds['decision tallies'].toFixed(1)} s for every module version)\n`);
    await time(admin, '/reports/decisions?module=foundations', 20, 1000);
    await time(principal, `/reports/decisions?school=${school}&module=foundations`, 30, 200);
    // For comparison, once: what the page did before the tallies — scan the district's finished attempts of the version.
    const latest = await TrainingModule.findOne({ slug: 'foundations' }, { version: 1 }).sort({ version: -1 }).orFail().lean();
    const started = performance.now();
    const scanned = await scanFinishedDecisions({ district: seeded.districtId, moduleSlug: 'foundations', moduleVersion: latest.version });
    const attempts = [...scanned.values()].reduce((n, f) => n + f.attempts, 0);
    process.stdout.write(`  the former scan of the same figures (${attempts} finished attempts), once: ${(performance.now() - started).toFixed(0)} ms\n`);
    process.stdout.write('\nSchool page (district admin, any school)\n');
    await time(admin, `/school/${String(seeded.schoolIds[649])}`, 30, 200);
  } finally {
    server.close();
    await db.close();
  }
}
