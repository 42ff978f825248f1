import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';

export type LaunchPerson = { sub: string; email?: string; locale?: string };
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
  close(): Promise<void>;
};

/**
 * A real LTI 1.3 platform on localhost for tests (a stand-in for Canvas or Schoology): an RSA key pair made
 * at start (never stored), its JWKS served over HTTP, and an OIDC auth endpoint that checks the tool's
 * authentication request like a platform does and answers with the auto-posting form of a signed id_token.
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
      signIdToken(person, q.get('nonce')!, target).then((idToken) => {
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
        res.writeHead(200, { 'Content-Type': 'text/html' }).end(
          `<form method="post" action="${esc(q.get('redirect_uri')!)}"><input type="hidden" name="id_token" value="${esc(idToken)}"><input type="hidden" name="state" value="${esc(q.get('state')!)}"></form>`,
        );
      }, () => res.writeHead(500).end());
      return;
    }
    res.writeHead(404).end();
  });
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
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
