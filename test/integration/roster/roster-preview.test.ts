import mongoose from 'mongoose';
import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { RosterPreview, RosterPreviewRow } from '../../../src/components/roster';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { clearDatabase } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { apply, applyAndRun, csv, previewIdFrom, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createSchool(district, { code: 'OLD', name: 'Closed School', active: false });
  const admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  adminAgent = await signIn(t.app, admin.email);
});

async function peopleCount() {
  return User.countDocuments({ district: district._id });
}

describe('access', () => {
  test('when anonymous, then the page redirects to sign-in and an upload gets 401 without being read', async () => {
    const page = await request(t.app).get('/admin/roster').set('Accept', 'text/html');
    expect(page.status).toBe(303);
    expect(page.headers.location).toMatch(/^\/login\?next=/);
    const post = await request(t.app).post('/admin/roster/preview').attach('file', Buffer.from(csv([])), 'r.csv');
    expect(post.status).toBe(401);
  });

  test('when a principal or staff member opens or posts, then 403', async () => {
    const principal = await createUser(district, { role: 'principal', schools: [lincoln], email: 'p@test.example' });
    const staff = await createUser(district, { role: 'staff', schools: [lincoln], email: 's@test.example' });
    for (const who of [principal, staff]) {
      const agent = await signIn(t.app, who.email);
      expect((await agent.get('/admin/roster')).status).toBe(403);
      expect((await agent.get('/admin/roster/template.csv')).status).toBe(403);
      const token = await csrfFor(agent, '/account');
      const res = await agent.post('/admin/roster/preview').field('_csrf', token).attach('file', Buffer.from(csv([['E1', 'x@test.example', 'X', 'staff', 'teacher', 'LIN', '', '']])), 'r.csv');
      expect(res.status).toBe(403);
    }
    expect(await RosterPreview.countDocuments()).toBe(0);
  });

  test('when the upload has no CSRF token (or a wrong one), then 403 and no preview', async () => {
    const file = csv([['E1', 'x@test.example', 'X', 'staff', 'teacher', 'LIN', '', '']]);
    expect((await upload(adminAgent, file, { csrf: null })).status).toBe(403);
    expect((await upload(adminAgent, file, { csrf: 'forged' })).status).toBe(403);
    expect(await RosterPreview.countDocuments()).toBe(0);
  });
});

describe('the roster page', () => {
  test('when an admin opens it, then it explains every column, links the template and is linked from nav and staff list', async () => {
    const res = await adminAgent.get('/admin/roster');
    expect(res.status).toBe(200);
    for (const col of ['employee_id', 'email', 'name', 'role', 'job_title', 'school_codes', 'language', 'start_date']) expect(res.text).toContain(`<code>${col}</code>`);
    expect(res.text).toContain('enctype="multipart/form-data"');
    expect(res.text).toContain('href="/admin/roster/template.csv"');
    expect(res.text).toMatch(/<legend>What the file contains<\/legend>/);
    const users = await adminAgent.get('/admin/users');
    expect(users.text).toContain('href="/admin/roster"');
  });

  test('when the template is downloaded, then it is a CSV with the header and one example row the importer accepts', async () => {
    const res = await adminAgent.get('/admin/roster/template.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="?roster-template.csv"?/);
    const lines = res.text.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('employee_id,email,name,role,job_title,school_codes,language,start_date');
    const preview = await upload(adminAgent, res.text);
    expect(preview.status).toBe(303);
  });

  test('when the page is asked for in Spanish, then it renders in Spanish', async () => {
    const res = await adminAgent.get('/admin/roster?lang=es');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="es"');
    expect(res.text).toContain('Importar la lista de personal');
    expect(res.text).toContain('Descargar la plantilla (CSV)');
  });
});

describe('preview and apply', () => {
  test('when a file creates, updates, leaves unchanged and reactivates people, then the preview counts them and apply writes exactly that', async () => {
    await createUser(district, { employeeId: 'E2', email: 'moved@test.example', name: 'Mover', schools: [lincoln], jobTitle: 'custodian' });
    await createUser(district, { employeeId: 'E3', email: 'same@test.example', name: 'Same Person', schools: [lincoln], jobTitle: 'teacher', preferredLanguage: 'es' });
    await createUser(district, { employeeId: 'E4', email: 'back@test.example', name: 'Returning', schools: [roosevelt], jobTitle: 'bus_driver', active: false });
    // Added by hand before the first import: linked by email, gets its employee id.
    const handMade = await createUser(district, { email: 'hand@test.example', name: 'Hand Made', schools: [lincoln], jobTitle: 'nurse' });
    await User.updateOne({ _id: handMade._id }, { $unset: { employeeId: 1 } });
    const file = csv([
      ['E1', 'New.Person@Test.example', 'New Person', 'staff', 'Front office', 'LIN;roo', 'es', '2026-08-17'],
      ['E2', 'moved@test.example', 'Mover', 'staff', 'food_service', 'ROO', '', ''],
      ['E3', 'same@test.example', 'Same Person', 'staff', 'teacher', 'LIN', '', ''],
      ['E4', 'back@test.example', 'Returning', 'staff', 'bus_driver', 'ROO', '', ''],
      ['E5', 'hand@test.example', 'Hand Made', 'staff', 'nurse', 'LIN', '', ''],
    ], 'Name,EMPLOYEE ID,email,role,job-title,school_codes,language,start_date'.replace('Name,EMPLOYEE ID,email', 'employee_id,email,name'));
    const res = await upload(adminAgent, file, { fileName: 'hr-export.csv' });
    expect(res.status).toBe(303);
    const id = previewIdFrom(res.headers.location);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.status).toBe(200);
    const count = (name: string) => Number(new RegExp(`data-count="${name}">(\\d+)<`).exec(page.text)?.[1]);
    expect([count('rows'), count('create'), count('update'), count('unchanged'), count('reactivate')]).toEqual([5, 1, 2, 1, 1]);
    expect(page.text).toContain('school: LIN → ROO');
    expect(page.text).toContain('job title: Custodian → Food service');
    expect(page.text).toContain('employee ID: (none) → E5');
    // Nothing is written by a preview.
    expect(await User.exists({ employeeId: 'E1' })).toBeNull();
    expect((await User.findOne({ employeeId: 'E2' }).lean())!.jobTitle).toBe('custodian');

    const applied = await applyAndRun(adminAgent, id);
    expect(applied.status).toBe(303);
    expect(applied.headers.location).toBe(`/admin/roster/imports/${id}`);
    const created = await User.findOne({ district: district._id, employeeId: 'E1' }).select('+passwordHash').lean();
    expect(created).toMatchObject({ email: 'new.person@test.example', name: 'New Person', role: 'staff', jobTitle: 'front_office', preferredLanguage: 'es', active: true });
    expect(created!.schools.map(String).sort()).toEqual([lincoln._id.toString(), roosevelt._id.toString()].sort());
    expect(created!.startDate!.toISOString()).toBe('2026-08-17T00:00:00.000Z');
    expect(created!.passwordHash).toBeUndefined();
    const moved = await User.findOne({ employeeId: 'E2' }).lean();
    expect(moved).toMatchObject({ jobTitle: 'food_service' });
    expect(moved!.schools.map(String)).toEqual([roosevelt._id.toString()]);
    expect((await User.findOne({ employeeId: 'E3' }).lean())!.preferredLanguage).toBe('es');
    expect((await User.findOne({ employeeId: 'E4' }).lean())!.active).toBe(true);
    expect((await User.findById(handMade._id).lean())!.employeeId).toBe('E5');

    const audit = await AuditEvent.findOne({ action: 'roster.imported' }).lean();
    expect(audit!.details).toMatchObject({ fileName: 'hr-export.csv', created: 1, updated: 2, unchanged: 1, reactivated: 1, deactivated: 0, rows: 5 });
    expect(JSON.stringify(audit!.details)).not.toContain('new.person@test.example');
    expect(await AuditEvent.countDocuments({ action: 'user.role_changed' })).toBe(0);
    const jobs = await mongoose.connection.db!.collection('compliancejobs').find({ district: district._id, kind: 'rebuild' }).toArray();
    expect(jobs).toHaveLength(1);
    expect(await RosterPreviewRow.countDocuments({ preview: id })).toBe(0);

    // The preview's page is now its import's page.
    const previewPage = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(previewPage.status).toBe(303);
    expect(previewPage.headers.location).toBe(`/admin/roster/imports/${id}`);
    const result = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(result.text).toContain('Roster imported');
    expect(result.text).toContain('href="/admin/assignments"');
    expect(result.text).toContain('href="/admin/users"');
    const index = await adminAgent.get('/admin/roster');
    expect(index.text).toContain('hr-export.csv');
  });

  test('when a new person without a password exists, then they cannot sign in, and once the admin sets a password they can', async () => {
    const res = await upload(adminAgent, csv([['E9', 'nopass@test.example', 'No Pass', 'staff', 'teacher', 'LIN', '', '']]));
    await applyAndRun(adminAgent, previewIdFrom(res.headers.location));
    const person = await User.findOne({ employeeId: 'E9' }).lean();
    for (const password of ['', 'undefined', 'null', 'anything-at-all-1']) {
      const agent = request.agent(t.app);
      const form = await agent.get('/login');
      const attempt = await agent.post('/login').type('form').send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form.text)![1], email: 'nopass@test.example', password });
      expect(attempt.status === 401 || attempt.status === 422).toBe(true);
    }
    const editToken = await csrfFor(adminAgent, `/admin/users/${person!._id}`);
    const set = await adminAgent.post(`/admin/users/${person!._id}/password`).type('form').send({ _csrf: editToken, password: 'A-Fresh-Password-42' });
    expect(set.status).toBe(303);
    await signIn(t.app, 'nopass@test.example', 'A-Fresh-Password-42');
  });
});

describe('bad rows', () => {
  test('when rows break each rule, then every problem is listed with its line and column and nothing can be applied', async () => {
    await createUser(district, { employeeId: 'TAKEN', email: 'taken@test.example', schools: [lincoln] });
    const file = csv([
      ['E1', 'not-an-email', 'A', 'staff', 'teacher', 'LIN', '', ''], // 2 email
      ['E2', 'b@test.example', 'B', 'staff', 'teacher', 'NOPE', '', ''], // 3 school unknown
      ['E3', 'c@test.example', 'C', 'staff', 'astronaut', 'LIN', '', ''], // 4 job title
      ['E4', 'd@test.example', 'D', 'staff', 'teacher', 'LIN', '', ''], // 5 ok
      ['E4', 'e@test.example', 'E', 'staff', 'teacher', 'LIN', '', ''], // 6 duplicate id
      ['E6', 'd@test.example', 'F', 'staff', 'teacher', 'LIN', '', ''], // 7 duplicate email
      ['E7', 'taken@test.example', 'G', 'staff', 'teacher', 'LIN', '', ''], // 8 email used by another person
      ['E8', 'h@test.example', '', 'staff', 'teacher', 'LIN', '', ''], // 9 name missing
      ['E9', 'i@test.example', 'I', 'staff', 'teacher', '', '', ''], // 10 staff without school
      ['A1', 'admin@test.example', 'Changed Admin', 'staff', 'teacher', 'LIN', '', ''], // 11 district admin
      ['E10', 'j@test.example', 'J', 'district_admin', '', 'LIN', '', ''], // 12 role admin
      ['E11', 'k@test.example', 'K', 'staff', '', 'LIN', '', ''], // 13 staff needs job title
      ['E12', 'l@test.example', 'L', 'staff', 'teacher', 'OLD', 'fr', '2026-13-01'], // 14 inactive school, language, date
      ['E 13', 'm@test.example', 'M', 'boss', 'teacher', 'LIN', '', ''], // 15 employee id, role
      'E14,n@test.example,N,staff,teacher', // 16 column count
    ]);
    const before = await peopleCount();
    const res = await upload(adminAgent, file);
    expect(res.status).toBe(422);
    const found = [...res.text.matchAll(/data-line="(\d+)" data-column="([a-z_]*)" data-code="([a-z_]+)"/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
    expect(found).toEqual(
      expect.arrayContaining([
        '2:email:email_invalid',
        '3:school_codes:school_unknown',
        '4:job_title:job_title_unknown',
        '6:employee_id:duplicate_employee_id',
        '7:email:duplicate_email',
        '8:email:email_taken',
        '9:name:required',
        '10:school_codes:school_required',
        '11:employee_id:district_admin',
        '12:role:role_admin',
        '13:job_title:job_title_required',
        '14:school_codes:school_inactive',
        '14:language:language_invalid',
        '14:start_date:start_date_invalid',
        '15:employee_id:employee_id_invalid',
        '15:role:role_invalid',
        '16::column_count',
      ]),
    );
    expect(res.text).toContain('Employee ID “E4” is also on line 5.');
    expect(res.text).toContain('“taken@test.example” is already used by another person in the district (employee ID TAKEN).');
    expect(res.text).not.toContain('action="/admin/roster/previews/');
    const preview = await RosterPreview.findOne().lean();
    expect(preview!.state).toBe('invalid');
    // Its problem list quotes values: kept only a day past expiry, not for the 90-day history.
    expect(preview!.purgeAt.getTime()).toBeLessThan(Date.now() + 2 * 24 * 60 * 60 * 1000);
    expect(await RosterPreviewRow.countDocuments()).toBe(0);
    const refused = await apply(adminAgent, preview!._id.toString());
    expect(refused.status).toBe(409);
    expect(await peopleCount()).toBe(before);
    expect(await User.exists({ employeeId: 'E4' })).toBeNull();
  });

  test('when the header has an unknown column, then the file is refused naming the allowed columns', async () => {
    const res = await upload(adminAgent, csv([['E1', 'a@test.example', 'A', 'staff', 'teacher', 'LIN', '1990-01-01']], 'employee_id,email,name,role,job_title,school_codes,date_of_birth'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Unknown column(s): date_of_birth. The allowed columns are: employee_id, email, name, role, job_title, school_codes, language, start_date.');
    expect(await RosterPreview.countDocuments()).toBe(0);
  });

  test('when a required column is missing, then the file is refused', async () => {
    const res = await upload(adminAgent, csv([['E1', 'a@test.example', 'A', 'staff', 'LIN']], 'employee_id,email,name,role,school_codes'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Missing required column(s): job_title.');
  });

  test.each([
    ['an empty file', Buffer.alloc(0), 'The file is empty.'],
    ['a header without rows', Buffer.from('employee_id,email,name,role,job_title,school_codes\n'), 'The file has a header row but no people.'],
    ['an Excel workbook', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 1)]), 'This is a spreadsheet (Excel) file, not CSV.'],
    ['UTF-16 text', Buffer.from('\uFEFFemployee_id,email\n', 'utf16le'), 'saved as UTF-16'],
    ['Latin-1 text', Buffer.from('employee_id,email,name,role,job_title,school_codes\nE1,a@test.example,Jos\xe9,staff,teacher,LIN\n', 'latin1'), 'The file is not UTF-8 text'],
    ['binary data', Buffer.from([0x41, 0x00, 0x42, 0x0a]), 'This is not a text file.'],
    ['an unclosed quote', Buffer.from('employee_id,email,name,role,job_title,school_codes\nE1,a@test.example,"Open,staff,teacher,LIN\n'), 'The file is not valid CSV'],
  ])('when the file is %s, then 422 with the reason', async (_label, content, message) => {
    const res = await upload(adminAgent, content);
    expect(res.status).toBe(422);
    expect(res.text).toContain(message);
    expect(res.text).toContain('id="error-summary"');
    expect(await RosterPreview.countDocuments()).toBe(0);
  });

  test('when no file is chosen, then 422 asking for one', async () => {
    const token = await csrfFor(adminAgent, '/admin/roster');
    const res = await adminAgent.post('/admin/roster/preview').field('_csrf', token);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose a CSV file to upload.');
  });

  test('when the file is larger than 20 MB, then 413 with a clear page and the server keeps working', async () => {
    const big = Buffer.alloc(21 * 1024 * 1024, 0x61);
    const res = await upload(adminAgent, big).catch((err: { code?: string }) => ({ status: err.code ?? 'error', text: '' }));
    if (res.status !== 'EPIPE' && res.status !== 'ECONNRESET') {
      expect(res.status).toBe(413);
      expect(res.text).toContain('The file is larger than the limit.');
    }
    expect(await RosterPreview.countDocuments()).toBe(0);
    expect((await adminAgent.get('/admin/roster')).status).toBe(200);
  });
});

describe('hostile values', () => {
  test('when values look like query operators or spreadsheet formulas, then they are refused or stored as plain text', async () => {
    const file = csv([
      ['E1', 'a@test.example', '"=HYPERLINK(""http://evil.example"",""x"")"', 'staff', 'teacher', 'LIN', '', ''],
      ['E2', 'b@test.example', '+SUM(A1:A9)', 'staff', 'teacher', 'LIN', '', ''],
      ['E3', 'c@test.example', '-2+3', 'staff', 'teacher', 'LIN', '', ''],
      ['E4', 'd@test.example', '@cmd', 'staff', 'teacher', 'LIN', '', ''],
      ['E5', 'e@test.example', '{"$ne": null}', 'staff', 'teacher', 'LIN', '', ''],
    ]);
    const res = await upload(adminAgent, file);
    expect(res.status).toBe(303);
    await applyAndRun(adminAgent, previewIdFrom(res.headers.location));
    const names = (await User.find({ employeeId: { $in: ['E1', 'E2', 'E3', 'E4', 'E5'] } }).sort({ employeeId: 1 }).lean()).map((u) => u.name);
    expect(names).toEqual(['=HYPERLINK("http://evil.example","x")', '+SUM(A1:A9)', '-2+3', '@cmd', '{"$ne": null}']);

    const operators = await upload(adminAgent, csv([['{"$gt":""}', '$where@x', 'X', 'staff', 'teacher', 'LIN', '', '']]));
    expect(operators.status).toBe(422);
    expect(operators.text).toContain('data-code="employee_id_invalid"');
    expect(operators.text).toContain('data-code="email_invalid"');
  });

  test('when form fields arrive as arrays or objects, then they are ignored or refused, never queried', async () => {
    const token = await csrfFor(adminAgent, '/admin/roster');
    const res = await adminAgent
      .post('/admin/roster/preview')
      .field('_csrf', token)
      .field('completeRoster[$ne]', 'x')
      .attach('file', Buffer.from(csv([['E1', 'a@test.example', 'A', 'staff', 'teacher', 'LIN', '', '']])), 'r.csv');
    expect(res.status).toBe(303);
    const preview = await RosterPreview.findOne().lean();
    expect(preview!.completeRoster).toBe(false);
  });
});
