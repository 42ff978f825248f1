import { answerLine, outboundRequest, retryAfterMs, unansweredRequest, type OutboundAnswer } from '../../shared/outbound-http';
import { xapiRuntime } from './xapi-runtime';
import { XAPI_VERSION, type Statement } from './xapi-statements';

/**
 * Talks to a learning record store (xAPI 1.0.3, "Statement Resource"): POST a batch, PUT one by id.
 * Every answer is sorted into what the delivery does next:
 *   - ok        200/204: stored (or, for PUT, already stored with that id);
 *   - conflict  409: an id the LRS already holds — for one statement that is success (same id, same
 *               statement); a batch is re-sent one by one, since the LRS may have refused all of it;
 *   - retry     network error, timeout, 408, 429 (Retry-After), 5xx: try again later;
 *   - stop      400, 401, 403, 404, 413, a redirect, a private-network address, anything else: an
 *               administrator must look.
 */
export type LrsCredentials = Readonly<{ endpoint: string; key: string; secret: string }>;
export type LrsAnswer =
  | { kind: 'ok'; status: number; message: string }
  | { kind: 'conflict'; status: 409; message: string }
  | { kind: 'retry'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'stop'; status: number | null; message: string };

export const LRS_TIMEOUT_MS = 15_000;

/** `<endpoint>/statements` (the endpoint is the LRS's xAPI base, e.g. https://lrs.example.org/xapi/). */
export function statementsUrl(endpoint: string): URL {
  return new URL('statements', endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
}

export function postStatements(lrs: LrsCredentials, statements: readonly Statement[], timeoutMs = LRS_TIMEOUT_MS): Promise<LrsAnswer> {
  return call(lrs, 'POST', statementsUrl(lrs.endpoint), JSON.stringify(statements), timeoutMs);
}

export function putStatement(lrs: LrsCredentials, statement: Statement, timeoutMs = LRS_TIMEOUT_MS): Promise<LrsAnswer> {
  const url = statementsUrl(lrs.endpoint);
  url.searchParams.set('statementId', statement.id);
  return call(lrs, 'PUT', url, JSON.stringify(statement), timeoutMs);
}

async function call(lrs: LrsCredentials, method: 'POST' | 'PUT', url: URL, body: string, timeoutMs: number): Promise<LrsAnswer> {
  let response: OutboundAnswer;
  try {
    // Redirects are not followed (a redirect would replay the credentials to wherever it points): reported.
    // The address must be public unless OUTBOUND_PRIVATE_NETWORK=allow (shared/outbound-http.ts).
    response = await outboundRequest(url, {
      method,
      body,
      timeoutMs,
      maxBytes: READ_MAX_BYTES,
      allowPrivateNetwork: xapiRuntime().allowPrivateNetwork,
      headers: {
        Authorization: `Basic ${Buffer.from(`${lrs.key}:${lrs.secret}`).toString('base64')}`,
        'X-Experience-API-Version': XAPI_VERSION,
        'Content-Type': 'application/json',
      },
    });
  } catch (err) {
    return unansweredRequest(err, timeoutMs, 'the endpoint');
  }
  const status = response.status;
  const message = answerLine(readText(response.body), [lrs.secret]);
  const header = (name: string) => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : (value ?? null);
  };
  if (status === 200 || status === 204) return { kind: 'ok', status, message };
  if (status === 409) return { kind: 'conflict', status, message };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', status, message, retryAfterMs: retryAfterMs(header('retry-after')) };
  if (status >= 300 && status < 400) return { kind: 'stop', status, message: `redirected to ${answerLine(header('location') ?? '?', [lrs.secret])}: use that address as the endpoint` };
  return { kind: 'stop', status, message };
}

/** At most 16 KB of an answer is read: an LRS (or whatever answers there) cannot make this process read more. */
const READ_MAX_BYTES = 16 * 1024;

function readText(text: string): string {
  // An xAPI error is often JSON with a message: show the message rather than the braces.
  try {
    const json = JSON.parse(text) as unknown;
    if (Array.isArray(json)) return `${json.length} statement id(s) returned`;
    const message = (json as { message?: unknown; error?: unknown })?.message ?? (json as { error?: unknown })?.error;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return text;
}


