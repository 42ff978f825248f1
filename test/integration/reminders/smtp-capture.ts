/** A real SMTP server on localhost (smtp-server) that keeps every message it accepts, decoded enough to assert on. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type Captured = { to: string[]; from: string; subject: string; text: string; html: string; raw: string; headers: Record<string, string> };

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const input = body.replace(/=\r?\n/g, '');
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '=' && /^[0-9A-F]{2}$/i.test(input.slice(i + 1, i + 3))) {
      bytes.push(parseInt(input.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value.replace(/=\?UTF-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, enc: string, data: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function split(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const sep = raw.slice(at).startsWith('\r\n\r\n') ? 4 : 2;
  return { headers: parseHeaders(raw.slice(0, at)), body: raw.slice(at + sep) };
}

function decodePart(headers: Record<string, string>, body: string): string {
  const enc = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

export function parseMessage(raw: string, to: string[] = []): Captured {
  const { headers, body } = split(raw);
  let text = '';
  let html = '';
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const part = split(chunk.replace(/^\r?\n/, ''));
      const type = part.headers['content-type'] ?? '';
      if (type.startsWith('text/plain')) text = decodePart(part.headers, part.body);
      if (type.startsWith('text/html')) html = decodePart(part.headers, part.body);
    }
  } else text = decodePart(headers, body);
  return { to, from: headers.from ?? '', subject: decodeWords(headers.subject ?? ''), text, html, raw, headers };
}

export type SmtpCapture = {
  port: number;
  messages: Captured[];
  /** Logins seen (user names): proves the credentials of SMTP_URL were used. */
  users: string[];
  /** While set, every message is refused with a temporary error. */
  refuse: boolean;
  /** Connections accepted so far (a pooled mailer reuses a few for many messages). */
  connections: number;
  /** Connections open right now. */
  openConnections(): number;
  /** Stops listening and resolves once every client has closed its connection (a client that keeps one open keeps this waiting). */
  stop(): Promise<void>;
  /** The server going down: stops listening and drops every open connection at once (421). */
  crash(): Promise<void>;
  /** Listens again on the same port after stop() or crash(). */
  restart(): Promise<void>;
  /** Resolves once `count` messages in all have been accepted. */
  waitForMessages(count: number): Promise<void>;
};

/** closeTimeoutMs: how long stop() waits for clients before dropping them (smtp-server's default: 30 s). */
export async function startSmtpCapture(port = 0, options: { closeTimeoutMs?: number } = {}): Promise<SmtpCapture> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const accepted = () => {
    for (const w of waiters.filter((x) => capture.messages.length >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const capture: SmtpCapture = {
    port,
    messages: [],
    users: [],
    refuse: false,
    connections: 0,
    openConnections: () => 0,
    stop: async () => undefined,
    crash: async () => undefined,
    restart: async () => undefined,
    waitForMessages: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        accepted();
      }),
  };
  const listen = async (p: number) => {
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      ...(options.closeTimeoutMs ? { closeTimeout: options.closeTimeoutMs } : {}),
      onConnect(_session, callback) {
        capture.connections += 1;
        callback();
      },
      onAuth(auth, _session, callback) {
        capture.users.push(String(auth.username));
        callback(null, { user: auth.username });
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (capture.refuse) {
            const err = new Error('Mailbox temporarily unavailable') as Error & { responseCode: number };
            err.responseCode = 451;
            return callback(err);
          }
          capture.messages.push(parseMessage(Buffer.concat(chunks).toString('utf8'), session.envelope.rcptTo.map((r) => r.address)));
          callback();
          accepted();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
    capture.port = (server.server.address() as AddressInfo).port;
    // smtp-server's own list of open connections (not in its type declarations).
    const open = (server as unknown as { connections: Set<{ send(code: number, text: string): void; close(): void }> }).connections;
    capture.openConnections = () => open.size;
    // net.Server reports closed when its socket count drops to 0, which can be a tick before each socket's own
    // 'close' event removes it from smtp-server's list: wait for both, so openConnections() is 0 afterwards.
    capture.stop = async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      while (open.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    capture.crash = async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of open) {
        connection.send(421, 'Server shutting down');
        connection.close();
      }
      await closed;
    };
  };
  await listen(port);
  capture.restart = () => listen(capture.port);
  return capture;
}
