/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { signIn } from './helpers/auth';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { auditPage, checkControlContrast } from './helpers/audit';
import { navigating } from './helpers/keyboard';
import { asRole, auditBoth, auditInvalidSubmit } from './helpers/sweep';
import { createWorld, assignTraining, type World } from './helpers/world';
import { currentStep, playModule, startFromOverview } from './helpers/player';
import { randomBytes } from 'node:crypto';
import { User } from '../../src/components/users';
import { ResetToken, hashToken } from '../../src/components/password-reset';

/** An open "choose a password" link for a person, made directly (the e2e server writes no email). */
async function openResetLink(email: string): Promise<string> {
  const user = await User.findOne({ email }).lean().orFail();
  const token = randomBytes(32).toString('base64url');
  await ResetToken.create({ user: user._id, district: user.district, tokenHash: hashToken(token), expiresAt: new Date(Date.now() + 30 * 60_000) });
  return token;
}

/**
 * axe (WCAG 2.1 A/AA) on every page type for every role, plus what axe cannot see: the skip link is the
 * first Tab stop and lands on main, every Tab stop shows focus, and form errors are tied to their fields.
 * Full audit in English; axe again in Spanish. Each test collects every problem, then asserts none.
 */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('a11y');
  await assignTraining(world, 'foundations', { roles: ['staff', 'principal'], dueInDays: -5 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('accessibility: account and errors for staff', () => {
  test('when a teacher uses the account page and hits errors, then the pages are accessible and the password errors are tied to their fields', async () => {
    const problems: string[] = [];
    await asRole(browser, server.baseUrl, world.users.custodian.email, async (page) => {
      await auditBoth(page, '/account', 'account (staff)', problems);
      await auditInvalidSubmit(page, '/account', '/account/password', 'account password 422', problems);
      await auditBoth(page, '/admin/users', '403 (staff)', problems, 403, false);
      await auditBoth(page, '/training/no-such-module', '404 (staff)', problems, 404, false);
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: learner pages', () => {
  // Every kind of play page, the results and the verify page are audited along the keyboard journey
  // (learner-keyboard.test.ts), so this test does not play a whole module again.
  test('when a teacher opens the training list, a module overview, its card and a decision sent without a choice, then each is accessible in both languages and the error is tied to the choices', async () => {
    const problems: string[] = [];
    await asRole(browser, server.baseUrl, world.users.teacher.email, async (page) => {
      await auditBoth(page, '/training', 'training list', problems);
      await auditBoth(page, '/training/foundations', 'module overview', problems);
      await auditBoth(page, '/training/foundations/card', 'quick-reference card', problems);
      await page.goto('/training/foundations?lang=en');
      await startFromOverview(page, false);
      const atDecision = await playModule(page, 'foundations', { keyboard: false, stopWhen: (s) => s.kind === 'decision' });
      problems.push(...atDecision.problems);
      expect(atDecision.stoppedAt).toBe('decision');
      const path = new URL(page.url()).pathname;
      problems.push(...(await auditPage(page, 'play decision (en)')));
      await page.goto(`${path}?lang=es`);
      problems.push(...(await axeViolations(page, 'play decision (es)')));
      await page.goto(`${path}?lang=en`);

      // Sent without a choice (a browser that skips the radios' required check): 422, focus on the error, error on the group.
      await page.evaluate(() => document.querySelectorAll('main input[name=choice]').forEach((i) => i.removeAttribute('required')));
      const response = await navigating(page, () => page.click('main form[action$="/play"] button[type=submit]'));
      expect(response?.status()).toBe(422);
      if ((await page.evaluate(() => document.activeElement?.id)) !== 'error-summary') problems.push('play decision 422: focus is not on the error summary');
      const describedBy = (await page.getAttribute('#field-choice', 'aria-describedby')) ?? '';
      if (!describedBy.includes('error-choice')) problems.push('play decision 422: the choice group does not reference its error');
      problems.push(...(await auditPage(page, 'play decision 422')));
      // Nothing was recorded: the same decision is still there.
      expect((await currentStep(page)).kind).toBe('decision');
    });
    // The public verify form and a code that does not exist, signed out.
    const context = await newContext(browser, server.baseUrl);
    try {
      const page = await context.newPage();
      await auditBoth(page, '/verify', 'verify form (anonymous)', problems);
      await auditBoth(page, '/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA', 'verify not found (anonymous)', problems, 404, false);
      await auditBoth(page, '/login', 'sign-in', problems);
      await auditBoth(page, '/login/reset', 'password link request', problems);
      await auditInvalidSubmit(page, '/login/reset', '/login/reset', 'password link request 422', problems);
      await auditBoth(page, `/login/reset/${await openResetLink(world.users.teacher.email)}`, 'choose a password', problems);
      await auditBoth(page, '/login/reset/expired-or-made-up', 'password link expired', problems, 410);
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});

describe('accessibility: principal pages', () => {
  test('when a principal visits her school, a staff record, the reminders, her training and her account, then each is accessible in both languages', async () => {
    const problems: string[] = [];
    const school = world.schools.lincoln._id;
    await asRole(browser, server.baseUrl, world.users.principal.email, async (page) => {
      await auditBoth(page, `/school/${school}`, 'school (principal)', problems);
      await auditBoth(page, `/school/${school}?status=overdue`, 'school filtered (principal)', problems, 200, false);
      await auditBoth(page, `/school/${school}/staff/${world.users.overdueTeacher._id}`, 'staff record (principal)', problems);
      await auditBoth(page, `/school/${school}/reminders`, 'reminders (principal)', problems, 200, false);
      await auditBoth(page, '/reports/decisions?module=foundations', 'decision insights (principal)', problems);
      await auditBoth(page, '/training', 'training list (principal)', problems, 200, false);
      await auditBoth(page, '/account', 'account (principal)', problems, 200, false);
      await auditBoth(page, `/school/${world.schools.roosevelt._id}`, 'other school (principal)', problems, 404, false);
      await auditBoth(page, '/admin/settings', 'settings (principal)', problems, 403, false);
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: dark colour scheme', () => {
  // Many staff phones and some desktops ask for a dark scheme; Pico follows it unless the page fixes a theme.
  test('when the operating system asks for a dark colour scheme, then the sign-in, training, play and school pages still meet contrast', async () => {
    const problems: string[] = [];
    const context = await newContext(browser, server.baseUrl, { colorScheme: 'dark' });
    try {
      const page = await context.newPage();
      await page.goto('/login');
      problems.push(...(await axeViolations(page, 'sign-in (dark)')));
      await signIn(page, world.users.custodian.email);
      for (const [path, label] of [['/training', 'training list (dark)'], ['/training/foundations', 'module overview (dark)'], ['/account', 'account (dark)']]) {
        await page.goto(path);
        problems.push(...(await axeViolations(page, label)));
        problems.push(...(await checkControlContrast(page)).map((p) => `${label}: ${p}`));
      }
      await page.goto('/training/foundations');
      await startFromOverview(page, false);
      await playModule(page, 'foundations', { keyboard: false, stopWhen: (s) => s.kind === 'feedback' });
      problems.push(...(await axeViolations(page, 'play feedback (dark)')));
    } finally {
      await context.close();
    }
    await asRole(browser, server.baseUrl, world.users.principal.email, async (page) => {
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`/school/${world.schools.lincoln._id}`);
      problems.push(...(await axeViolations(page, 'school (dark)')));
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: facilitated group sessions', () => {
  test('when a principal starts a group session, presents it and takes attendance, then every page is accessible in both languages', async () => {
    const problems: string[] = [];
    const school = world.schools.lincoln._id;
    await asRole(browser, server.baseUrl, world.users.principal.email, async (page) => {
      await auditBoth(page, `/school/${school}/sessions`, 'sessions list', problems);
      await auditBoth(page, `/school/${school}/sessions/new`, 'new session', problems);
      await page.goto(`/school/${school}/sessions/new?lang=en`);
      await page.locator('input[name="module"]').first().check();
      await Promise.all([page.waitForURL(/\/sessions\/[0-9a-f]{24}$/), page.getByRole('button', { name: /start/i }).click()]);
      const sessionPath = new URL(page.url()).pathname;
      await auditBoth(page, sessionPath, 'session', problems);
      await auditBoth(page, `${sessionPath}/present?step=3`, 'session presenter', problems);
      await auditBoth(page, `${sessionPath}/present/all`, 'session handout', problems, 200, false);
      await auditBoth(page, `${sessionPath}/attendance`, 'session attendance', problems);
      await auditBoth(page, `${sessionPath}/finish`, 'session finish (confirm)', problems, 200, false);
    });
    expect(problems).toEqual([]);
  });
});
