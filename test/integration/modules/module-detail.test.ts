import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { countOf, createAssignment, createCompletion, prepareVersionedModules, rowWith, V2_CHANGELOG } from './modules.helpers';

let t: TestApp;
let removeModules: () => Promise<void>;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;

const ownSettings = {
  policyReference: 'BUL-6767.4',
  contacts: { principal: { name: 'Ms. Rivera, Principal', nameEs: 'la directora Rivera', phone: '(213) 555-0100' } },
};

/** The part of the page about one version (its section, up to the next version's). */
function versionSection(html: string, version: number): string {
  const start = html.indexOf(`<section aria-labelledby="v${version}-heading" id="v${version}">`);
  if (start < 0) throw new Error(`no section for version ${version}`);
  return html.slice(start, html.indexOf('</section>', start));
}

beforeAll(async () => {
  t = await startTestApp();
  removeModules = await prepareVersionedModules();
  district = await createDistrict({ settings: ownSettings });
  school = await createSchool(district);
  admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
});
afterAll(async () => {
  await removeModules();
  await t.close();
});

describe('GET /admin/modules/:slug', () => {
  test('when an anonymous visitor opens a module, then they are sent to sign in', async () => {
    const res = await request(t.app).get('/admin/modules/fixture-basics').set('Accept', 'text/html');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fmodules%2Ffixture-basics');
  });

  test('when staff or a principal open a module, then 403', async () => {
    const teacher = await createUser(district, { schools: [school] });
    const principal = await createUser(district, { role: 'principal', schools: [school] });

    expect((await (await signIn(t.app, teacher.email)).get('/admin/modules/fixture-basics')).status).toBe(403);
    expect((await (await signIn(t.app, principal.email)).get('/admin/modules/fixture-basics')).status).toBe(403);
  });

  test('when the slug is unknown or malformed, then 404', async () => {
    expect((await admin.get('/admin/modules/no-such-module')).status).toBe(404);
    expect((await admin.get('/admin/modules/Fixture_Basics')).status).toBe(404);
    expect((await admin.get(`/admin/modules/${'a'.repeat(81)}`)).status).toBe(404);
  });

  test('when an admin opens a module, then its versions are listed newest first with date, changelog, this district’s completions and card links', async () => {
    const staff = await Promise.all([1, 2, 3].map(() => createUser(district, { schools: [school] })));
    await createCompletion(staff[0], 'fixture-basics', 1);
    await createCompletion(staff[1], 'fixture-basics', 1);
    await createCompletion(staff[2], 'fixture-basics', 2);
    const other = await createDistrict();
    await createCompletion(await createUser(other, { schools: [await createSchool(other)] }), 'fixture-basics', 2);
    const assignment = await createAssignment(district, { moduleSlug: 'fixture-basics', minVersion: 2 });

    const res = await admin.get('/admin/modules/fixture-basics');

    expect(res.status).toBe(200);
    expect(countOf(res.text, /<h1[ >]/)).toBe(1);
    expect(res.text).toContain('<h1>Fixture basics</h1>');
    expect(res.text).toContain('<caption>Versions of this module, newest first</caption>');
    const v2Row = rowWith(res.text, '<th scope="row">2 <span class="muted">(latest)</span></th>');
    expect(v2Row).toContain('<td>May 1, 2026</td>');
    expect(v2Row).toContain(V2_CHANGELOG.en);
    expect(v2Row).toContain('<td>1</td>');
    expect(v2Row).toContain('href="/training/fixture-basics/card?version=2"');
    const v1Row = rowWith(res.text, '<th scope="row">1</th>');
    expect(v1Row).toContain('<td>March 1, 2026</td>');
    expect(v1Row).toContain('First version.');
    expect(v1Row).toContain('<td>2</td>');
    expect(res.text.indexOf('<th scope="row">2 ')).toBeLessThan(res.text.indexOf('<th scope="row">1</th>'));
    expect(res.text.indexOf('id="v2-heading"')).toBeLessThan(res.text.indexOf('id="v1-heading"'));
    expect(versionSection(res.text, 2)).toContain('1 person in your district holds a completion of this version.');
    expect(versionSection(res.text, 1)).toContain('2 people in your district hold a completion of this version.');
    expect(res.text).toContain(`<a href="/admin/assignments/${assignment._id}/edit">Staff; all job titles; whole district</a> · version 2 or later`);
    expect((await admin.get('/training/fixture-basics/card?version=1')).status).toBe(200);
  });

  test('when an admin opens a module, then each version shows its sources with links and the review notice as the content states it, with the district’s policy filled in', async () => {
    const res = await admin.get('/admin/modules/fixture-basics');

    const v1 = versionSection(res.text, 1);
    expect(v1).toContain('<li id="v1--source--F7"><strong>F7</strong> — <a href="https://oag.ca.gov/immigrant" rel="noopener noreferrer">CA AG Quick Reference</a></li>');
    expect(v1).toContain('<li id="v1--source--F13"><strong>F13</strong> — <a href="https://leginfo.legislature.ca.gov/" rel="noopener noreferrer">AB 49 (2025)</a></li>');
    expect(v1).toContain('Introduction and review notice, as the module states it');
    expect(v1).toContain('General training, not legal advice. Follow BUL-6767.4.');
    expect(res.text).toContain('General training, not legal advice. Each module must be reviewed and approved by district counsel before it is assigned.');
  });

  test('when an admin previews a version, then every node appears in reading order with each choice’s outcome, points, feedback and the district’s own contact in place of the placeholder', async () => {
    const res = await admin.get('/admin/modules/fixture-basics');

    const v1 = versionSection(res.text, 1);
    expect(v1).toContain('<h4 id="v1--front-desk">Scenario 1: At the front desk</h4>');
    expect(v1).toContain('<h4 id="v1--by-phone">Scenario 2: A phone call</h4>');
    const order = ['arrival', 'first', 'consequence', 'second', 'done'].map((id) => v1.indexOf(`<li id="v1--front-desk--${id}">`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(v1).toContain('Never produce a student.');
    expect(v1).toContain('<p><span aria-hidden="true" class="outcome-mark">✗</span> Not the right choice · 0 of 2 points</p>');
    expect(v1).toContain('Right: escalate to Ms. Rivera, Principal.');
    expect(v1).toContain('<strong>Call Ms. Rivera, Principal at <a href="tel:+12135550100">(213) 555-0100</a></strong>');
    expect(v1).toContain('<a href="#v1--front-desk--consequence"><code>consequence</code></a>');
    expect(v1).toContain('<a href="#v1--source--F13">F13</a>');
    expect(v1).not.toContain('{{');
    expect(versionSection(res.text, 2)).toContain('Right: escalate to Ms. Rivera, Principal at once.');
  });

  test('when the admin reads Spanish (?lang=es), then the page, the module content and the district’s Spanish contact name are in Spanish', async () => {
    const res = await admin.get('/admin/modules/fixture-basics?lang=es');

    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Conceptos básicos de prueba</h1>');
    expect(res.text).toContain('<caption>Versiones de este módulo, de la más reciente a la más antigua</caption>');
    const v1 = versionSection(res.text, 1);
    expect(v1).toContain('Vigente al 1 de marzo de 2026');
    expect(v1).toContain('Capacitación general, no asesoría legal. Siga BUL-6767.4.');
    expect(v1).toContain('<h4 id="v1--front-desk">Escenario 1: En la recepción</h4>');
    expect(v1).toContain('Nunca presente a un alumno.');
    expect(v1).toContain('Correcto: avise a la directora Rivera.');
    expect(v1).toContain('No es la opción correcta · 0 de 2 puntos');
    expect(v1).not.toContain('Ms. Rivera');
    await admin.get('/admin/modules?lang=en');
  });

  test('when the district’s contact name contains markup, then the preview shows it as text', async () => {
    const hostile = await createDistrict({ settings: { contacts: { principal: { name: '<script>alert(1)</script> Office', phone: '' } } } });
    const hostileAdmin = await signIn(t.app, (await createUser(hostile, { role: 'district_admin' })).email);

    const res = await hostileAdmin.get('/admin/modules/fixture-basics');

    expect(res.status).toBe(200);
    expect(res.text).toContain('Right: escalate to &lt;script&gt;alert(1)&lt;/script&gt; Office.');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(countOf(res.text, /<script/)).toBe(1);
  });
});
