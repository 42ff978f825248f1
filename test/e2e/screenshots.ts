/// <reference lib="dom" />
/**
 * `npm run screenshots`: starts the app the way the browser tests do (in-process, random loopback port,
 * in-memory embedded database), creates a small district, and writes a PNG of every main page for each
 * role in English and Spanish into ./screenshots/ (git-ignored), for people to review.
 *
 *   screenshots/<role>/<nn>-<page>-<lang>.png       desktop, 1280 px wide, full page
 *   screenshots/staff-phone/<nn>-<page>-<lang>.png  a custodian on a 375 px phone
 */
import path from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser, newContext } from './helpers/browser';
import { startE2EServer } from './helpers/server';
import { signIn } from './helpers/auth';
import { navigating } from './helpers/keyboard';
import { createWorld, assignTraining, type World } from './helpers/world';
import { completeModuleAs, playModule, startFromOverview, type StepKind } from './helpers/player';
import { District } from '../../src/components/districts';
import { Completion } from '../../src/components/completions';

const OUT = path.resolve(process.cwd(), 'screenshots');
const LANGS = ['en', 'es'] as const;
type Lang = (typeof LANGS)[number];

const withLang = (url: string, lang: Lang) => {
  const u = new URL(url, 'http://x');
  u.searchParams.set('lang', lang);
  return `${u.pathname}${u.search}`;
};

class Album {
  private readonly numbers = new Map<string, number>();
  constructor(private readonly dir: string) {}
  async init() {
    await mkdir(path.join(OUT, this.dir), { recursive: true });
  }
  /** The page as it is now, in one language (a page keeps its number in both languages). */
  async take(page: Page, lang: Lang, name: string) {
    if (!this.numbers.has(name)) this.numbers.set(name, this.numbers.size + 1);
    const file = path.join(OUT, this.dir, `${String(this.numbers.get(name)).padStart(2, '0')}-${name}-${lang}.png`);
    await page.screenshot({ path: file, fullPage: true });
    written.push(path.relative(process.cwd(), file));
  }
  /** A page reachable by GET: shot in English and in Spanish. */
  async both(page: Page, url: string, name: string) {
    for (const lang of LANGS) {
      await page.goto(withLang(url, lang));
      await this.take(page, lang, name);
    }
  }
}

const written: string[] = [];

async function withRole(browser: Browser, baseUrl: string, email: string, album: Album, run: (page: Page) => Promise<void>, options: BrowserContextOptions = {}) {
  await album.init();
  const context = await newContext(browser, baseUrl, options);
  try {
    const page = await context.newPage();
    await signIn(page, email);
    await run(page);
  } finally {
    await context.close();
  }
}

/** Re-submits a form in each language and shoots the 422 re-render. */
async function invalidBoth(page: Page, album: Album, formUrl: string, button: string, name: string, prepare?: (p: Page) => Promise<void>) {
  for (const lang of LANGS) {
    await page.goto(withLang(formUrl, lang));
    await prepare?.(page);
    await navigating(page, () => page.click(button));
    await album.take(page, lang, name);
  }
}

/** Plays a module, shooting the first page of each kind in both languages. */
async function playAndShoot(page: Page, album: Album, slug: string, kinds: StepKind[]) {
  const seen = new Set<StepKind>();
  await playModule(page, slug, {
    keyboard: false,
    strategy: (i, available) => (i === 0 && available.includes('wrong') ? 'wrong' : 'best'),
    onStep: async (p, step) => {
      if (seen.has(step.kind) || !kinds.includes(step.kind)) return;
      seen.add(step.kind);
      const url = new URL(p.url()).pathname;
      for (const lang of LANGS) {
        await p.goto(withLang(url, lang));
        await album.take(p, lang, `play-${step.kind}`);
      }
      await p.goto(withLang(url, 'en'));
      if (step.kind === 'decision') {
        // The same decision sent without a choice (422), as a browser without validation would.
        for (const lang of LANGS) {
          await p.goto(withLang(url, lang));
          await p.evaluate(() => document.querySelectorAll('main input[name=choice]').forEach((i) => i.removeAttribute('required')));
          await navigating(p, () => p.click('main form[action$="/play"] button[type=submit]'));
          await album.take(p, lang, 'play-decision-error');
        }
        await p.goto(withLang(url, 'en'));
      }
    },
  }, false);
}

async function setUp(world: World, browser: Browser, baseUrl: string) {
  await District.updateOne(
    { _id: world.district._id },
    {
      $set: {
        'settings.policyReference': 'BP 5145.13',
        'settings.contacts': {
          principal: { name: 'the site principal', nameEs: 'la dirección del plantel', phone: '(555) 010-1000' },
          counsel_office: { name: 'Riverbend Office of General Counsel', nameEs: 'la Oficina del Asesor Jurídico de Riverbend', phone: '(555) 010-2040' },
          rapid_response: { name: 'Riverbend rapid-response line', nameEs: 'la línea de respuesta rápida de Riverbend', phone: '(555) 010-9111' },
          family_hotline: { name: 'Riverbend family hotline', nameEs: 'la línea de ayuda para familias de Riverbend', phone: '(555) 010-3300' },
        },
      },
    },
  );
  await assignTraining(world, 'foundations', { roles: ['staff', 'principal'], dueInDays: -10 });
  await assignTraining(world, 'classroom', { roles: ['staff'], jobTitles: ['teacher', 'custodian'], dueInDays: 21 });
  await assignTraining(world, 'front-office', { roles: ['staff'], jobTitles: ['front_office'], dueInDays: 30 });
  await assignTraining(world, 'site-leadership', { roles: ['principal'], dueInDays: 45 });
  await completeModuleAs(browser, baseUrl, world.users.teacher.email, 'foundations');
  await completeModuleAs(browser, baseUrl, world.users.otherSchoolTeacher.email, 'foundations');
  // Fatima stops halfway through her module (in progress).
  const context = await newContext(browser, baseUrl);
  try {
    const page = await context.newPage();
    await signIn(page, world.users.frontOffice.email);
    await page.goto('/training/front-office');
    await startFromOverview(page, false);
    await playModule(page, 'front-office', { keyboard: false, stopWhen: (s) => s.kind === 'decision' && s.decisionIndex === 2 }, false);
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  const server = await startE2EServer();
  const browser = await launchBrowser();
  const started = Date.now();
  try {
    const world = await createWorld('shots');
    await setUp(world, browser, server.baseUrl);
    const { lincoln } = world.schools;
    const certificateCode = (await Completion.findOne({ user: world.users.teacher._id }).lean())?.certificateCode ?? 'UNKNOWN';

    // Signed out.
    const anonymous = new Album('anonymous');
    await anonymous.init();
    {
      const context = await newContext(browser, server.baseUrl);
      const page = await context.newPage();
      await anonymous.both(page, '/login', 'sign-in');
      await invalidBoth(page, anonymous, '/login', 'main form button[type=submit]', 'sign-in-errors');
      await anonymous.both(page, '/verify', 'verify-form');
      await anonymous.both(page, `/verify/${certificateCode}`, 'verify-valid');
      await anonymous.both(page, '/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA', 'verify-not-found');
      await context.close();
    }

    // A teacher at her desk.
    const staff = new Album('staff');
    await withRole(browser, server.baseUrl, world.users.teacher.email, staff, async (page) => {
      await staff.both(page, '/training', 'training-list');
      await staff.both(page, '/training/foundations', 'overview-completed');
      await staff.both(page, '/training/classroom', 'overview-not-started');
      await page.goto('/training/classroom?lang=en');
      await startFromOverview(page, false);
      await playAndShoot(page, staff, 'classroom', ['narrative', 'decision', 'feedback', 'end', 'results']);
      await staff.both(page, '/training/classroom/card', 'quick-reference-card');
      await staff.both(page, `/verify/${certificateCode}`, 'verify-own');
      await staff.both(page, '/account', 'account');
      await invalidBoth(page, staff, '/account', 'main form[action="/account/password"] button[type=submit]', 'account-password-errors');
      await staff.both(page, '/admin/users', 'error-403');
      await staff.both(page, '/no-such-page', 'error-404');
    });

    // A custodian on a phone.
    const phone = new Album('staff-phone');
    await withRole(browser, server.baseUrl, world.users.custodian.email, phone, async (page) => {
      await phone.both(page, '/training', 'training-list');
      await phone.both(page, '/training/classroom', 'overview');
      await page.goto('/training/classroom?lang=en');
      await startFromOverview(page, false);
      await playAndShoot(page, phone, 'classroom', ['narrative', 'decision', 'feedback', 'results']);
      await phone.both(page, '/account', 'account');
    }, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    {
      const context = await newContext(browser, server.baseUrl, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      const page = await context.newPage();
      await phone.both(page, '/login', 'sign-in');
      await context.close();
    }

    // The principal.
    const principal = new Album('principal');
    await withRole(browser, server.baseUrl, world.users.principal.email, principal, async (page) => {
      await principal.both(page, `/school/${lincoln._id}`, 'school');
      await principal.both(page, `/school/${lincoln._id}?status=overdue`, 'school-overdue');
      await principal.both(page, `/school/${lincoln._id}/staff/${world.users.teacher._id}`, 'staff-record-completed');
      await principal.both(page, `/school/${lincoln._id}/staff/${world.users.overdueTeacher._id}`, 'staff-record-overdue');
      await principal.both(page, `/school/${lincoln._id}/reminders`, 'reminders');
      await principal.both(page, '/training', 'training-list');
      await principal.both(page, '/account', 'account');
    });

    // The district admin.
    const admin = new Album('district-admin');
    await withRole(browser, server.baseUrl, world.users.admin.email, admin, async (page) => {
      await admin.both(page, '/district', 'district');
      await admin.both(page, `/school/${lincoln._id}`, 'school-drill-down');
      await admin.both(page, '/admin', 'administration');
      await admin.both(page, '/admin/assignments', 'assignments-list');
      await admin.both(page, '/admin/assignments/new', 'assignments-new');
      await invalidBoth(page, admin, '/admin/assignments/new', 'main form[action="/admin/assignments"] button[type=submit]', 'assignments-errors');
      await admin.both(page, '/admin/users', 'users-list');
      await admin.both(page, '/admin/users/new', 'users-new');
      await invalidBoth(page, admin, '/admin/users/new', 'main form[action="/admin/users"] button[type=submit]', 'users-errors');
      await admin.both(page, `/admin/users/${world.users.frontOffice._id}`, 'users-edit');
      await admin.both(page, '/admin/schools', 'schools-list');
      await admin.both(page, '/admin/schools/new', 'schools-new');
      await invalidBoth(page, admin, '/admin/schools/new', 'main form[action="/admin/schools"] button[type=submit]', 'schools-errors');
      await admin.both(page, `/admin/schools/${lincoln._id}`, 'schools-edit');
      await admin.both(page, '/admin/settings', 'settings');
      await invalidBoth(page, admin, '/admin/settings', 'main form[action="/admin/settings"] button[type=submit]', 'settings-errors', async (p) => {
        await p.fill('#field-jurisdiction', '');
        await p.fill('#field-contact_school_police_phone', 'ask the office');
      });
      await admin.both(page, '/admin/audit', 'audit-log');
      await admin.both(page, '/admin/audit/verify', 'audit-verify');
      await admin.both(page, '/admin/audit/fingerprints', 'audit-fingerprints');
      await admin.both(page, '/admin/scim', 'provisioning-scim');
      await admin.both(page, '/admin/roster', 'roster-import');
      await admin.both(page, '/account', 'account');
    });
  } finally {
    await browser.close();
    await server.close();
  }
  process.stdout.write(`${written.length} screenshots in ${path.relative(process.cwd(), OUT) || '.'}/ (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
