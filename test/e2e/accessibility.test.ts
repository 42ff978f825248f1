/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { auditPage, visit } from './helpers/audit';
import { navigating } from './helpers/keyboard';
import { signIn } from './helpers/auth';
import { createWorld, assignTraining, type World } from './helpers/world';
import { currentStep, playModule, startFromOverview, type StepKind } from './helpers/player';

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

async function asRole(email: string, run: (page: Page, context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await newContext(browser, server.baseUrl);
  try {
    const page = await context.newPage();
    await signIn(page, email);
    await run(page, context);
  } finally {
    await context.close();
  }
}

/** Visits a page, audits it in English, then runs axe on the same page in Spanish. */
async function auditBoth(page: Page, path: string, label: string, sink: string[], expectStatus = 200): Promise<boolean> {
  const { problems } = await visit(page, `${path}${path.includes('?') ? '&' : '?'}lang=en`, label, expectStatus);
  sink.push(...problems);
  if (problems.length) return false;
  sink.push(...(await auditPage(page, `${label} (en)`)));
  await page.goto(`${path}${path.includes('?') ? '&' : '?'}lang=es`);
  sink.push(...(await axeViolations(page, `${label} (es)`)));
  return true;
}

/** Submits the main form as it is (empty) and audits the 422 re-render: error summary and field wiring. */
async function auditInvalidSubmit(page: Page, path: string, formAction: string, label: string, sink: string[], prepare?: (page: Page) => Promise<void>): Promise<void> {
  const { problems } = await visit(page, `${path}?lang=en`, label);
  sink.push(...problems);
  if (problems.length) return;
  await prepare?.(page);
  const response = await navigating(page, () => page.locator(`main form[action="${formAction}"] button[type=submit]`).first().press('Enter'));
  if (response?.status() !== 422) {
    sink.push(`${label} ${path}: submitting the form empty answered ${response?.status()}, not 422`);
    return;
  }
  const invalidCount = await page.locator('main [aria-invalid="true"]').count();
  if (invalidCount === 0) sink.push(`${label}: a 422 re-render marks no field aria-invalid`);
  if ((await page.evaluate(() => document.activeElement?.id)) !== 'error-summary') sink.push(`${label}: focus is not on the error summary after a 422`);
  sink.push(...(await auditPage(page, label)));
}

describe('accessibility: district admin pages', () => {
  test('when a district admin visits every admin page type, then there are no WCAG 2.1 AA violations, focus is visible and errors are tied to fields', async () => {
    const problems: string[] = [];
    await asRole(world.users.admin.email, async (page) => {
      await auditBoth(page, '/district', 'district dashboard', problems);
      await auditBoth(page, `/school/${world.schools.lincoln._id}`, 'school (admin drill-down)', problems);
      await auditBoth(page, '/admin/users', 'users list', problems);
      await auditBoth(page, '/admin/users/new', 'users form (new)', problems);
      await auditInvalidSubmit(page, '/admin/users/new', '/admin/users', 'users form 422', problems);
      await auditBoth(page, `/admin/users/${world.users.teacher._id}`, 'users form (edit)', problems);
      await auditBoth(page, '/admin/schools', 'schools list', problems);
      await auditBoth(page, '/admin/schools/new', 'schools form (new)', problems);
      await auditInvalidSubmit(page, '/admin/schools/new', '/admin/schools', 'schools form 422', problems);
      await auditBoth(page, `/admin/schools/${world.schools.lincoln._id}`, 'schools form (edit)', problems);
      await auditBoth(page, '/admin/assignments', 'assignments list', problems);
      await auditBoth(page, '/admin/assignments/new', 'assignments form (new)', problems);
      await auditInvalidSubmit(page, '/admin/assignments/new', '/admin/assignments', 'assignments form 422', problems);
      await auditBoth(page, '/admin/settings', 'settings', problems);
      await auditInvalidSubmit(page, '/admin/settings', '/admin/settings', 'settings 422', problems, async (p) => {
        await p.fill('#field-jurisdiction', '');
      });
      await auditBoth(page, '/account', 'account (admin)', problems);
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: account and errors for staff', () => {
  test('when a teacher uses the account page and hits errors, then the pages are accessible and the password errors are tied to their fields', async () => {
    const problems: string[] = [];
    await asRole(world.users.custodian.email, async (page) => {
      await auditBoth(page, '/account', 'account (staff)', problems);
      await auditInvalidSubmit(page, '/account', '/account/password', 'account password 422', problems);
      await auditBoth(page, '/admin/users', '403 (staff)', problems, 403);
      await auditBoth(page, '/training/no-such-module', '404 (staff)', problems, 404);
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: learner pages', () => {
  test('when a teacher goes through the training list, a module overview, every kind of play page (and a decision sent without a choice), the results and the verify page, then each is accessible in both languages', async () => {
    const problems: string[] = [];
    await asRole(world.users.teacher.email, async (page) => {
      await auditBoth(page, '/training', 'training list', problems);
      await auditBoth(page, '/training/foundations', 'module overview', problems);
      await auditBoth(page, '/training/foundations/card', 'quick-reference card', problems);
      await page.goto('/training/foundations?lang=en');
      await startFromOverview(page, false);

      const audited = new Set<StepKind>();
      let sentEmpty = false;
      const result = await playModule(page, 'foundations', {
        keyboard: false,
        onStep: async (p, step) => {
          if (step.kind === 'decision' && !sentEmpty) {
            // A decision sent without a choice (a browser that skips the required check): 422, error on the group.
            sentEmpty = true;
            await p.evaluate(() => document.querySelectorAll('main input[name=choice]').forEach((i) => i.removeAttribute('required')));
            const response = await navigating(p, () => p.click('main form[action$="/play"] button[type=submit]'));
            if (response?.status() !== 422) problems.push(`play decision without a choice answered ${response?.status()}, not 422`);
            if ((await p.evaluate(() => document.activeElement?.id)) !== 'error-summary') problems.push('play decision 422: focus is not on the error summary');
            const describedBy = (await p.getAttribute('#field-choice', 'aria-describedby')) ?? '';
            if (!describedBy.includes('error-choice')) problems.push('play decision 422: the choice group does not reference its error');
            problems.push(...(await auditPage(p, 'play decision 422')));
          }
          if (audited.has(step.kind)) return;
          audited.add(step.kind);
          const path = new URL(p.url()).pathname;
          problems.push(...(await auditPage(p, `play ${step.kind} (en)`)));
          await p.goto(`${path}?lang=es`);
          problems.push(...(await axeViolations(p, `play ${step.kind} (es)`)));
          await p.goto(`${path}?lang=en`);
          expect((await currentStep(p)).kind).toBe(step.kind);
        },
      });
      problems.push(...result.problems);
      expect([...audited].sort()).toEqual(['decision', 'end', 'feedback', 'narrative', 'results']);
      const verify = await page.getAttribute('main a[href^="/verify/"]', 'href');
      await auditBoth(page, verify!, 'verify (signed in)', problems);
    });
    // The public verify form and a code that does not exist, signed out.
    const context = await newContext(browser, server.baseUrl);
    try {
      const page = await context.newPage();
      await auditBoth(page, '/verify', 'verify form (anonymous)', problems);
      await auditBoth(page, '/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA', 'verify not found (anonymous)', problems, 404);
      await auditBoth(page, '/login', 'sign-in', problems);
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
    await asRole(world.users.principal.email, async (page) => {
      await auditBoth(page, `/school/${school}`, 'school (principal)', problems);
      await auditBoth(page, `/school/${school}?status=overdue`, 'school filtered (principal)', problems);
      await auditBoth(page, `/school/${school}/staff/${world.users.overdueTeacher._id}`, 'staff record (principal)', problems);
      await auditBoth(page, `/school/${school}/reminders`, 'reminders (principal)', problems);
      await auditBoth(page, '/training', 'training list (principal)', problems);
      await auditBoth(page, '/account', 'account (principal)', problems);
      await auditBoth(page, `/school/${world.schools.roosevelt._id}`, 'other school (principal)', problems, 404);
      await auditBoth(page, '/admin/settings', 'settings (principal)', problems, 403);
    });
    expect(problems).toEqual([]);
  });
});
