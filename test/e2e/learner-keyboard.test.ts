/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { auditPage } from './helpers/audit';
import { navigating, tabTo } from './helpers/keyboard';
import { signInWithKeyboard, signOutWithKeyboard } from './helpers/auth';
import { createWorld, assignTraining, type World } from './helpers/world';
import { currentStep, playModule, startFromOverview, type StepKind } from './helpers/player';
import { downloadWithKeyboard, pdfText } from './helpers/files';
import { moduleTitle } from './helpers/content';
import { Attempt } from '../../src/components/completions';

/**
 * Learners as they really work: keyboard only (Tab, arrow keys in a radio group, Space, Enter),
 * in English and Spanish, leaving and coming back mid-scenario.
 */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('kb');
  await assignTraining(world, 'foundations', { roles: ['staff'], dueInDays: 30 });
  await assignTraining(world, 'front-office', { roles: ['staff'], jobTitles: ['front_office'], dueInDays: 30 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Once on each kind of play page (narrative, decision, feedback, end of a scenario, results): in English
 * the full audit (axe, skip link, visible focus on every control, error wiring); in Spanish axe.
 */
function auditOncePerKind(sink: string[], lang: 'en' | 'es') {
  const seen = new Set<string>();
  return async (page: Page, step: { kind: StepKind }) => {
    if (seen.has(step.kind)) return;
    seen.add(step.kind);
    const label = `play ${step.kind} (${lang}) "${(await currentStep(page)).heading.slice(0, 30)}"`;
    sink.push(...(lang === 'en' ? await auditPage(page, label) : await axeViolations(page, label)));
  };
}

async function openModuleWithKeyboard(page: Page, slug: string): Promise<void> {
  await tabTo(page, `main a[href="/training/${slug}"]`);
  await navigating(page, () => page.keyboard.press('Enter'));
  expect(new URL(page.url()).pathname).toBe(`/training/${slug}`);
}

/** On the results page: the certificate downloads by keyboard, is a real PDF naming the learner, and its verify link works for anyone. */
async function checkCertificateAndVerify(page: Page, learnerName: string, slug: string, lang: 'en' | 'es', problems: string[]): Promise<void> {
  await tabTo(page, 'main a[href^="/training/certificates/"]');
  const certificate = await downloadWithKeyboard(page);
  expect(certificate.contentType).toMatch(/application\/pdf/);
  const { text } = await pdfText(certificate.bytes);
  expect(text).toContain(learnerName);
  expect(text.replace(/\s+/g, ' ')).toContain(await moduleTitle(slug, lang));
  const code = /\/training\/certificates\/([A-Z2-7]+)\.pdf/.exec(certificate.url)?.[1];
  expect(code).toBeDefined();
  expect(text.replace(/\s+/g, '')).toContain(`${server.baseUrl}/verify/${code}`);

  // The learner follows the verify link from the results page.
  await tabTo(page, `main a[href="/verify/${code}"]`);
  await navigating(page, () => page.keyboard.press('Enter'));
  expect(new URL(page.url()).pathname).toBe(`/verify/${code}`);
  await expect(page.locator('main').innerText()).resolves.toContain(learnerName);
  await expect(page.locator('main').innerText()).resolves.toContain(await moduleTitle(slug, lang));
  problems.push(...(await axeViolations(page, `verify (${lang}, signed in)`)));

  // A checker with no account opens the link printed on the certificate.
  const anonymous = await newContext(browser, server.baseUrl);
  try {
    const checker = await anonymous.newPage();
    const response = await checker.goto(`${server.baseUrl}/verify/${code}`);
    expect(response?.status()).toBe(200);
    expect(new URL(checker.url()).pathname).toBe(`/verify/${code}`);
    await expect(checker.locator('main').innerText()).resolves.toContain(learnerName);
    problems.push(...(await auditPage(checker, 'verify (anonymous)')));
    const missing = await checker.goto(`${server.baseUrl}/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(missing?.status()).toBe(404);
    problems.push(...(await auditPage(checker, 'verify not found')));
  } finally {
    await anonymous.close();
  }
}

describe('teacher, keyboard only', () => {
  let context: BrowserContext;
  afterAll(async () => context?.close());

  test('when a teacher signs in and plays a module with only the keyboard, then each decision shows its feedback, focus follows the new content, and the certificate and its verify link work', async () => {
    const problems: string[] = [];
    context = await newContext(browser, server.baseUrl);
    const page = await context.newPage();
    const teacher = world.users.teacher;

    await signInWithKeyboard(page, teacher.email);
    expect(new URL(page.url()).pathname).toBe('/training');
    problems.push(...(await auditPage(page, 'training list (en)')));
    await openModuleWithKeyboard(page, 'foundations');
    problems.push(...(await auditPage(page, 'module overview (en)')));
    await startFromOverview(page, true);

    // One wrong and one acceptable answer along the way: the learner sees each kind of feedback and still passes.
    let gaveAcceptable = false;
    const result = await playModule(page, 'foundations', {
      keyboard: true,
      strategy: (i, available) => {
        if (i === 0) return 'wrong';
        if (!gaveAcceptable && available.includes('acceptable')) {
          gaveAcceptable = true;
          return 'acceptable';
        }
        return 'best';
      },
      onStep: auditOncePerKind(problems, 'en'),
    });
    problems.push(...result.problems);
    const feedbacks = result.steps.filter((s) => s.kind === 'feedback');
    expect(feedbacks.length).toBe(result.decisionsMade);
    expect(feedbacks[0].outcome).toBe('wrong');
    expect(feedbacks.map((f) => f.outcome)).toContain('acceptable');
    expect(result.decisionsMade).toBeGreaterThanOrEqual(6);

    // Results: passed, and focus was put on the result heading when the page loaded.
    expect(result.steps.at(-1)).toMatchObject({ kind: 'results', focusOnLoad: '<h2#step-heading>' });
    await expect(page.locator('#step-heading').innerText()).resolves.toMatch(/pass/i);
    problems.push(...(await axeViolations(page, 'results (en)')));

    await checkCertificateAndVerify(page, teacher.name, 'foundations', 'en', problems);

    // The training list now shows the module as completed.
    await page.goto('/training');
    await expect(page.locator('main li', { has: page.locator('a[href="/training/foundations"]') }).locator('.status').innerText()).resolves.toMatch(/passed|complete/i);
    expect(problems).toEqual([]);
  });
});

describe('teacher in Spanish', () => {
  test('when a teacher switches to Spanish halfway through, then the same decision is shown in Spanish, nothing is lost, and she finishes and verifies in Spanish', async () => {
    const problems: string[] = [];
    const context = await newContext(browser, server.baseUrl);
    try {
      const page = await context.newPage();
      const learner = world.users.spanishTeacher;
      await signInWithKeyboard(page, learner.email);
      await openModuleWithKeyboard(page, 'foundations');
      await startFromOverview(page, true);

      // Halfway: at the fourth decision, before answering.
      const first = await playModule(page, 'foundations', { keyboard: true, stopWhen: (s) => s.kind === 'decision' && s.decisionIndex === 3 });
      problems.push(...first.problems);
      expect(first.stoppedAt).toBe('decision');
      const before = await currentStep(page);
      const stepBefore = await page.inputValue('main form[action$="/play"] input[name=step]');
      expect(await page.getAttribute('html', 'lang')).toBe('en');

      // The language switch in the header, by keyboard.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await tabTo(page, 'header [data-lang-switch]');
      await navigating(page, () => page.keyboard.press('Enter'));
      expect(await page.getAttribute('html', 'lang')).toBe('es');
      const after = await currentStep(page);
      expect(after.kind).toBe('decision');
      expect(after.offered).toEqual(before.offered);
      expect(after.heading).not.toBe(before.heading);
      expect(await page.inputValue('main form[action$="/play"] input[name=step]')).toBe(stepBefore);
      problems.push(...(await axeViolations(page, 'play decision (es)')));

      const rest = await playModule(page, 'foundations', { keyboard: true, onStep: auditOncePerKind(problems, 'es') });
      problems.push(...rest.problems);
      // Nothing lost: the stored attempt holds every decision, the ones before the switch first.
      const attempt = await Attempt.findOne({ user: learner._id, moduleSlug: 'foundations' }).sort({ startedAt: -1 }).lean();
      expect(attempt?.decisions.map((d) => d.choiceId)).toEqual([...first.steps, ...rest.steps].filter((s) => s.choiceId).map((s) => s.choiceId));
      await expect(page.locator('#step-heading').innerText()).resolves.toMatch(/aprob/i);
      expect(await page.getAttribute('html', 'lang')).toBe('es');
      problems.push(...(await axeViolations(page, 'results (es)')));
      await checkCertificateAndVerify(page, learner.name, 'foundations', 'es', problems);
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});

describe('front office, leaving mid-scenario', () => {
  test('when a front-office worker signs out mid-scenario and later closes the browser, then each time she signs back in she resumes at the same point', async () => {
    const problems: string[] = [];
    const learner = world.users.frontOffice;
    let context = await newContext(browser, server.baseUrl);
    try {
      let page = await context.newPage();
      await signInWithKeyboard(page, learner.email);
      await openModuleWithKeyboard(page, 'front-office');
      await startFromOverview(page, true);
      const part1 = await playModule(page, 'front-office', { keyboard: true, stopWhen: (s) => s.kind === 'decision' && s.decisionIndex === 2 });
      problems.push(...part1.problems);
      const at = await currentStep(page);
      const step = await page.inputValue('main form[action$="/play"] input[name=step]');

      // The bell rings: she signs out from the header.
      await signOutWithKeyboard(page);
      expect(new URL(page.url()).pathname).toBe('/login');
      expect((await page.goto('/training/front-office/play'), new URL(page.url()).pathname)).toBe('/login');

      // Back at her desk: her list shows the module in progress, and resuming lands on the same decision.
      await signInWithKeyboard(page, learner.email);
      await expect(page.locator('main li', { has: page.locator('a[href="/training/front-office"]') }).locator('.status').innerText()).resolves.toMatch(/progress/i);
      await openModuleWithKeyboard(page, 'front-office');
      await startFromOverview(page, true);
      const resumed = await currentStep(page);
      expect(resumed).toEqual(at);
      expect(await page.inputValue('main form[action$="/play"] input[name=step]')).toBe(step);

      // Answer it, read the feedback, then the browser is closed without signing out.
      const part2 = await playModule(page, 'front-office', { keyboard: true, stopWhen: (s) => s.kind === 'feedback' });
      problems.push(...part2.problems);
      const feedbackAt = await currentStep(page);
      const answered = part2.steps.find((s) => s.kind === 'decision')?.outcome;
      await context.close();

      context = await newContext(browser, server.baseUrl);
      page = await context.newPage();
      await signInWithKeyboard(page, learner.email, undefined, '/login?next=/training/front-office/play');
      expect(new URL(page.url()).pathname).toBe('/training/front-office/play');
      expect(await currentStep(page)).toEqual(feedbackAt);

      const rest = await playModule(page, 'front-office', { keyboard: true, previousOutcome: answered });
      problems.push(...rest.problems);
      await expect(page.locator('#step-heading').innerText()).resolves.toMatch(/pass/i);
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});
