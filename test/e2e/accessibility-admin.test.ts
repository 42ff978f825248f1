/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser } from 'playwright-core';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { asRole, auditBoth, auditInvalidSubmit } from './helpers/sweep';
import { createWorld, assignTraining, type World } from './helpers/world';
import { Region } from '../../src/components/regions';
import { School } from '../../src/components/schools';
import { createUser } from '../helpers/factories';

/**
 * axe (WCAG 2.1 A/AA) on every page type for every role, plus what axe cannot see: the skip link is the
 * first Tab stop and lands on main, every Tab stop shows focus, and form errors are tied to their fields.
 * Full audit in English; axe again in Spanish. Each test collects every problem, then asserts none.
 * The settings, roster, provisioning, audit and account pages are in accessibility-admin-settings.test.ts
 * (two files run in parallel and each stays well inside its time limit).
 */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;
let assignmentId: string;
let regionId: string;
const REGION_ADMIN = 'region.a11y-admin@riverbend.example';

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('a11y-admin');
  assignmentId = await assignTraining(world, 'foundations', { roles: ['staff', 'principal'], dueInDays: -5 });
  // One school in a region, one without: the district page shows the region filter, the rollup and its "No region" row.
  const region = await Region.create({ district: world.district._id, code: 'NORTH', name: 'Region North' });
  regionId = String(region._id);
  await School.updateOne({ _id: world.schools.lincoln._id }, { $set: { region: region._id } });
  await createUser(world.district, { name: 'Dana Region', email: REGION_ADMIN, role: 'region_admin', regions: [region] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('accessibility: district admin pages', () => {
  test('when a district admin visits the dashboards, exports, people, schools and assignments pages, then there are no WCAG 2.1 AA violations, focus is visible and errors are tied to fields', async () => {
    const problems: string[] = [];
    await asRole(browser, server.baseUrl, world.users.admin.email, async (page) => {
      await auditBoth(page, '/district', 'district dashboard', problems);
      await auditBoth(page, `/district?region=${regionId}`, 'district dashboard filtered by region', problems, 200, false);
      await auditBoth(page, `/admin/regions/${regionId}/delete`, 'region delete confirmation', problems, 200, false);
      await auditBoth(page, `/school/${world.schools.lincoln._id}`, 'school (admin drill-down)', problems);
      // An export prepared in the background: its page (while queued, running or done) and the list.
      await page.goto('/district?lang=en');
      await Promise.all([page.waitForURL(/\/reports\/exports\/[0-9a-f]{24}$/), page.getByRole('button', { name: 'Prepare XLSX' }).click()]);
      const exportPath = new URL(page.url()).pathname;
      await auditBoth(page, exportPath, 'background export', problems, 200, false);
      await auditBoth(page, '/reports/exports', 'background exports list', problems, 200, false);
      await auditBoth(page, '/reports/decisions?module=foundations', 'decision insights (district)', problems, 200, false);
      await auditBoth(page, '/admin', 'administration index', problems);
      await auditBoth(page, '/admin/users', 'users list', problems);
      await auditBoth(page, '/admin/users/new', 'users form (new)', problems);
      await auditInvalidSubmit(page, '/admin/users/new', '/admin/users', 'users form 422', problems);
      await auditBoth(page, `/admin/users/${world.users.teacher._id}`, 'users form (edit)', problems, 200, false);
      await auditBoth(page, '/admin/schools', 'schools list', problems, 200, false);
      await auditBoth(page, '/admin/schools/new', 'schools form (new)', problems, 200, false);
      await auditInvalidSubmit(page, '/admin/schools/new', '/admin/schools', 'schools form 422', problems);
      await auditBoth(page, `/admin/schools/${world.schools.lincoln._id}`, 'schools form (edit)', problems, 200, false);
      await auditBoth(page, '/admin/assignments', 'assignments list', problems, 200, false);
      await auditBoth(page, '/admin/assignments/new', 'assignments form (new)', problems);
      await auditBoth(page, `/admin/assignments/${assignmentId}/edit`, 'assignments form (edit)', problems, 200, false);
      await auditInvalidSubmit(page, '/admin/assignments/new', '/admin/assignments', 'assignments form 422', problems);
    });
    expect(problems).toEqual([]);
  });
});

describe('accessibility: region administrator pages', () => {
  test('when a region administrator visits their region view, a school of their region, its reminders and the region\'s insights, then there are no WCAG 2.1 AA violations and focus is visible', async () => {
    const problems: string[] = [];
    await asRole(browser, server.baseUrl, REGION_ADMIN, async (page) => {
      await auditBoth(page, '/district', 'region view', problems);
      await auditBoth(page, `/school/${world.schools.lincoln._id}`, 'school (region administrator)', problems, 200, false);
      await auditBoth(page, `/school/${world.schools.lincoln._id}/reminders`, 'reminders (region administrator)', problems, 200, false);
      await auditBoth(page, '/reports/decisions?module=foundations', 'decision insights (region)', problems, 200, false);
    });
    expect(problems).toEqual([]);
  });
});
