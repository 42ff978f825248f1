import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';

/**
 * A small, real learning record store on localhost for the xAPI tests: the Statement Resource of xAPI 1.0.3
 * (POST and PUT /xapi/statements). It checks the version header and Basic authentication, validates each
 * statement's shape on its own (not with the app's schema, so a mistake there shows here), stores them,
 * answers with their ids, treats a resent identical statement as already stored and answers 409 for an id
 * it holds with a different statement. It can be told to fail the next requests (500, 429 with
 * Retry-After, 401 …), to store a batch and then drop the connection without answering, or to hold the next
 * POST until the test releases it (so a test can act while a batch is at the LRS).
 */
export type StoredStatement = Record<string, unknown> & { id: string; stored: string; authority: unknown };
type Failure = { status: number; retryAfter?: string; body?: string };

export type TestLrs = {
  /** The xAPI endpoint to configure: http://127.0.0.1:<port>/xapi/ */
  endpoint: string;
  key: string;
  secret: string;
  /** Accepted statements, in the order stored. */
  statements: StoredStatement[];
  /** Every request received: method, status answered, statement ids in it, its Authorization header. */
  requests: { method: string; status: number; ids: string[]; authorization: string | undefined; version: string | undefined }[];
  /** The next `times` requests are answered with this failure (nothing stored). */
  failNext(failure: Failure, times?: number): void;
  /** The next POST is stored, then its connection is dropped without an answer (a crash after the LRS accepted). */
  dropNextAfterStoring(): void;
  /** Like some LRSs: a POST batch holding any id already stored is refused whole with 409 (nothing stored). */
  refuseBatchesWithKnownIds(on: boolean): void;
  /** The next POST waits, unread, until release(); `arrived` resolves once it is waiting. */
  holdNextPost(): { arrived: Promise<void>; release(): void };
  reset(): void;
  close(): Promise<void>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const isIri = (value: unknown) => typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/?\S+$/i.test(value);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Problems with one statement per the 1.0.3 rules this app's statements touch; [] when valid. */
export function statementProblems(s: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(s)) return ['statement is not an object'];
  if (s.id !== undefined && (typeof s.id !== 'string' || !UUID.test(s.id))) problems.push('id is not a UUID');
  const actor = s.actor;
  if (!isObject(actor)) problems.push('actor missing');
  else {
    const ifis = ['mbox', 'mbox_sha1sum', 'openid', 'account'].filter((k) => actor[k] !== undefined);
    if (ifis.length !== 1) problems.push('actor must have exactly one inverse functional identifier');
    if (isObject(actor.account) && (!isIri(actor.account.homePage) || typeof actor.account.name !== 'string')) problems.push('actor.account needs homePage IRL and name');
  }
  if (!isObject(s.verb) || !isIri(s.verb.id)) problems.push('verb.id must be an IRI');
  if (!isObject(s.object) || !isIri(s.object.id)) problems.push('object.id must be an IRI');
  const result = s.result;
  if (result !== undefined) {
    if (!isObject(result)) problems.push('result must be an object');
    else if (isObject(result.score)) {
      const { scaled, raw, min, max } = result.score as Record<string, number>;
      if (scaled !== undefined && (scaled < -1 || scaled > 1)) problems.push('result.score.scaled out of range');
      if (raw !== undefined && ((min !== undefined && raw < min) || (max !== undefined && raw > max))) problems.push('result.score.raw outside min..max');
    }
    if (isObject(result) && result.duration !== undefined && !/^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/.test(String(result.duration))) problems.push('result.duration is not ISO 8601');
  }
  const context = s.context;
  if (context !== undefined && isObject(context) && context.registration !== undefined && !UUID.test(String(context.registration))) problems.push('context.registration is not a UUID');
  if (s.timestamp !== undefined && Number.isNaN(Date.parse(String(s.timestamp)))) problems.push('timestamp is not ISO 8601');
  for (const setByLrs of ['stored', 'authority']) if (s[setByLrs] !== undefined) problems.push(`${setByLrs} is set by the LRS`);
  return problems;
}

export async function startTestLrs(credentials: { key?: string; secret?: string } = {}): Promise<TestLrs> {
  const key = credentials.key ?? 'lrs-key';
  const secret = credentials.secret ?? 'lrs-secret-Kq8#zT';
  const byId = new Map<string, StoredStatement>();
  const state = { failures: [] as Failure[], drop: false, refuseKnown: false, hold: null as null | { arrive(): void; released: Promise<void> } };
  const lrs: Omit<TestLrs, 'endpoint' | 'close'> = {
    key,
    secret,
    statements: [],
    requests: [],
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) state.failures.push(failure);
    },
    dropNextAfterStoring() {
      state.drop = true;
    },
    refuseBatchesWithKnownIds(on) {
      state.refuseKnown = on;
    },
    holdNextPost() {
      let arrive!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      state.hold = { arrive, released };
      return { arrived, release };
    },
    reset() {
      byId.clear();
      lrs.statements.length = 0;
      lrs.requests.length = 0;
      state.failures = [];
      state.drop = false;
      state.refuseKnown = false;
      state.hold = null;
    },
  };

  const expectedAuth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hold = req.method === 'POST' ? state.hold : null;
    if (hold) {
      state.hold = null;
      hold.arrive();
      await hold.released;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://lrs');
    const record = { method: req.method ?? '', status: 0, ids: [] as string[], authorization: req.headers.authorization, version: req.headers['x-experience-api-version'] as string | undefined };
    lrs.requests.push(record);
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), 'X-Experience-API-Version': '1.0.3', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (url.pathname !== '/xapi/statements') return answer(404, { message: 'no such resource' });
    if (req.method !== 'POST' && req.method !== 'PUT') return answer(405, { message: 'method not allowed' });
    const failure = state.failures.shift();
    if (failure) return answer(failure.status, { message: failure.body ?? `forced ${failure.status}` }, failure.retryAfter ? { 'Retry-After': failure.retryAfter } : {});
    if (!/^1\.0\.\d+$/.test(String(record.version ?? ''))) return answer(400, { message: 'X-Experience-API-Version header missing or unsupported' });
    if (req.headers.authorization !== expectedAuth) return answer(401, { message: 'unauthorized: bad key or secret' });
    if (!String(req.headers['content-type']).startsWith('application/json')) return answer(400, { message: 'Content-Type must be application/json' });
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, { message: 'body is not JSON' });
    }
    let batch: Record<string, unknown>[];
    if (req.method === 'PUT') {
      const statementId = url.searchParams.get('statementId');
      if (!statementId || !isObject(body)) return answer(400, { message: 'PUT needs statementId and one statement' });
      if (body.id !== undefined && body.id !== statementId) return answer(400, { message: 'statementId does not match the statement id' });
      batch = [{ ...body, id: statementId }];
    } else {
      batch = Array.isArray(body) ? (body as Record<string, unknown>[]) : [body as Record<string, unknown>];
    }
    const problems = batch.flatMap((s, i) => statementProblems(s).map((p) => `statement ${i}: ${p}`));
    if (problems.length > 0) return answer(400, { message: problems.join('; ') });
    const ids = batch.map((s) => (typeof s.id === 'string' ? s.id : crypto.randomUUID()));
    record.ids = ids;
    if (new Set(ids).size !== ids.length) return answer(400, { message: 'the batch holds the same id twice' });
    for (let i = 0; i < batch.length; i++) {
      const existing = byId.get(ids[i]);
      if (!existing) continue;
      const { stored: _stored, authority: _authority, ...kept } = existing;
      if (!isDeepStrictEqual(kept, { ...batch[i], id: ids[i] }) || (state.refuseKnown && req.method === 'POST')) return answer(409, { message: `statement ${ids[i]} already exists` });
    }
    const now = new Date().toISOString();
    for (let i = 0; i < batch.length; i++) {
      if (byId.has(ids[i])) continue;
      const stored = { ...batch[i], id: ids[i], stored: now, authority: { objectType: 'Agent', account: { homePage: 'http://lrs', name: key } } } as StoredStatement;
      byId.set(ids[i], stored);
      lrs.statements.push(stored);
    }
    if (state.drop && req.method === 'POST') {
      state.drop = false;
      record.status = -1;
      req.socket.destroy();
      return;
    }
    return req.method === 'PUT' ? answer(204) : answer(200, ids);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...lrs,
    endpoint: `http://127.0.0.1:${port}/xapi/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
