/// <reference lib="dom" />
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { configureXapi } from '../../src/components/xapi';
import { startTestLrs, type TestLrs } from '../helpers/lrs-server';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { navigating } from './helpers/keyboard';
import { asRole, auditBoth, auditInvalidSubmit } from './helpers/sweep';
import { createWorld, type World } from './helpers/world';

/** axe and the focus/error checks (see accessibility-admin.test.ts) on the xAPI page: empty, 422, configured with a refused test. */
jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let world: World;
let lrs: TestLrs;

beforeAll(async () => {
  [server, browser, lrs] = await Promise.all([startE2EServer(), launchBrowser(), startTestLrs()]);
  configureXapi({ ...server.testApp.config, xapiSecretKey: randomBytes(32) });
  world = await createWorld('a11y-xapi');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await lrs?.close();
});

test('when a district admin sets up the LRS, then the page, its 422 and the answer to a refused test have no WCAG 2.1 AA violations and errors are tied to fields', async () => {
  const problems: string[] = [];
  await asRole(browser, server.baseUrl, world.users.admin.email, async (page) => {
    await auditBoth(page, '/admin/xapi', 'xAPI (nothing set up)', problems);
    await auditInvalidSubmit(page, '/admin/xapi', '/admin/xapi', 'xAPI settings 422', problems);
    await page.goto('/admin/xapi?lang=en');
    await page.fill('#field-endpoint', lrs.endpoint);
    await page.fill('#field-authKey', lrs.key);
    await page.fill('#field-secret', 'not-the-secret');
    await page.check('#field-enabled');
    const saved = await navigating(page, () => page.getByRole('button', { name: 'Save settings' }).press('Enter'));
    expect(saved?.status()).toBe(200);
    await navigating(page, () => page.getByRole('button', { name: 'Send a test statement' }).press('Enter'));
    await auditBoth(page, '/admin/xapi', 'xAPI (configured, test refused)', problems);
    // The IRI base form sent unconfirmed: 422 with the error at the confirmation checkbox.
    await auditInvalidSubmit(page, '/admin/xapi', '/admin/xapi/iri-base', 'xAPI IRI base 422', problems, (p) => p.fill('#field-iriBase', 'https://training.district.example'));
  });
  expect(problems).toEqual([]);
  expect(lrs.requests.map((r) => r.status)).toEqual([401]);
});
