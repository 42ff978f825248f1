/**
 * Requests this server makes to addresses a district administrator typed (the xAPI LRS endpoint, an LMS's
 * keys): server-side request forgery is the risk. Without a guard, an administrator of one district could
 * point such an address at the hosting network (the cloud metadata service at 169.254.169.254, a database,
 * an admin console on 10.x) and read the answer back from the page that shows the LRS's reply.
 *
 * The guard sits in the connection's own DNS lookup (`lookup` of node:http / node:https), so the address
 * checked is the address connected to: a name that resolves to a public address when saved and to a private
 * one later (DNS rebinding) is refused at connect time too. Literal IP addresses go through the same lookup.
 *
 * `OUTBOUND_PRIVATE_NETWORK` (config): `refuse` (the default in production) or `allow` (the default in
 * development and tests, and for a district whose LRS is on its own internal network).
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';

/** Loopback, private, link-local, carrier-grade NAT, documentation, multicast and reserved ranges. */
const NOT_PUBLIC = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(address, prefix, 'ipv6');
}

/** True for an address on a loopback, private, link-local or otherwise non-public network (IPv4-mapped IPv6 included). */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address) ?? /^::(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return NOT_PUBLIC.check(mapped[1], 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped) {
    const high = parseInt(hexMapped[1], 16);
    const low = parseInt(hexMapped[2], 16);
    return NOT_PUBLIC.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4');
  }
  return NOT_PUBLIC.check(address, 'ipv6');
}

export class NonPublicAddressError extends Error {
  readonly code = 'ENONPUBLIC';
  constructor(hostname: string) {
    super(`${hostname} is on a private or local network`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS lookup for node:http(s) that refuses names resolving to any non-public address. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    if (list.length === 0 || list.some((entry) => isNonPublicAddress(entry.address))) return callback(new NonPublicAddressError(hostname), []);
    if (options.all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}

/** Whether a URL's host is (now) a public address: for a form's immediate answer; the connection checks again. */
export async function resolvesToPublicAddress(url: URL): Promise<boolean> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return !isNonPublicAddress(host);
  try {
    const addresses = await dns.promises.lookup(host, { all: true });
    return addresses.length > 0 && !addresses.some((entry) => isNonPublicAddress(entry.address));
  } catch {
    // Not resolvable now: the connection will say so; nothing private was reached.
    return true;
  }
}

export type OutboundAnswer = Readonly<{ status: number; headers: IncomingHttpHeaders; body: string }>;

export type OutboundRequest = Readonly<{
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** At most this many bytes of the answer are read; the rest is dropped. */
  maxBytes: number;
  allowPrivateNetwork: boolean;
}>;

/**
 * One HTTP(S) request, redirects not followed (the caller sees the 3xx), the answer's body read up to
 * `maxBytes`. Rejects with NonPublicAddressError when the host is not public and that is not allowed, with
 * an Error named TimeoutError after `timeoutMs`, or with the connection's error.
 */
export function outboundRequest(url: URL, request: OutboundRequest): Promise<OutboundAnswer> {
  const transport = url.protocol === 'https:' ? https : http;
  // A literal address never reaches the lookup (node:net connects to it directly): checked here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!request.allowPrivateNetwork && net.isIP(literal) && isNonPublicAddress(literal)) return Promise.reject(new NonPublicAddressError(literal));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, answer?: OutboundAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const req = transport.request(
      url,
      {
        method: request.method,
        // One connection per request, closed after it: these calls are seconds apart, and no idle socket outlives them.
        agent: false,
        headers: { ...(request.headers ?? {}), ...(request.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(request.body)) } : {}) },
        ...(request.allowPrivateNetwork ? {} : { lookup: publicOnlyLookup as unknown as typeof dns.lookup }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= request.maxBytes) return;
          chunks.push(chunk);
          size += chunk.length;
          if (size >= request.maxBytes) {
            finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, request.maxBytes).toString('utf8') });
            res.destroy();
          }
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish(err));
      },
    );
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${request.timeoutMs} ms`);
      err.name = 'TimeoutError';
      finish(err);
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (err) => finish(err));
    req.end(request.body);
  });
}

/** How long the service asked us to wait: Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 60 * 60_000;

/** The wait after `retries` failed sends in a row (30 s, 1 min, 2 min … at most an hour), or the service's Retry-After (at least 1 s). */
export function retryBackoffMs(retries: number, retryAfter?: number): number {
  if (retryAfter !== undefined) return Math.min(RETRY_MAX_MS, Math.max(1_000, retryAfter));
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(retries, 10));
}

const ANSWER_LINE_MAX = 300;

/**
 * A service's answer as one line for an administrator's page: control characters become spaces, every secret
 * the service might echo (a password, a token) is redacted, and it is cut to 300 characters.
 */
export function answerLine(text: string, secrets: readonly string[]): string {
  let line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  for (const secret of secrets) if (secret) line = line.split(secret).join('[redacted]');
  return line.length > ANSWER_LINE_MAX ? `${line.slice(0, ANSWER_LINE_MAX - 1)}…` : line;
}

/**
 * What a request that got no answer means to a sender: refused by the private-network rule (`stop` until an
 * administrator changes the address or OUTBOUND_PRIVATE_NETWORK), or a network problem or timeout (`retry`).
 * `what` names the address in the message ("the endpoint", "the address").
 */
export function unansweredRequest(err: unknown, timeoutMs: number, what: string): { kind: 'stop' | 'retry'; status: null; message: string } {
  if (err instanceof NonPublicAddressError) return { kind: 'stop', status: null, message: `refused: ${what} is on a private or local network (OUTBOUND_PRIVATE_NETWORK=allow permits it)` };
  const code = (err as { code?: string }).code;
  const name = (err as { name?: string }).name;
  return { kind: 'retry', status: null, message: name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : `could not connect${code ? ` (${code})` : ''}` };
}
