import { pdfText as readPdf } from '../../helpers/pdf';
import request from 'supertest';
import { Completion } from '../../../src/components/completions';
import { User } from '../../../src/components/users';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, playToResults, startModule } from '../training/player.helpers';

const SLUG = 'fixture-basics';
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let otherSchool: Awaited<ReturnType<typeof createSchool>>;
let owner: Awaited<ReturnType<typeof createUser>>;
let ownerAgent: Agent;
let code: string;

/** Passes the fixture module with the best answer at every decision. */
async function passAs(agent: Agent): Promise<void> {
  await startModule(agent, SLUG);
  await playToResults(agent, SLUG, (choices) => choices[0]);
}

const pdfText = async (bytes: Buffer): Promise<string> => (await readPdf(bytes)).text;

function binary(req: request.Test): request.Test {
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  school = await createSchool(district);
  otherSchool = await createSchool(district);
  owner = await createUser(district, { schools: [school], name: 'Ana Núñez-Peña' });
  ownerAgent = await signIn(t.app, owner.email);
  await passAs(ownerAgent);
  code = (await Completion.findOne({ user: owner._id }).lean())!.certificateCode;
});
afterAll(async () => t.close());

describe('GET /training/certificates/:code.pdf', () => {
  test('when the owner downloads it, then a PDF with their name, the module, the version, the score and the code is returned', async () => {
    const res = await binary(ownerAgent.get(`/training/certificates/${code}.pdf`));

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['cache-control']).toContain('no-store');
    const text = await pdfText(res.body as Buffer);
    expect(text).toContain('Ana Núñez-Peña');
    expect(text).toContain('Fixture basics');
    expect(text).toContain('Version 1');
    expect(text).toContain('100%');
    expect(text).toContain(code);
    expect(text).toContain(`/verify/${code}`);
  });

  test('when the owner uses Spanish, then the certificate is in Spanish with its accents', async () => {
    const res = await binary(ownerAgent.get(`/training/certificates/${code}.pdf?lang=es`));
    await ownerAgent.get('/training?lang=en');

    const text = await pdfText(res.body as Buffer);
    expect(text).toContain('Certificado de finalización');
    expect(text).toContain('Conceptos básicos de prueba');
    expect(text).toContain('Ana Núñez-Peña');
  });

  test('when the principal of the owner’s school or a district admin downloads it, then they get it', async () => {
    const principal = await createUser(district, { role: 'principal', schools: [school] });
    const admin = await createUser(district, { role: 'district_admin' });

    for (const user of [principal, admin]) {
      const res = await binary((await signIn(t.app, user.email)).get(`/training/certificates/${code}.pdf`));
      expect(res.status).toBe(200);
      expect(await pdfText(res.body as Buffer)).toContain('Ana Núñez-Peña');
    }
  });

  test('when the owner works at a second school (or moved there) after completing it, then that school’s principal gets it too', async () => {
    const secondPrincipal = await createUser(district, { role: 'principal', schools: [otherSchool] });
    const agent = await signIn(t.app, secondPrincipal.email);
    expect((await agent.get(`/training/certificates/${code}.pdf`)).status).toBe(404);
    await User.updateOne({ _id: owner._id }, { $set: { schools: [school._id, otherSchool._id] } });
    try {
      const res = await binary(agent.get(`/training/certificates/${code}.pdf`));
      expect(res.status).toBe(200);
      expect(await pdfText(res.body as Buffer)).toContain('Ana Núñez-Peña');
    } finally {
      await User.updateOne({ _id: owner._id }, { $set: { schools: [school._id] } });
    }
  });

  test('when another staff member, a principal of another school or an admin of another district asks, then it does not exist (404)', async () => {
    const colleague = await createUser(district, { schools: [school] });
    const otherPrincipal = await createUser(district, { role: 'principal', schools: [otherSchool] });
    const otherDistrict = await createDistrict();
    const foreignAdmin = await createUser(otherDistrict, { role: 'district_admin' });

    for (const user of [colleague, otherPrincipal, foreignAdmin]) {
      const res = await (await signIn(t.app, user.email)).get(`/training/certificates/${code}.pdf`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).not.toContain('pdf');
    }
  });

  test('when the code is unknown or malformed, then 404', async () => {
    expect((await ownerAgent.get('/training/certificates/AAAAAAAAAAAAAAAAAAAAAAAAAA.pdf')).status).toBe(404);
    expect((await ownerAgent.get('/training/certificates/not-a-code.pdf')).status).toBe(404);
  });

  test('when an anonymous visitor asks for the PDF, then they are sent to sign in', async () => {
    const res = await request(t.app).get(`/training/certificates/${code}.pdf`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login/);
  });
});

describe('GET /verify/:code', () => {
  test('when anyone opens a valid code without signing in, then name, module, version and date are confirmed and nothing else', async () => {
    const res = await request(t.app).get(`/verify/${code}`);

    expect(res.status).toBe(200);
    expect(res.headers['x-robots-tag']).toContain('noindex');
    expect(res.text).toContain('Valid certificate');
    expect(res.text).toContain('Ana Núñez-Peña');
    expect(res.text).toContain('Fixture basics');
    expect(res.text).not.toContain(owner.email);
    expect(res.text).not.toContain(school.name);
    expect(res.text).not.toContain('100%');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('when the code is typed in lower case, then it still verifies', async () => {
    const res = await request(t.app).get(`/verify/${code.toLowerCase()}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Valid certificate');
  });

  test('when the certificate was revoked, then the page says so', async () => {
    const other = await createUser(district, { schools: [school], name: 'Revoked Person' });
    await passAs(await signIn(t.app, other.email));
    await Completion.updateOne({ user: other._id }, { $set: { revokedAt: new Date() } });
    const revokedCode = (await Completion.findOne({ user: other._id }).lean())!.certificateCode;

    const res = await request(t.app).get(`/verify/${revokedCode}`);
    const pdf = await (await signIn(t.app, other.email)).get(`/training/certificates/${revokedCode}.pdf`);

    expect(res.status).toBe(200);
    expect(res.text).toContain('This certificate has been revoked');
    expect(res.text).not.toContain('Valid certificate');
    expect(pdf.status).toBe(404);
  });

  test('when the code is unknown or malformed, then a plain 404 page says not found', async () => {
    for (const path of ['/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA', '/verify/1234', '/verify/%24ne']) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(404);
      expect(res.text).toContain('Certificate not found');
    }
  });

  test('when someone enters a code in the form, then they are taken to its page; a wrong one gets 422', async () => {
    const spaced = `${code.slice(0, 13)} ${code.slice(13)}`.toLowerCase();
    const ok = await request(t.app).get('/verify').query({ code: spaced });
    const bad = await request(t.app).get('/verify').query({ code: 'nope' });

    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe(`/verify/${code}`);
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('That is not a certificate code.');
  });

  // Last in the file: it uses up this client's allowance.
  test('when one client asks more than 60 times a minute, then it is told to slow down (429)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 62; i += 1) statuses.push((await request(t.app).get('/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA')).status);
    expect(statuses.slice(0, 50).every((s) => s === 404)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
