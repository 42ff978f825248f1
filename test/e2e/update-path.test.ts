import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Browser } from 'playwright-core';
import { Completion } from '../../src/components/completions';
import { syncComplianceForUsers } from '../../src/components/assignments';
import { configureLogger } from '../../src/shared/logger';
import { startTestApp, type TestApp } from '../helpers/app';
import { createDistrict, createSchool, createUser } from '../helpers/factories';
import { createAssignment } from '../integration/modules/modules.helpers';
import { prepareUpdateModules } from '../integration/training/update.helpers';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { navigating } from './helpers/keyboard';
import { asRole, auditBoth } from './helpers/sweep';

/**
 * The update path in a real browser: axe (WCAG 2.1 AA), focus and skip link on the update offer (list and
 * module page) and the update's player and results pages, in English and Spanish; the update is started
 * and played with the keyboard (Enter on buttons, Space on radio buttons), as the full player is.
 */
jest.setTimeout(E2E_TIMEOUT * 2);

const SLUG = 'fixture-basics';
let browser: Browser;
let testApp: TestApp;
let server: http.Server;
let baseUrl: string;
let cleanup: () => Promise<void>;
let email: string;

beforeAll(async () => {
  configureLogger('silent');
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [testApp, browser] = await Promise.all([startTestApp({ BASE_URL: baseUrl }), launchBrowser()]);
  cleanup = await prepareUpdateModules();
  server.on('request', testApp.app);
  const district = await createDistrict();
  const school = await createSchool(district);
  await createAssignment(district, { minVersion: 2 });
  const user = await createUser(district, { schools: [school] });
  email = user.email;
  await Completion.create({
    user: user._id,
    district: district._id,
    school: school._id,
    moduleSlug: SLUG,
    moduleVersion: 1,
    method: 'played',
    attempt: new Types.ObjectId(),
    score: 90,
    completedAt: new Date(Date.now() - 30 * 24 * 3600 * 1000),
    certificateCode: randomBytes(16).toString('hex').toUpperCase(),
  });
  await syncComplianceForUsers([user._id]);
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await testApp?.close();
  await cleanup?.();
});

describe('accessibility: the update path', () => {
  test('when an outdated learner sees the offer and plays the update by keyboard, then every page passes the audit and the update completes', async () => {
    const problems: string[] = [];
    await asRole(browser, baseUrl, email, async (page) => {
      await auditBoth(page, '/training', 'training list with update offer', problems);
      await auditBoth(page, `/training/${SLUG}`, 'module page with update offer', problems);

      await page.goto(`/training/${SLUG}?lang=en`);
      await navigating(page, () => page.getByRole('button', { name: 'Start the update' }).press('Enter'));
      expect(new URL(page.url()).pathname).toBe(`/training/${SLUG}/play`);
      await auditBoth(page, `/training/${SLUG}/play`, 'update decision', problems);

      await page.goto(`/training/${SLUG}/play?lang=en`);
      for (let guard = 0; guard < 20 && !(await page.locator('.results').count()); guard += 1) {
        const radios = page.locator('input[type=radio][name=choice]');
        if (await radios.count()) {
          await radios.first().focus();
          await page.keyboard.press('Space');
        }
        await navigating(page, () => page.locator('main form button[type=submit]').first().press('Enter'));
        if (guard === 0) await auditBoth(page, `/training/${SLUG}/play`, 'update feedback', problems, 200, false);
      }
      await auditBoth(page, `/training/${SLUG}/play`, 'update results', problems);
      await page.goto(`/training/${SLUG}/play?lang=en`);
      expect(await page.locator('main').innerText()).toContain('This update completes version 2 (update from version 1).');
    });
    expect(problems).toEqual([]);
    expect(await Completion.countDocuments({ moduleSlug: SLUG, moduleVersion: 2, method: 'update' })).toBe(1);
  });
});
