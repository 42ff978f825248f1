/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Assignment, runQueuedComplianceJobs } from '../../src/components/assignments';
import { enqueueComplianceJob } from '../../src/components/assignments/compliance-jobs';
import { ComplianceJob } from '../../src/components/assignments/compliance-job.model';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { signIn } from './helpers/auth';
import { createWorld, isoDay, type World } from './helpers/world';

/**
 * The assignments page while a compliance job runs in the background: with JavaScript the status line
 * updates in place (no reload, focus kept, a polite live region); the page is accessible in each state.
 */
jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let world: World;
let context: BrowserContext;
let admin: Page;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('jobs');
  context = await newContext(browser, server.baseUrl);
  admin = await context.newPage();
  await signIn(admin, world.users.admin.email);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('assignments page: compliance job status', () => {
  test('when a queued job finishes while the admin is on the page, then its status and figures update in place without moving focus', async () => {
    const assignment = await Assignment.create({
      district: world.district._id,
      moduleSlug: 'foundations',
      audience: { roles: ['staff'], jobTitles: [], schools: [] },
      due: { kind: 'fixed', date: isoDay(30) },
      recurrence: { kind: 'none' },
      minVersion: 1,
    });
    await enqueueComplianceJob({ districtId: world.district._id, kind: 'assignment', assignmentId: assignment._id, moduleSlug: 'foundations' });
    await admin.goto('/admin/assignments');
    const status = admin.locator(`#job-${assignment._id}`);
    await expect(status.getAttribute('data-job-state')).resolves.toBe('queued');
    await expect(status.locator('[data-job-text]').getAttribute('aria-live')).resolves.toBe('polite');
    await expect(status.innerText()).resolves.toContain('Updating compliance… waiting to start.');
    const problems = await axeViolations(admin, 'assignments, job queued');

    // The admin is somewhere else on the page; the page must not reload or take focus.
    await admin.evaluate(() => { (window as unknown as { marker: boolean }).marker = true; });
    await admin.focus('a[href="/admin/assignments/new"]');
    await runQueuedComplianceJobs();
    await admin.waitForSelector(`#job-${assignment._id}[data-job-state="done"]`, { timeout: 15_000 });

    await expect(status.innerText()).resolves.toMatch(/^Compliance updated /);
    await expect(admin.locator(`#figures-${assignment._id}`).innerText()).resolves.toMatch(/^0 of \d+ \(0%\)$/);
    await expect(admin.evaluate(() => (window as unknown as { marker?: boolean }).marker)).resolves.toBe(true);
    await expect(admin.evaluate(() => document.activeElement?.getAttribute('href'))).resolves.toBe('/admin/assignments/new');
    problems.push(...(await axeViolations(admin, 'assignments, job done')));
    expect(problems).toEqual([]);
  });

  test('when a job failed, then its message and a Retry button show on the assignment page, and Retry queues it again', async () => {
    const assignment = await Assignment.findOne({ district: world.district._id }).lean();
    await ComplianceJob.updateOne({ assignment: assignment!._id }, { $set: { state: 'failed', error: 'Invalid time zone specified: Mars/Olympus' } });
    await admin.goto(`/admin/assignments/${assignment!._id}/edit`);
    const status = admin.locator(`#job-${assignment!._id}`);
    await expect(status.innerText()).resolves.toContain('Compliance update failed: Invalid time zone specified: Mars/Olympus');
    const problems = await axeViolations(admin, 'assignment edit, job failed');
    await admin.focus(`#job-${assignment!._id} button[type=submit]`);
    await Promise.all([admin.waitForURL((url) => url.pathname.endsWith('/edit')), admin.keyboard.press('Enter')]);
    await expect(admin.locator('main .notice').innerText()).resolves.toBe('Compliance update queued again.');
    await expect(status.getAttribute('data-job-state')).resolves.toBe('queued');
    problems.push(...(await axeViolations(admin, 'assignment edit, job queued')));
    await runQueuedComplianceJobs();
    expect(problems).toEqual([]);
  });
});
