import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { createDistrict, createSchool, createUser } from '../helpers/factories';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider';
import { configureLogger } from '../../src/shared/logger';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';

// Single sign-on in a real browser: the sign-in button and the sign-out button are same-origin form
// POSTs answered with a 303 to the identity provider. Chromium applies CSP form-action to that redirect
// too, so the provider's origin must be allowed there, or the browser stops on our page.
jest.setTimeout(E2E_TIMEOUT);

let server: http.Server;
let baseUrl: string;
let t: TestApp;
let idp: TestIdp;
let browser: Browser;

beforeAll(async () => {
  configureLogger('silent');
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [idp, browser] = await Promise.all([startTestIdp(`${baseUrl}/auth/oidc/callback`), launchBrowser()]);
  t = await startTestApp({ BASE_URL: baseUrl, OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_LABEL: 'Microsoft' });
  server.on('request', t.app);
  const district = await createDistrict();
  const school = await createSchool(district);
  await createUser(district, { schools: [school], name: 'Rosa Front Office', email: 'rosa@district.test', jobTitle: 'front_office' });
  idp.setAccounts({ 'ms-rosa': { email: 'rosa@district.test', email_verified: true, name: 'Rosa' } });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.close();
  await idp?.close();
});

const atIdp = (url: URL) => url.origin === idp.issuer;

async function signInAtIdp(page: Page, login: string): Promise<void> {
  await page.goto('/login');
  await Promise.all([page.waitForURL(atIdp), page.getByRole('button', { name: 'Sign in with Microsoft' }).click()]);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await Promise.all([page.waitForURL((url) => url.origin === baseUrl), page.getByRole('button', { name: 'Continue' }).click()]);
}

describe('single sign-on on a shared computer', () => {
  test('when a person signs in with the provider and signs out, then the provider signs them out too and the next person is asked who they are', async () => {
    const context = await newContext(browser, baseUrl);
    const page = await context.newPage();
    try {
      await signInAtIdp(page, 'ms-rosa');
      await page.goto('/account');
      await expect(page.textContent('main')).resolves.toContain('Rosa Front Office');

      // Sign out: our session ends, then the provider's "sign out?" page, then back to our sign-in page.
      await Promise.all([page.waitForURL(atIdp), page.locator('form[action="/logout"] button').click()]);
      await Promise.all([page.waitForURL((url) => url.origin === baseUrl && url.pathname === '/login'), page.getByRole('button', { name: 'Yes, sign me out' }).click()]);
      await expect(page.getByRole('status').textContent()).resolves.toContain('You have signed out.');
      await page.goto('/account');
      expect(new URL(page.url()).pathname).toBe('/login');

      // The next person at this browser gets the provider's sign-in screen, not Rosa's account.
      await Promise.all([page.waitForURL(atIdp), page.getByRole('button', { name: 'Sign in with Microsoft' }).click()]);
      await expect(page.locator('input[name="login"]').count()).resolves.toBe(1);
    } finally {
      await context.close();
    }
  });
});
