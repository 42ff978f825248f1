import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';

export type AccountClaims = { email?: string; email_verified?: boolean; name?: string };

export type TestIdp = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Replaces the IdP's accounts (id → claims); takes effect at the next sign-in. */
  setAccounts(accounts: Record<string, AccountClaims>): void;
  /**
   * Plays the person at the IdP: follows the authorization URL, submits the login for `accountId` and the
   * consent, and returns the redirect back to the app (its callback URL with code and state).
   */
  signInAs(authorizationUrl: string, accountId: string): Promise<URL>;
  close(): Promise<void>;
};

/** Starts a real oidc-provider on a free localhost port, with one client whose redirect URI is the app's callback. */
export async function startTestIdp(redirectUri: string): Promise<TestIdp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sst-idp-'));
  const accountsFile = path.join(dir, 'accounts.json');
  writeFileSync(accountsFile, '{}');
  const clientId = 'training-app';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.server.mjs')], {
    env: { ...process.env, NODE_ENV: 'test', OIDC_TEST_SETTINGS: JSON.stringify({ clientId, clientSecret, redirectUri, accountsFile }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ISSUER (\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`test IdP exited (${code}): ${stderr}`)));
  });

  return {
    issuer,
    clientId,
    clientSecret,
    setAccounts(accounts) {
      writeFileSync(accountsFile, JSON.stringify(accounts));
    },
    async signInAs(authorizationUrl, accountId) {
      const url = new URL(authorizationUrl);
      if (url.origin !== issuer) throw new Error(`authorization URL ${authorizationUrl} is not at the test IdP`);
      const browser = request.agent(issuer);
      let res = await browser.get(url.pathname + url.search);
      for (let hop = 0; hop < 10; hop++) {
        if (res.status !== 302 && res.status !== 303) throw new Error(`IdP answered ${res.status}: ${res.text.slice(0, 300)} ${stderr}`);
        const location = new URL(res.headers.location, issuer);
        if (location.origin !== issuer) return location;
        if (/^\/interaction\/[^/]+$/.test(location.pathname)) {
          const page = await browser.get(location.pathname);
          const prompt = /name="prompt" value="(\w+)"/.exec(page.text)?.[1] ?? 'login';
          res = await browser
            .post(location.pathname)
            .type('form')
            .send(prompt === 'login' ? { prompt: 'login', login: accountId, password: 'any' } : { prompt: 'consent' });
        } else {
          res = await browser.get(location.pathname + location.search);
        }
      }
      throw new Error('too many redirects at the test IdP');
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
