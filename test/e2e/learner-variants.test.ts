/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { navigating, tabTo } from './helpers/keyboard';
import { signIn, signInWithKeyboard } from './helpers/auth';
import { createWorld, assignTraining, type World } from './helpers/world';
import { currentStep, playModule, startFromOverview } from './helpers/player';
import { pdfText } from './helpers/files';
import { Completion } from '../../src/components/completions';

/** The learner journey without JavaScript, and on a 375 px phone screen. */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('var');
  await assignTraining(world, 'foundations', { roles: ['staff'], dueInDays: 30 });
  await assignTraining(world, 'classroom', { roles: ['staff'], jobTitles: ['teacher', 'custodian'], dueInDays: 30 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('JavaScript disabled', () => {
  test('when a teacher has JavaScript disabled, then she can sign in, switch language, play a module to the end with the keyboard, and get her certificate and its verification', async () => {
    const context = await newContext(browser, server.baseUrl, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const learner = world.users.noJsTeacher;
      await signInWithKeyboard(page, learner.email);
      expect(new URL(page.url()).pathname).toBe('/training');
      // Scripts really are off: app.js would otherwise have moved focus on the next pages.
      expect(await page.evaluate(() => typeof document.querySelector('script[src$="app.js"]'))).toBe('object');

      await tabTo(page, 'main a[href="/training/classroom"]');
      await navigating(page, () => page.keyboard.press('Enter'));
      await startFromOverview(page, true);

      const firstPart = await playModule(page, 'classroom', { keyboard: true, stopWhen: (s) => s.kind === 'decision' && s.decisionIndex === 2 }, false);
      expect(firstPart.problems).toEqual([]);
      const before = await currentStep(page);

      // Submitting without choosing: nothing is lost (the browser asks for a choice, or the server answers 422 with the error on the group).
      await tabTo(page, 'main form[action$="/play"] button[type=submit]');
      await page.keyboard.press('Enter');
      await page.waitForLoadState('load');
      const afterEmpty = await currentStep(page);
      expect(afterEmpty.offered).toEqual(before.offered);

      // The language switch is a plain link: it works without scripts and keeps the place.
      await page.click('header [data-lang-switch]');
      expect(await page.getAttribute('html', 'lang')).toBe('es');
      expect((await currentStep(page)).offered).toEqual(before.offered);
      await page.click('header [data-lang-switch]');
      expect(await page.getAttribute('html', 'lang')).toBe('en');

      const rest = await playModule(page, 'classroom', { keyboard: true }, false);
      expect(rest.problems).toEqual([]);
      expect(rest.steps.filter((s) => s.kind === 'feedback').length).toBe(rest.decisionsMade);
      await expect(page.locator('#step-heading').innerText()).resolves.toMatch(/pass/i);

      const href = await page.getAttribute('main a[href^="/training/certificates/"]', 'href');
      expect(href).toBeTruthy();
      const pdf = await page.request.get(href!);
      expect(pdf.status()).toBe(200);
      expect((await pdfText(await pdf.body())).text).toContain(learner.name);
      const verifyHref = await page.getAttribute('main a[href^="/verify/"]', 'href');
      await navigating(page, () => page.click(`main a[href="${verifyHref}"]`));
      await expect(page.locator('main').innerText()).resolves.toContain(learner.name);
      expect(await Completion.countDocuments({ user: learner._id, moduleSlug: 'classroom' })).toBe(1);
    } finally {
      await context.close();
    }
  });
});

describe('375 px phone screen', () => {
  async function overflow(page: Page): Promise<string | null> {
    const { scrollWidth, widest } = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      let widest = '';
      let max = vw;
      for (const el of Array.from(document.querySelectorAll('body *'))) {
        const r = el.getBoundingClientRect();
        if (r.right > max + 0.5) {
          max = r.right;
          widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''} (right edge ${Math.round(r.right)}px)`;
        }
      }
      return { scrollWidth: document.documentElement.scrollWidth, widest };
    });
    const limit = page.viewportSize()?.width ?? 375;
    return scrollWidth <= limit ? null : `${new URL(page.url()).pathname}${new URL(page.url()).search}: scrollWidth ${scrollWidth} > ${limit}; widest: ${widest}`;
  }

  test('when a custodian uses a phone, then no learner page scrolls sideways at 375 px (nor at 320 px), in English or Spanish', async () => {
    const problems: string[] = [];
    const context = await newContext(browser, server.baseUrl, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      const learner = world.users.custodian;
      for (const lang of ['en', 'es'] as const) {
        await page.goto(`/login?lang=${lang}`);
        const o = await overflow(page);
        if (o) problems.push(`sign-in (${lang}) ${o}`);
      }
      await page.goto('/login?lang=en');
      await signIn(page, learner.email);
      const check = async (label: string) => {
        for (const lang of ['en', 'es'] as const) {
          const url = new URL(page.url());
          url.searchParams.set('lang', lang);
          await page.goto(url.pathname + url.search);
          const o = await overflow(page);
          if (o) problems.push(`${label} (${lang}) ${o}`);
        }
      };
      await page.goto('/training');
      await check('training list');
      await page.goto('/training/classroom');
      await check('module overview');
      await page.goto('/training/classroom/card');
      await check('quick-reference card');
      await page.goto('/account');
      await check('account');
      await page.goto('/training/classroom');
      await startFromOverview(page, false);
      const seen = new Set<string>();
      const result = await playModule(page, 'classroom', {
        keyboard: false,
        strategy: (i) => (i === 0 ? 'wrong' : 'best'),
        onStep: async (p, step) => {
          if (step.kind === 'decision') {
            // On every decision the first answer is on the first screen: no scrolling past the header to find it.
            const top = await p.evaluate(() => {
              window.scrollTo(0, 0);
              const first = document.querySelector('main input[name=choice]');
              return first ? first.getBoundingClientRect().top : Infinity;
            });
            if (top > 740) problems.push(`play decision ${step.decisionIndex}: the first answer starts ${Math.round(top)} px down, below the first 740 px screen`);
          }
          if (seen.has(step.kind)) return;
          seen.add(step.kind);
          await check(`play ${step.kind}`);
        },
      }, true);
      problems.push(...result.problems);
      await check('results');
      const verifyHref = await page.getAttribute('main a[href^="/verify/"]', 'href');
      await page.goto(verifyHref!);
      await check('verify');

      // WCAG 1.4.10 reflow is stated at 320 CSS px: the same pages at the narrowest phones.
      await page.setViewportSize({ width: 320, height: 640 });
      for (const [path, label] of [['/training', 'training list'], ['/training/classroom', 'module overview'], [verifyHref!, 'verify'], ['/account', 'account']] as const) {
        await page.goto(path);
        await check(`${label} at 320 px`);
      }
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});
