import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { Completion } from '../../../src/components/completions';
import { CounselReview, forgetCounselReviews } from '../../../src/components/counsel-reviews';
import { newCertificateCode } from '../../../src/components/training/play.service';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { pdfText } from '../../helpers/pdf';
import { csrfFor, postForm, signIn, type Agent } from '../../helpers/session';
import { startSession } from '../sessions/sessions.helpers';
import { createAssignment as assign } from '../assignments/compliance-fixtures';
import { createCompletion, prepareVersionedModules } from './modules.helpers';

/**
 * Counsel's review of a module version (docs/content-format.md "Counsel review"): the content says "not legal
 * advice; to be reviewed by district counsel" until the district records the review, then names who reviewed it
 * and when — on the module page, the card, group sessions and certificates. Never a claim that was not recorded.
 */
let t: TestApp;
let removeModules: () => Promise<void>;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let staff: Agent;
let staffUser: Awaited<ReturnType<typeof createUser>>;

const SLUG = 'fixture-basics';
const V1 = `/admin/modules/${SLUG}/versions/1/review`;
const V2 = `/admin/modules/${SLUG}/versions/2/review`;
const PENDING = 'General training, not legal advice. To be reviewed by district counsel: no review of this version is recorded yet.';
const REVIEWED_V2 = 'General training, not legal advice. Reviewed for this district by Office of the General Counsel on May 4, 2026.';

function binary(req: request.Test): request.Test {
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

const record = (agent: Agent, path: string, body: Record<string, unknown>) => postForm(agent, path, body, path);

/** Removes this district's reviews directly, and the few-second memo of them (as a change through the app does). */
async function clearReviews() {
  await CounselReview.deleteMany({ district: district._id });
  forgetCounselReviews(String(district._id));
}

beforeAll(async () => {
  t = await startTestApp();
  // fixture-basics v1 (current as of 2026-03-01) and v2 (2026-05-01).
  removeModules = await prepareVersionedModules();
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  school = await createSchool(district);
  admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
  staffUser = await createUser(district, { schools: [school] });
  staff = await signIn(t.app, staffUser.email);
});
afterAll(async () => {
  await removeModules();
  await t.close();
});

describe('recording counsel review of a module version', () => {
  test('when nothing is recorded, then learners read "to be reviewed" and the admin pages say "Not recorded"', async () => {
    expect((await staff.get(`/training/${SLUG}`)).text).toContain(PENDING);
    const list = await admin.get('/admin/modules');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`<a href="${V2}">Record</a>`);
    const detail = await admin.get(`/admin/modules/${SLUG}`);
    expect(detail.text).toContain('Not recorded');
    expect(detail.text).toContain(`href="${V1}"`);
    // The site-wide footer never claims a review either.
    expect(detail.text).toContain('General training, not legal advice; each module is to be reviewed by district counsel.');
    expect(detail.text).not.toContain('Content is reviewed by district counsel');
  });

  test('when the admin records the review, then it is stored and audited, and learners see who reviewed it and when, at once', async () => {
    const form = await admin.get(V2);
    expect(form.status).toBe(200);
    expect(form.text).toContain('<label for="field-reviewedOn">Date of the review</label>');
    expect(form.text).toContain('No review of this version is recorded');

    const res = await record(admin, V2, { reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/modules/${SLUG}#v2-review`);
    const stored = await CounselReview.find({ district: district._id }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ moduleSlug: SLUG, moduleVersion: 2, reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    const audit = await AuditEvent.findOne({ district: district._id, action: 'content.review_recorded' }).lean();
    expect(audit?.details).toEqual({ moduleSlug: SLUG, version: 2, reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });

    const overview = await staff.get(`/training/${SLUG}`);
    expect(overview.text).toContain(REVIEWED_V2);
    expect(overview.text).not.toContain(PENDING);
    const card = await staff.get(`/training/${SLUG}/card`);
    expect(card.text).toContain(REVIEWED_V2);
    // Version 1 has no review of its own: its card still says so.
    expect((await staff.get(`/training/${SLUG}/card?version=1`)).text).toContain(PENDING);
    const spanish = await staff.get(`/training/${SLUG}?lang=es`);
    await staff.get('/training?lang=en');
    expect(spanish.text).toContain('Capacitación general, no asesoría legal. Revisado para este distrito por Office of the General Counsel el 4 de mayo de 2026.');

    const detail = await admin.get(`/admin/modules/${SLUG}`);
    expect(detail.text).toContain('Office of the General Counsel, May 4, 2026');
    const log = await admin.get('/admin/audit');
    expect(log.text).toContain('Recorded that Office of the General Counsel reviewed');
  });

  test('when the admin corrects the review, then the one record changes and the audit event keeps what it replaced', async () => {
    await clearReviews();
    await record(admin, V1, { reviewedOn: '2026-03-10', reviewer: 'General Counsel' });

    const res = await record(admin, V1, { reviewedOn: '2026-03-12', reviewer: 'Office of the General Counsel' });

    expect(res.status).toBe(303);
    const stored = await CounselReview.find({ district: district._id, moduleVersion: 1 }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ reviewedOn: '2026-03-12', reviewer: 'Office of the General Counsel' });
    const audits = await AuditEvent.find({ district: district._id, action: 'content.review_recorded', 'details.version': 1 }).sort({ at: 1, _id: 1 }).lean();
    expect(audits).toHaveLength(2);
    expect(audits[1].details).toMatchObject({ reviewedOn: '2026-03-12', previous: { reviewedOn: '2026-03-10', reviewer: 'General Counsel' } });
    const form = await admin.get(V1);
    expect(form.text).toContain('value="2026-03-12"');
    expect(form.text).toContain('Recorded: reviewed by Office of the General Counsel on March 12, 2026.');
  });

  test('when the admin withdraws the review, then it is deleted and audited, and learners are told again that it is to be reviewed', async () => {
    await record(admin, V2, { reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    expect((await staff.get(`/training/${SLUG}`)).text).toContain(REVIEWED_V2);

    const res = await postForm(admin, `${V2}/withdraw`, {}, V2);

    expect(res.status).toBe(303);
    expect(await CounselReview.countDocuments({ district: district._id, moduleVersion: 2 })).toBe(0);
    const audit = await AuditEvent.findOne({ district: district._id, action: 'content.review_withdrawn' }).lean();
    expect(audit?.details).toEqual({ moduleSlug: SLUG, version: 2, reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    expect((await staff.get(`/training/${SLUG}`)).text).toContain(PENDING);
    // Withdrawing what is not there changes nothing and audits nothing.
    expect((await postForm(admin, `${V2}/withdraw`, {}, V2)).status).toBe(303);
    expect(await AuditEvent.countDocuments({ district: district._id, action: 'content.review_withdrawn' })).toBe(1);
  });
});

describe('bad input is refused with the values kept, and nothing stored', () => {
  beforeEach(async () => {
    await clearReviews();
  });

  test.each([
    [{ reviewedOn: '', reviewer: '' }, ['Enter the date of the review.', 'Enter who reviewed it']],
    [{ reviewedOn: '2026-02-30', reviewer: 'Counsel' }, ['Enter the date as a real calendar date']],
    [{ reviewedOn: '2026-04-30', reviewer: 'Counsel' }, ['The review cannot be before this version']],
    [{ reviewedOn: '2099-01-01', reviewer: 'Counsel' }, ['The review date cannot be in the future.']],
    [{ reviewedOn: '2026-05-04', reviewer: 'x'.repeat(121) }, ['Keep it under 120 characters.']],
  ])('when the form has %j, then 422 with the error and the entered values', async (body, messages) => {
    const res = await record(admin, V2, body);

    expect(res.status).toBe(422);
    for (const message of messages) expect(res.text).toContain(message);
    if (body.reviewedOn) expect(res.text).toContain(`value="${body.reviewedOn}"`);
    expect(res.text).toContain('aria-invalid="true"');
    expect(await CounselReview.countDocuments({ district: district._id })).toBe(0);
  });

  test('when the fields arrive as operators or objects, then 422 and nothing stored', async () => {
    const path = V2;
    const csrf = await csrfFor(admin, path);
    const res = await admin.post(path).type('form').send(`_csrf=${encodeURIComponent(csrf)}&reviewedOn[$gt]=&reviewer[$ne]=x`);

    expect(res.status).toBe(422);
    expect(await CounselReview.countDocuments({ district: district._id })).toBe(0);
  });

  test('when the form is posted without its CSRF token, then 403 and nothing stored', async () => {
    const res = await admin.post(V2).type('form').send({ reviewedOn: '2026-05-04', reviewer: 'Counsel' });

    expect(res.status).toBe(403);
    expect(await CounselReview.countDocuments({ district: district._id })).toBe(0);
  });
});

describe('scope', () => {
  test('when staff or a principal open or post the review form, then 403 and nothing stored', async () => {
    const principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);
    for (const agent of [staff, principal]) {
      expect((await agent.get(V2)).status).toBe(403);
      const res = await agent.post(V2).type('form').send({ _csrf: await csrfFor(agent), reviewedOn: '2026-05-04', reviewer: 'Counsel' });
      expect(res.status).toBe(403);
    }
    expect(await CounselReview.countDocuments({ district: district._id })).toBe(0);
  });

  test('when the version or module does not exist or is malformed, then 404', async () => {
    expect((await admin.get(`/admin/modules/${SLUG}/versions/9/review`)).status).toBe(404);
    expect((await admin.get(`/admin/modules/no-such-module/versions/1/review`)).status).toBe(404);
    expect((await admin.get(`/admin/modules/${SLUG}/versions/0/review`)).status).toBe(404);
    expect((await admin.get(`/admin/modules/${SLUG}/versions/1x/review`)).status).toBe(404);
    expect((await postForm(admin, `/admin/modules/${SLUG}/versions/9/review`, { reviewedOn: '2026-05-04', reviewer: 'Counsel' })).status).toBe(404);
    expect((await postForm(admin, `/admin/modules/${SLUG}/versions/9/review/withdraw`, {})).status).toBe(404);
  });

  test("when another district records its review, then this district's learners still read \"to be reviewed\"", async () => {
    await clearReviews();
    const other = await createDistrict();
    const otherAdmin = await signIn(t.app, (await createUser(other, { role: 'district_admin' })).email);

    expect((await record(otherAdmin, V2, { reviewedOn: '2026-05-04', reviewer: 'Other Counsel' })).status).toBe(303);

    const page = await staff.get(`/training/${SLUG}`);
    expect(page.text).toContain(PENDING);
    expect(page.text).not.toContain('Other Counsel');
    expect((await admin.get(V2)).text).toContain('No review of this version is recorded');
  });
});

describe('where the notice appears beyond the module page', () => {
  test('when a version is reviewed, then the certificate of that version says so, in the learner’s language', async () => {
    await clearReviews();
    const completion = await createCompletion(staffUser, SLUG, 1);
    // A code as the player issues it (the pages' helper's code is only unique, not of the certificate format).
    await Completion.updateOne({ _id: completion._id }, { $set: { certificateCode: newCertificateCode() } });
    completion.certificateCode = (await Completion.findById(completion._id).lean())!.certificateCode;
    const before = await binary(staff.get(`/training/certificates/${completion.certificateCode}.pdf`));
    expect(before.status).toBe(200);
    expect((await pdfText(before.body as Buffer)).text).toContain('To be reviewed by district counsel');

    await record(admin, V1, { reviewedOn: '2026-03-12', reviewer: 'Office of the General Counsel' });

    const en = await binary(staff.get(`/training/certificates/${completion.certificateCode}.pdf`));
    expect(en.status).toBe(200);
    const text = (await pdfText(en.body as Buffer)).text.replace(/\s+/g, ' ');
    expect(text).toContain('Reviewed for this district by Office of the General Counsel on March 12, 2026.');
    const es = await binary(staff.get(`/training/certificates/${completion.certificateCode}.pdf?lang=es`));
    expect((await pdfText(es.body as Buffer)).text.replace(/\s+/g, ' ')).toContain('Revisado para este distrito por Office of the General Counsel el 12 de marzo de 2026.');
  });

  test('when a group session presents a reviewed version, then its opening and closing steps carry the review', async () => {
    await clearReviews();
    await record(admin, V2, { reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    const principalUser = await createUser(district, { role: 'principal', schools: [school] });
    const principal = await signIn(t.app, principalUser.email);
    const id = await startSession(principal, String(school._id));

    const first = await principal.get(`/school/${String(school._id)}/sessions/${id}/present`);

    expect(first.status).toBe(200);
    expect(first.text).toContain(REVIEWED_V2);
    const handout = await principal.get(`/school/${String(school._id)}/sessions/${id}/present/all`);
    expect(handout.text.split(REVIEWED_V2).length - 1).toBe(2);
  });
});

describe('where the admin assigns training', () => {
  test('when the version learners play has no recorded review, then the assignments list says so and links to the review form; once recorded, it does not', async () => {
    await clearReviews();
    await assign(district, { moduleSlug: SLUG });

    const before = await admin.get('/admin/assignments?lang=en');

    expect(before.status).toBe(200);
    expect(before.text).toContain(`<a href="${V2}">No counsel review of v2 recorded</a>`);
    await record(admin, V2, { reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    const after = await admin.get('/admin/assignments?lang=en');
    expect(after.text).not.toContain('No counsel review of v2 recorded');
  });

  test('when the district exports the compliance PDF, then it names the version staff play and whether counsel reviewed it, in either language', async () => {
    await clearReviews();
    const pdf = async (lang: string) => {
      const res = await binary(admin.get(`/reports/compliance.pdf?lang=${lang}`));
      expect(res.status).toBe(200);
      return (await pdfText(res.body as Buffer)).text.replace(/\s+/g, ' ');
    };

    const pending = await pdf('en');
    expect(pending).toContain('Training content');
    expect(pending).toMatch(/v2 Not recorded: to be reviewed by district counsel/);
    await record(admin, V2, { reviewedOn: '2026-05-04', reviewer: 'Office of the General Counsel' });
    expect(await pdf('en')).toMatch(/v2 Office of the General Counsel, May 4, 2026/);
    const es = await pdf('es');
    expect(es).toContain('Contenido de la capacitación');
    expect(es).toMatch(/v2 Office of the General Counsel, 4 may 2026/);
  });
});
