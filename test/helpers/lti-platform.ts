import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';

export type LaunchPerson = { sub: string; email?: string; locale?: string; claims?: Record<string, unknown> };
export type StoredScore = { lineitem: string; body: Record<string, unknown> };
type Failure = { status: number; retryAfter?: string; body?: string };

export const AGS_CLAIM = 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint';
export const SCORE_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/score';
const SCORE_FIELDS = ['userId', 'scoreGiven', 'scoreMaximum', 'activityProgress', 'gradingProgress', 'timestamp', 'comment'];
export type IdTokenOptions = { key?: 'platform' | 'other'; claims?: Record<string, unknown>; drop?: string[] };

export type TestLtiPlatform = {
  issuer: string;
  clientId: string;
  deploymentId: string;
  authUrl: string;
  jwksUrl: string;
  /** Requests the platform's JWKS endpoint answered. */
  jwksRequests: () => number;
  /** Who is signed in to the LMS for a login_hint (what the platform's auth endpoint signs a token for). */
  addPerson(loginHint: string, person: LaunchPerson): void;
  /** A signed id_token for a person (a resource link launch of `targetLinkUri`), with claims changed as given. */
  signIdToken(person: LaunchPerson, nonce: string, targetLinkUri: string, options?: IdTokenOptions): Promise<string>;
  /** The browser at the platform's auth endpoint: follows our redirect, returns the form the platform auto-posts. */
  authorize(location: string): Promise<{ status: number; action?: string; fields: Record<string, string>; text: string }>;
  /** AGS: the token endpoint (client_credentials + JWT client assertion checked against the tool's JWKS). */
  tokenUrl: string;
  /** The URL the platform fetches the tool's public keys from (our /lti/jwks, over HTTP like a real platform). */
  trustTool(jwksUrl: string): void;
  /** A line item URL of this platform (with a query string, so the tool must put /scores before it). */
  lineitemUrl(id: string): string;
  /** The AGS claim a launch carries for a line item (with the score scope unless `scopes` says otherwise). */
  agsClaim(lineitem: string, scopes?: string[]): Record<string, unknown>;
  /** Deep Linking: where the tool posts its response (form field JWT). */
  deepLinkReturnUrl: string;
  /** The claims of a deep-linking request launch (message type, settings with `data`, no resource link). */
  deepLinkClaims(data?: string): Record<string, unknown>;
  /** Deep-linking responses received: the verified claims, or why the platform refused one. */
  deepLinkResponses: { status: number; claims?: Record<string, unknown>; problem?: string }[];
  /** Every score POST the platform accepted, in order. */
  scores: StoredScore[];
  /** The result the gradebook shows per line item and user (a score older than the one kept is ignored, as the spec says). */
  results: Map<string, { scoreGiven: number; timestamp: string }>;
  /** Requests the token and score endpoints received, with the status answered. */
  requests: { path: string; status: number; problem?: string }[];
  /** The key id (`kid`) of each client assertion the token endpoint accepted, in order. */
  assertionKids: string[];
  /** Access tokens issued. */
  tokensIssued: () => number;
  /** The next `times` requests to the token (or score) endpoint fail with this answer. */
  failNext(where: 'token' | 'scores', failure: Failure, times?: number): void;
  reset(): void;
  close(): Promise<void>;
};

/**
 * A real LTI 1.3 platform on localhost for tests (a stand-in for Canvas or Schoology): an RSA key pair made
 * at start (never stored), its JWKS served over HTTP, and an OIDC auth endpoint that checks the tool's
 * authentication request like a platform does and answers with the auto-posting form of a signed id_token.
 * For grade passback (AGS) it also has a token endpoint that checks the tool's client assertion against the
 * tool's JWKS fetched over HTTP, and a score service per line item that checks the token, the content type and
 * the score's fields, stores each score and keeps the gradebook's result; both can be told to fail.
 */
export async function startLtiPlatform(options: { clientId?: string; deploymentId?: string } = {}): Promise<TestLtiPlatform> {
  const clientId = options.clientId ?? `client-${randomUUID()}`;
  const deploymentId = options.deploymentId ?? `deployment-${randomUUID()}`;
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const people = new Map<string, LaunchPerson>();
  let jwksCount = 0;
  let issuer = '';

  async function signIdToken(person: LaunchPerson, nonce: string, targetLinkUri: string, opts: IdTokenOptions = {}): Promise<string> {
    const claims: Record<string, unknown> = {
      nonce,
      [`${CLAIM}message_type`]: 'LtiResourceLinkRequest',
      [`${CLAIM}version`]: '1.3.0',
      [`${CLAIM}deployment_id`]: deploymentId,
      [`${CLAIM}target_link_uri`]: targetLinkUri,
      [`${CLAIM}resource_link`]: { id: 'resource-link-1', title: 'Safe schools training' },
      [`${CLAIM}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
      [`${CLAIM}launch_presentation`]: { locale: person.locale ?? 'en-US', document_target: 'window' },
      ...(person.email ? { email: person.email } : {}),
      ...opts.claims,
    };
    for (const name of opts.drop ?? []) delete claims[name];
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).setSubject(person.sub);
    if (!('iss' in (opts.claims ?? {}))) jwt.setIssuer(issuer);
    if (!('aud' in (opts.claims ?? {}))) jwt.setAudience(clientId);
    if (!('iat' in (opts.claims ?? {}))) jwt.setIssuedAt(now);
    if (!('exp' in (opts.claims ?? {}))) jwt.setExpirationTime(now + 300);
    return jwt.sign((opts.key === 'other' ? other.privateKey : privateKey) as CryptoKey);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/jwks') {
      jwksCount += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (url.pathname === '/auth') {
      const q = url.searchParams;
      const person = people.get(q.get('login_hint') ?? '');
      const problems = [
        q.get('scope') !== 'openid' && 'scope',
        q.get('response_type') !== 'id_token' && 'response_type',
        q.get('response_mode') !== 'form_post' && 'response_mode',
        q.get('prompt') !== 'none' && 'prompt',
        q.get('client_id') !== clientId && 'client_id',
        !q.get('redirect_uri') && 'redirect_uri',
        !q.get('state') && 'state',
        !q.get('nonce') && 'nonce',
        !person && 'login_hint',
      ].filter(Boolean);
      if (problems.length > 0 || !person) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`invalid_request: ${problems.join(', ')}`);
        return;
      }
      // The platform launches the target link the course link names (kept in lti_message_hint here).
      const target = q.get('lti_message_hint') ?? q.get('redirect_uri')!;
      signIdToken(person, q.get('nonce')!, target, { claims: person.claims }).then((idToken) => {
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(
          `<form method="post" action="${esc(q.get('redirect_uri')!)}"><input type="hidden" name="id_token" value="${esc(idToken)}"><input type="hidden" name="state" value="${esc(q.get('state')!)}"></form>`,
        );
      }, () => res.writeHead(500).end());
      return;
    }
    if (req.method === 'POST' && url.pathname === '/deep-link-return') {
      readBody(req).then((body) => answerDeepLink(res, body)).catch(() => res.writeHead(500).end());
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/token' || /^\/lineitems\/[^/]+\/scores$/.test(url.pathname))) {
      readBody(req).then((body) => (url.pathname === '/token' ? answerToken(req, res, body) : answerScore(req, res, url, body))).catch(() => res.writeHead(500).end());
      return;
    }
    res.writeHead(404).end();
  });

  // --- AGS: token endpoint and score service ---
  let toolJwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const tokens = new Set<string>();
  const jtis = new Set<string>();
  const failures: Record<'token' | 'scores', Failure[]> = { token: [], scores: [] };
  const scores: StoredScore[] = [];
  const results = new Map<string, { scoreGiven: number; timestamp: string }>();
  const requests: { path: string; status: number; problem?: string }[] = [];
  const assertionKids: string[] = [];
  let issued = 0;

  function readBody(req: import('node:http').IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  function answer(res: import('node:http').ServerResponse, path: string, status: number, body: unknown, problem?: string, headers: Record<string, string> = {}) {
    requests.push({ path, status, problem });
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  function failed(where: 'token' | 'scores', res: import('node:http').ServerResponse, path: string): boolean {
    const failure = failures[where].shift();
    if (!failure) return false;
    answer(res, path, failure.status, { error: failure.body ?? `failure ${failure.status}` }, 'told to fail', failure.retryAfter ? { 'Retry-After': failure.retryAfter } : {});
    return true;
  }

  async function answerToken(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: string) {
    if (failed('token', res, '/token')) return;
    const form = new URLSearchParams(body);
    const refuse = (problem: string) => answer(res, '/token', 400, { error: 'invalid_request', error_description: problem }, problem);
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return refuse('content type');
    if (form.get('grant_type') !== 'client_credentials') return refuse('grant_type');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return refuse('client_assertion_type');
    if (!(form.get('scope') ?? '').split(' ').includes(SCORE_SCOPE)) return refuse('scope');
    if (!toolJwks) return refuse('the tool is not trusted yet');
    try {
      const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion') ?? '', toolJwks, { issuer: clientId, subject: clientId, audience: `${issuer}/token`, algorithms: ['RS256'], requiredClaims: ['jti', 'exp', 'iat'] });
      if (payload.exp! - payload.iat! > 300) return answer(res, '/token', 401, { error: 'invalid_client', error_description: 'assertion lives too long' }, 'exp');
      if (jtis.has(payload.jti!)) return answer(res, '/token', 401, { error: 'invalid_client', error_description: 'jti replayed' }, 'jti');
      jtis.add(payload.jti!);
      assertionKids.push(protectedHeader.kid ?? '');
    } catch (err) {
      return answer(res, '/token', 401, { error: 'invalid_client', error_description: (err as Error).message }, 'assertion');
    }
    const token = randomUUID();
    tokens.add(token);
    issued += 1;
    answer(res, '/token', 200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: SCORE_SCOPE });
  }

  const deepLinkResponses: { status: number; claims?: Record<string, unknown>; problem?: string }[] = [];
  const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

  /** Verifies the tool's LtiDeepLinkingResponse with the tool's JWKS (over HTTP), as Canvas does. */
  async function answerDeepLink(res: import('node:http').ServerResponse, body: string) {
    const jwt = new URLSearchParams(body).get('JWT') ?? '';
    const refuse = (problem: string) => {
      deepLinkResponses.push({ status: 400, problem });
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(problem);
    };
    if (!toolJwks) return refuse('the tool is not trusted yet');
    try {
      const { payload } = await jwtVerify(jwt, toolJwks, { issuer: clientId, audience: issuer, algorithms: ['RS256'], requiredClaims: ['iat', 'exp', 'nonce'] });
      if (payload[`${CLAIM}message_type`] !== 'LtiDeepLinkingResponse') return refuse('message_type');
      if (payload[`${CLAIM}version`] !== '1.3.0') return refuse('version');
      if (payload[`${CLAIM}deployment_id`] !== deploymentId) return refuse('deployment_id');
      if (!Array.isArray(payload[`${DL}content_items`])) return refuse('content_items');
      deepLinkResponses.push({ status: 200, claims: payload as Record<string, unknown> });
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>Added</p>');
    } catch (err) {
      refuse(`signature: ${(err as Error).message}`);
    }
  }

  function answerScore(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, url: URL, body: string) {
    const path = `${url.pathname}${url.search}`;
    if (failed('scores', res, path)) return;
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!token || !tokens.has(token)) return answer(res, path, 401, { error: 'invalid_token' }, 'token');
    if (req.headers['content-type'] !== 'application/vnd.ims.lis.v1.score+json') return answer(res, path, 415, { error: 'unsupported content type' }, 'content type');
    if (url.searchParams.get('course') !== '1') return answer(res, path, 404, { error: 'no such line item (query lost)' }, 'query');
    let score: Record<string, unknown>;
    try {
      score = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return answer(res, path, 400, { error: 'not JSON' }, 'json');
    }
    const unknown = Object.keys(score).filter((k) => !SCORE_FIELDS.includes(k));
    const bad = [
      unknown.length > 0 && `unknown fields ${unknown.join(',')}`,
      typeof score.userId !== 'string' && 'userId',
      typeof score.scoreGiven !== 'number' && 'scoreGiven',
      typeof score.scoreMaximum !== 'number' && 'scoreMaximum',
      !['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'].includes(String(score.activityProgress)) && 'activityProgress',
      !['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'].includes(String(score.gradingProgress)) && 'gradingProgress',
      (typeof score.timestamp !== 'string' || Number.isNaN(Date.parse(score.timestamp))) && 'timestamp',
    ].filter(Boolean);
    if (bad.length > 0) return answer(res, path, 400, { error: `invalid score: ${bad.join(', ')}` }, 'score');
    const lineitem = url.pathname.replace(/\/scores$/, '');
    scores.push({ lineitem, body: score });
    const key = `${lineitem} ${score.userId as string}`;
    const kept = results.get(key);
    if (!kept || Date.parse(kept.timestamp) <= Date.parse(score.timestamp as string)) results.set(key, { scoreGiven: score.scoreGiven as number, timestamp: score.timestamp as string });
    answer(res, path, 200, {});
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    clientId,
    deploymentId,
    authUrl: `${issuer}/auth`,
    jwksUrl: `${issuer}/jwks`,
    jwksRequests: () => jwksCount,
    addPerson: (hint, person) => void people.set(hint, person),
    signIdToken,
    async authorize(location) {
      const res = await fetch(location);
      const text = await res.text();
      const action = /<form method="post" action="([^"]+)"/.exec(text)?.[1]?.replace(/&amp;/g, '&');
      const fields: Record<string, string> = {};
      for (const m of text.matchAll(/name="([^"]+)" value="([^"]*)"/g)) fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
      return { status: res.status, action, fields, text };
    },
    tokenUrl: `${issuer}/token`,
    trustTool(jwksUrl) {
      toolJwks = createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 0, cooldownDuration: 0 });
    },
    deepLinkReturnUrl: `${issuer}/deep-link-return`,
    deepLinkClaims: (data) => ({
      [`${CLAIM}message_type`]: 'LtiDeepLinkingRequest',
      [`https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings`]: {
        deep_link_return_url: `${issuer}/deep-link-return`,
        accept_types: ['ltiResourceLink', 'link'],
        accept_presentation_document_targets: ['iframe', 'window'],
        accept_multiple: false,
        ...(data !== undefined ? { data } : {}),
      },
    }),
    deepLinkResponses,
    lineitemUrl: (id) => `${issuer}/lineitems/${id}?course=1`,
    agsClaim: (lineitem, scopes = [SCORE_SCOPE]) => ({ [AGS_CLAIM]: { scope: scopes, lineitems: `${issuer}/lineitems?course=1`, lineitem } }),
    scores,
    results,
    requests,
    assertionKids,
    tokensIssued: () => issued,
    failNext(where, failure, times = 1) {
      for (let i = 0; i < times; i++) failures[where].push(failure);
    },
    reset() {
      scores.length = 0;
      deepLinkResponses.length = 0;
      requests.length = 0;
      assertionKids.length = 0;
      results.clear();
      failures.token.length = 0;
      failures.scores.length = 0;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
