import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';

/** Leave out email_verified for an Entra-like account (Entra often sends none); xms_edov is Entra's domain check. */
export type AccountClaims = { email?: string; email_verified?: boolean; xms_edov?: boolean; name?: string };
/** The person's browser at the IdP: keeps the IdP's session cookie between round trips (a shared computer). */
export type IdpBrowser = ReturnType<typeof request.agent>;

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
  signInAs(authorizationUrl: string, accountId: string, browser?: IdpBrowser): Promise<URL>;
  /** A browser whose IdP session outlives one round trip (pass it to signInAs, visit, signOut). */
  browser(): IdpBrowser;
  /**
   * Follows the authorization URL without typing anything: the redirect back to the app when the IdP
   * signs the browser in silently (its session), or the name of the screen it shows (login, consent).
   */
  visit(authorizationUrl: string, browser: IdpBrowser): Promise<{ callback?: URL; screen?: string }>;
  /**
   * Plays RP-initiated logout: opens the app's end-session URL (the IdP checks client_id, id_token_hint and
   * post_logout_redirect_uri), confirms "sign out", and returns where the IdP sends the browser back to.
   */
  signOut(endSessionUrl: string, browser: IdpBrowser): Promise<URL>;
  close(): Promise<void>;
};

/**
 * Starts a real oidc-provider on a free localhost port, with one client whose redirect URI is the app's
 * callback. `endSession: false`: a provider without RP-initiated logout (like Google).
 */
export async function startTestIdp(redirectUri: string, options: { endSession?: boolean } = {}): Promise<TestIdp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sst-idp-'));
  const accountsFile = path.join(dir, 'accounts.json');
  writeFileSync(accountsFile, '{}');
  const clientId = 'training-app';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.server.mjs')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      // The app's sign-out comes back to its sign-in page (config: <BASE_URL>/login).
      OIDC_TEST_SETTINGS: JSON.stringify({ clientId, clientSecret, redirectUri, postLogoutRedirectUri: new URL('/login', redirectUri).href, accountsFile, endSession: options.endSession }),
    },
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
    browser() {
      return request.agent(issuer);
    },
    async visit(authorizationUrl, browser) {
      const url = new URL(authorizationUrl);
      if (url.origin !== issuer) throw new Error(`authorization URL ${authorizationUrl} is not at the test IdP`);
      let res = await browser.get(url.pathname + url.search);
      for (let hop = 0; hop < 10; hop++) {
        if (res.status !== 302 && res.status !== 303) throw new Error(`IdP answered ${res.status}: ${res.text.slice(0, 300)} ${stderr}`);
        const location = new URL(res.headers.location, issuer);
        if (location.origin !== issuer) return { callback: location };
        if (/^\/interaction\/[^/]+$/.test(location.pathname)) {
          const page = await browser.get(location.pathname);
          return { screen: /name="prompt" value="(\w+)"/.exec(page.text)?.[1] ?? 'login' };
        }
        res = await browser.get(location.pathname + location.search);
      }
      throw new Error('too many redirects at the test IdP');
    },
    async signOut(endSessionUrl, browser) {
      const url = new URL(endSessionUrl);
      if (url.origin !== issuer) throw new Error(`end-session URL ${endSessionUrl} is not at the test IdP`);
      const page = await browser.get(url.pathname + url.search);
      if (page.status !== 200) throw new Error(`IdP refused the sign-out (${page.status}): ${page.text.slice(0, 300)}`);
      const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.text)?.[1];
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
      if (!action || !xsrf) throw new Error(`no sign-out form at the IdP: ${page.text.slice(0, 300)}`);
      const done = await browser.post(new URL(action, issuer).pathname).type('form').send({ xsrf, logout: 'yes' });
      if (done.status !== 303) throw new Error(`IdP sign-out answered ${done.status}: ${done.text.slice(0, 300)}`);
      return new URL(done.headers.location, issuer);
    },
    async signInAs(authorizationUrl, accountId, browser = request.agent(issuer)) {
      const url = new URL(authorizationUrl);
      if (url.origin !== issuer) throw new Error(`authorization URL ${authorizationUrl} is not at the test IdP`);
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
