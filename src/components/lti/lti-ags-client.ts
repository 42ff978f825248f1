/**
 * The calls grade passback makes to the LMS (docs/lti.md "Grade passback"): an OAuth2 access token by
 * client_credentials with a signed JWT client assertion (RFC 7523, LTI Security Framework 4.1), and a
 * score POSTed to the line item's /scores (LTI AGS 2.0, Score publish service). Every answer is sorted
 * into what the delivery does next, as xapi-client.ts does: ok; retry (network, timeout, 408, 429 with
 * Retry-After, 5xx); stop (400, 401, 403, 404, a redirect, a private-network address: an admin must look).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { answerLine, outboundRequest, retryAfterMs, unansweredRequest, type OutboundAnswer } from '../../shared/outbound-http';
import type { ToolKey } from './lti-tool-key';

export const SCORE_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/score';
export const SCORE_CONTENT_TYPE = 'application/vnd.ims.lis.v1.score+json';
export const AGS_TIMEOUT_MS = 15_000;
/** A client assertion lives at most this long (the platform refuses longer ones; 5 minutes is the usual limit). */
const ASSERTION_TTL_S = 300;
const READ_MAX_BYTES = 16 * 1024;

export type AgsAnswer =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'stop'; status: number | null; message: string };

export type TokenAnswer = { kind: 'token'; token: string; expiresInS: number } | Exclude<AgsAnswer, { kind: 'ok' }>;

/** Exactly the fields sent: nothing about the person but the LMS's own id for them. */
export type Score = Readonly<{
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  activityProgress: 'Completed';
  gradingProgress: 'FullyGraded';
  timestamp: string;
}>;

export type Registration = Readonly<{ clientId: string; tokenUrl: string }>;

/** `<lineitem>/scores`, the path extended before the query string (AGS 2.0 §3.4). */
export function scoresUrl(lineitem: string): URL {
  const url = new URL(lineitem);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/scores`;
  url.hash = '';
  return url;
}

/** RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, a jti, exp ≤ 5 minutes. */
export async function clientAssertion(reg: Registration, key: ToolKey, now = Math.floor(Date.now() / 1000)): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(reg.clientId)
    .setSubject(reg.clientId)
    .setAudience(reg.tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_TTL_S)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

export async function requestToken(reg: Registration, key: ToolKey, allowPrivateNetwork: boolean): Promise<TokenAnswer> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(reg, key),
    scope: SCORE_SCOPE,
  }).toString();
  const answer = await call(new URL(reg.tokenUrl), { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body, allowPrivateNetwork, []);
  if (answer.kind !== 'ok') return answer.kind === 'stop' ? { ...answer, message: `token endpoint: ${answer.message}` } : answer;
  try {
    const json = JSON.parse(answer.body) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    if (typeof json.access_token !== 'string' || !json.access_token || (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer')) {
      return { kind: 'stop', status: answer.status, message: 'token endpoint: the answer has no bearer access_token' };
    }
    const expiresInS = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
    return { kind: 'token', token: json.access_token, expiresInS };
  } catch {
    return { kind: 'stop', status: answer.status, message: 'token endpoint: the answer is not JSON' };
  }
}

export async function postScore(lineitem: string, token: string, score: Score, allowPrivateNetwork: boolean): Promise<AgsAnswer> {
  const answer = await call(scoresUrl(lineitem), { Authorization: `Bearer ${token}`, 'Content-Type': SCORE_CONTENT_TYPE, Accept: 'application/json' }, JSON.stringify(score), allowPrivateNetwork, [token]);
  return answer.kind === 'ok' ? { kind: 'ok', status: answer.status } : answer;
}

type Raw = { kind: 'ok'; status: number; body: string } | Exclude<AgsAnswer, { kind: 'ok' }>;

async function call(url: URL, headers: Record<string, string>, body: string, allowPrivateNetwork: boolean, secrets: string[]): Promise<Raw> {
  let response: OutboundAnswer;
  try {
    // Redirects are not followed (the token or assertion would be replayed wherever they point).
    response = await outboundRequest(url, { method: 'POST', headers, body, timeoutMs: AGS_TIMEOUT_MS, maxBytes: READ_MAX_BYTES, allowPrivateNetwork });
  } catch (err) {
    return unansweredRequest(err, AGS_TIMEOUT_MS, 'the address');
  }
  const status = response.status;
  const header = (name: string) => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : (value ?? null);
  };
  if (status >= 200 && status < 300) return { kind: 'ok', status, body: response.body };
  const message = answerLine(readText(response.body) || `HTTP ${status}`, secrets);
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', status, message, retryAfterMs: retryAfterMs(header('retry-after')) };
  if (status >= 300 && status < 400) return { kind: 'stop', status, message: `redirected to ${answerLine(header('location') ?? '?', secrets)}` };
  return { kind: 'stop', status, message };
}

/** An OAuth or LMS error is often JSON: show its description rather than the braces. */
function readText(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const parts = [json.error, json.error_description, json.message, (json.errors as { message?: unknown } | undefined)?.message].filter((p) => typeof p === 'string');
    if (parts.length > 0) return parts.join(': ');
  } catch {
    // not JSON: the text itself
  }
  return text;
}


