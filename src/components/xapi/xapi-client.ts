import { XAPI_VERSION, type Statement } from './xapi-statements';

/**
 * Talks to a learning record store (xAPI 1.0.3, "Statement Resource"): POST a batch, PUT one by id.
 * Every answer is sorted into what the delivery does next:
 *   - ok        200/204: stored (or, for PUT, already stored with that id);
 *   - conflict  409: an id the LRS already holds — for one statement that is success (same id, same
 *               statement); a batch is re-sent one by one, since the LRS may have refused all of it;
 *   - retry     network error, timeout, 408, 429 (Retry-After), 5xx: try again later;
 *   - stop      400, 401, 403, 404, 413, a redirect, anything else: an administrator must look.
 */
export type LrsCredentials = Readonly<{ endpoint: string; key: string; secret: string }>;
export type LrsAnswer =
  | { kind: 'ok'; status: number; message: string }
  | { kind: 'conflict'; status: 409; message: string }
  | { kind: 'retry'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'stop'; status: number; message: string };

export const LRS_TIMEOUT_MS = 15_000;
const MESSAGE_MAX = 300;

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
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      body,
      // A redirect would replay the credentials to wherever it points: it is reported, never followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        Authorization: `Basic ${Buffer.from(`${lrs.key}:${lrs.secret}`).toString('base64')}`,
        'X-Experience-API-Version': XAPI_VERSION,
        'Content-Type': 'application/json',
      },
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const name = (err as { name?: string }).name;
    return { kind: 'retry', status: null, message: name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : `could not connect${cause ? ` (${cause})` : ''}` };
  }
  const status = response.status;
  const message = clean(await readText(response), lrs.secret);
  if (status === 200 || status === 204) return { kind: 'ok', status, message };
  if (status === 409) return { kind: 'conflict', status, message };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', status, message, retryAfterMs: retryAfter(response.headers.get('retry-after')) };
  if (status >= 300 && status < 400) return { kind: 'stop', status, message: `redirected to ${clean(response.headers.get('location') ?? '?', lrs.secret)}: use that address as the endpoint` };
  return { kind: 'stop', status, message };
}

const READ_MAX_BYTES = 16 * 1024;

/** The answer's text, at most 16 KB of it: an LRS (or whatever answers there) cannot make this process read more. */
async function readBody(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < READ_MAX_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, READ_MAX_BYTES).toString('utf8');
}

async function readText(response: Response): Promise<string> {
  try {
    const text = await readBody(response);
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
  } catch {
    return '';
  }
}

/** One line, at most 300 characters, without the secret should an LRS echo it. */
function clean(text: string, secret: string): string {
  let line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (secret) line = line.split(secret).join('[redacted]');
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX - 1)}…` : line;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
