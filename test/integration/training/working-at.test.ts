import mongoose from 'mongoose';
import { forgetSessionActors } from '../../../src/components/auth';
import { Region } from '../../../src/components/regions';
import { getPersonContactContext } from '../../../src/components/schools';
import { prepareTrainingContent } from '../../../src/components/training';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, postMove, startModule } from './player.helpers';
import { startSession } from '../sessions/sessions.helpers';

/**
 * People at several schools (a substitute at Lincoln and Roosevelt): the "Working at" choice on /training and on
 * the card decides whose contacts the player, the module page and the card name; it lives in the session only.
 */
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adams: Awaited<ReturnType<typeof createSchool>>;
let closed: Awaited<ReturnType<typeof createSchool>>;
let foreignSchool: Awaited<ReturnType<typeof createSchool>>;

const SLUG = 'fixture-basics';
const id = (doc: { _id: unknown }) => String(doc._id);
const LINCOLN_LINE = 'Call Ms. Ana Ruiz at';
const ROOSEVELT_LINE = 'Call Mr. Ray Ortiz at';

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({
    settings: { contacts: { principal: { name: 'the district principal line', phone: '(213) 555-0100' }, school_police: { name: 'District Police Dispatch', phone: '(213) 555-0300' } } },
  });
  const west = await Region.create({ district: district._id, code: 'WEST', name: 'Region West', contacts: { region_operations: { name: 'West Operations Desk', phone: '(213) 555-0150' } } });
  lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN', contacts: { principal: { name: 'Ms. Ana Ruiz', nameEs: 'la Sra. Ana Ruiz', phone: '(213) 555-0101' } } });
  roosevelt = await createSchool(district, { name: 'Roosevelt Middle', code: 'ROO', region: west._id, contacts: { principal: { name: 'Mr. Ray Ortiz', nameEs: 'el Sr. Ray Ortiz', phone: '(213) 555-0202' } } });
  adams = await createSchool(district, { name: 'Adams High', code: 'ADA' });
  closed = await createSchool(district, { name: 'Closed Campus', code: 'CLO', active: false });
  const other = await createDistrict();
  foreignSchool = await createSchool(other, { name: 'Elsewhere High', code: 'ELS' });
});
afterAll(async () => t.close());

async function substitute(schools: { _id: unknown }[] = [lincoln, roosevelt]) {
  const user = await createUser(district, { schools, jobTitle: 'substitute_teacher' });
  return { user, agent: await signIn(t.app, user.email) };
}

/** Starts the module and stands at its first decision ("Call {{principal}} at {{principal.phone}}"). */
async function atDecision(agent: Agent): Promise<void> {
  expect((await startModule(agent, SLUG)).status).toBe(303);
  const intro = await getPlay(agent, SLUG);
  expect((await postMove(agent, SLUG, intro)).status).toBe(303);
}

async function decisionText(agent: Agent, lang: 'en' | 'es' = 'en'): Promise<string> {
  const page = await getPlay(agent, SLUG, `?lang=${lang}`);
  expect(page.status).toBe(200);
  expect(page.kind).toBe('decision');
  return page.html;
}

async function chooseSchool(agent: Agent, school: string, next?: string) {
  const csrf = await csrfFor(agent, '/training');
  return agent.post('/training/working-at').type('form').send({ _csrf: csrf, school, ...(next ? { next } : {}) });
}

/** The radios of the "Working at" form: [value, checked]. */
function radios(html: string): [string, boolean][] {
  return Array.from(html.matchAll(/<input type="radio" name="school" value="([0-9a-f]{24})"( checked)?/g), (m) => [m[1], Boolean(m[2])]);
}

/** The card's contact rows as [label, name, phone]. */
function cardRows(html: string): string[][] {
  return Array.from(html.matchAll(/<tr><th scope="row">([^<]*)<\/th><td>([^<]*)<\/td><td>(?:<a href="[^"]*">)?([^<]*)/g), (m) => [m[1], m[2], m[3]]);
}

describe('the choice', () => {
  test('when a person works at two schools, then /training offers both, in their account’s order, the first one chosen; one school: no form', async () => {
    const { agent } = await substitute();
    const page = await agent.get('/training');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Which school are you working at?');
    expect(radios(page.text)).toEqual([[id(lincoln), true], [id(roosevelt), false]]);
    expect(page.text).toMatch(/<legend>Which school are you working at\?<\/legend>/);

    const single = (await substitute([roosevelt])).agent;
    const alone = await single.get('/training');
    expect(alone.status).toBe(200);
    expect(alone.text).not.toContain('action="/training/working-at"');
  });

  test('when a person has an inactive school, then it is not offered, and someone with one active school left gets no form', async () => {
    const { agent } = await substitute([closed, lincoln, roosevelt]);
    expect(radios((await agent.get('/training')).text)).toEqual([[id(lincoln), true], [id(roosevelt), false]]);
    const onlyOne = (await substitute([closed, lincoln])).agent;
    expect((await onlyOne.get('/training')).text).not.toContain('action="/training/working-at"');
    expect((await chooseSchool(agent, id(closed))).status).toBe(422);
  });

  test('when the substitute chooses Roosevelt, then the player, the module page and the card name Roosevelt’s principal, in English and Spanish', async () => {
    const { user, agent } = await substitute();
    await atDecision(agent);
    expect(await decisionText(agent)).toContain(LINCOLN_LINE);
    const before = await User.findById(user._id).lean();

    const chosen = await chooseSchool(agent, id(roosevelt));
    expect(chosen.status).toBe(303);
    expect(chosen.headers.location).toBe('/training');
    // Session only: nothing is stored on the person.
    expect(await User.findById(user._id).lean()).toEqual(before);
    const list = await agent.get('/training?lang=en');
    expect(list.text).toContain('The training now shows the contacts of the school you chose.');
    expect(radios(list.text)).toEqual([[id(lincoln), false], [id(roosevelt), true]]);

    const english = await decisionText(agent);
    expect(english).toContain(ROOSEVELT_LINE);
    expect(english).toContain('(213) 555-0202');
    expect(english).not.toContain('Ana Ruiz');
    expect(await decisionText(agent, 'es')).toContain('el Sr. Ray Ortiz');

    const card = await agent.get(`/training/${SLUG}/card?lang=en`);
    expect(card.status).toBe(200);
    expect(card.text).toContain('Contacts for Roosevelt Middle');
    expect(cardRows(card.text)).toEqual([
      ['Site administrator', 'Mr. Ray Ortiz', '(213) 555-0202'],
      ['Region operations', 'West Operations Desk', '(213) 555-0150'],
      ['School police dispatch', 'District Police Dispatch', '(213) 555-0300'],
    ]);

    // A new sign-in is a new session: the first school again.
    const again = await signIn(t.app, user.email);
    expect(await decisionText(again)).toContain(LINCOLN_LINE);
    expect(radios((await again.get('/training')).text)).toEqual([[id(lincoln), true], [id(roosevelt), false]]);
  });

  test('when the choice is made on the card, then it returns to the card (with its version) showing that school', async () => {
    const { agent } = await substitute();
    const card = await agent.get(`/training/${SLUG}/card?version=1&lang=en`);
    expect(card.text).toContain('Contacts for Lincoln Elementary');
    expect(card.text).toContain(`name="next" value="/training/${SLUG}/card?version=1"`);
    const res = await chooseSchool(agent, id(roosevelt), `/training/${SLUG}/card?version=1`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/training/${SLUG}/card?version=1`);
    expect((await agent.get(res.headers.location)).text).toContain('Contacts for Roosevelt Middle');
  });

  test('when `next` is anything but the list or a card, then the form returns to the list', async () => {
    const { agent } = await substitute();
    for (const next of ['https://evil.example/', '//evil.example', '/admin/users', `/training/${SLUG}/play`, '/training/../admin']) {
      const res = await chooseSchool(agent, id(roosevelt), next);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/training');
    }
  });
});

describe('a school that is not theirs', () => {
  test('when the form names another school of the district, another district’s, an unknown id or no id, then each gets the same 422 and the choice is unchanged', async () => {
    const { agent } = await substitute();
    await atDecision(agent);
    expect((await chooseSchool(agent, id(roosevelt))).status).toBe(303);
    const answers: string[] = [];
    for (const school of [id(adams), id(foreignSchool), new mongoose.Types.ObjectId().toHexString(), 'not-an-id', '']) {
      const res = await chooseSchool(agent, school);
      expect(res.status).toBe(422);
      expect(res.text).toContain('id="error-summary"');
      expect(res.text).toContain('<a href="#field-school">Choose one of your schools.</a>');
      expect(res.text).toContain('aria-invalid=true');
      // The form is shown again with the choice in force (the id entered is not one to show).
      expect(radios(res.text)).toEqual([[id(lincoln), false], [id(roosevelt), true]]);
      expect(res.text).not.toContain('Adams High');
      expect(res.text).not.toContain('Elsewhere High');
      answers.push(res.text.replace(/name="_csrf" value="[^"]+"/, ''));
    }
    // Same page whatever the id: nothing tells an id of another district from one that does not exist.
    expect(new Set(answers.map((a) => a.replace(/<main[\s\S]*?<h1>/, '')).values()).size).toBe(1);
    expect(await decisionText(agent)).toContain(ROOSEVELT_LINE);
  });

  test('when a repeated field sends two schools, then it is a 422, not a crash', async () => {
    const { agent } = await substitute();
    const csrf = await csrfFor(agent, '/training');
    const res = await agent.post('/training/working-at').type('form').send(`_csrf=${encodeURIComponent(csrf)}&school=${id(lincoln)}&school=${id(roosevelt)}`);
    expect(res.status).toBe(422);
  });

  test('when the 422 comes from the card’s form, then the card is shown again with the error', async () => {
    const { agent } = await substitute();
    const res = await chooseSchool(agent, id(adams), `/training/${SLUG}/card`);
    expect(res.status).toBe(422);
    expect(res.text).toContain('Quick-reference card');
    expect(res.text).toContain('Choose one of your schools.');
    expect(res.text).toContain('Contacts for Lincoln Elementary');
  });

  test('when a school is taken off the person’s account after they chose it, then their first school is used again', async () => {
    const { user, agent } = await substitute();
    await atDecision(agent);
    expect((await chooseSchool(agent, id(roosevelt))).status).toBe(303);
    expect(await decisionText(agent)).toContain(ROOSEVELT_LINE);
    await User.updateOne({ _id: user._id }, { $set: { schools: [lincoln._id, adams._id] } });
    forgetSessionActors([String(user._id)]);
    expect(await decisionText(agent)).toContain(LINCOLN_LINE);
    expect(radios((await agent.get('/training')).text)).toEqual([[id(lincoln), true], [id(adams), false]]);
  });
});

describe('the printable card for one school (?school=)', () => {
  test('when the card asks for one of the person’s schools, then it shows that school’s contacts and leaves the session’s choice alone', async () => {
    const { agent } = await substitute();
    const card = await agent.get(`/training/${SLUG}/card?school=${id(roosevelt)}&lang=en`);
    expect(card.status).toBe(200);
    expect(card.text).toContain('Contacts for Roosevelt Middle');
    expect(cardRows(card.text)[0]).toEqual(['Site administrator', 'Mr. Ray Ortiz', '(213) 555-0202']);
    expect(cardRows((await agent.get(`/training/${SLUG}/card?lang=en`)).text)[0]).toEqual(['Site administrator', 'Ms. Ana Ruiz', '(213) 555-0101']);
  });

  test('when a one-school person asks for their own school, then 200; for any other, another district’s, an unknown, malformed or repeated id: 404', async () => {
    const { agent } = await substitute([lincoln]);
    expect((await agent.get(`/training/${SLUG}/card?school=${id(lincoln)}`)).status).toBe(200);
    const two = (await substitute()).agent;
    for (const query of [`school=${id(adams)}`, `school=${id(foreignSchool)}`, `school=${id(closed)}`, `school=${new mongoose.Types.ObjectId().toHexString()}`, 'school=nope', `school=${id(lincoln)}&school=${id(roosevelt)}`, 'school=']) {
      expect([query, (await two.get(`/training/${SLUG}/card?${query}`)).status]).toEqual([query, 404]);
    }
  });
});

describe('group sessions', () => {
  test('when a principal of two schools presents a session at the second, then the deck names the second school’s principal', async () => {
    const principal = await createUser(district, { role: 'principal', schools: [lincoln, roosevelt] });
    const agent = await signIn(t.app, principal.email);
    const sessionId = await startSession(agent, id(roosevelt));
    const deck = await agent.get(`/school/${id(roosevelt)}/sessions/${sessionId}/present/all`);
    expect(deck.status).toBe(200);
    expect(deck.text).toContain(ROOSEVELT_LINE);
    expect(deck.text).not.toContain('Ana Ruiz');
  });
});

describe('the per-step cost', () => {
  test('when the chosen school’s contacts are resolved again, then no query is made and the same object comes back; each school has its own', async () => {
    const person = { districtId: id(district), schoolIds: [id(lincoln), id(roosevelt)] };
    const first = await getPersonContactContext(person);
    const atRoosevelt = await getPersonContactContext(person, id(roosevelt));
    const collections: string[] = [];
    mongoose.set('debug', (collection: string) => {
      collections.push(collection);
    });
    try {
      expect(await getPersonContactContext(person, id(roosevelt))).toBe(atRoosevelt);
      expect(await getPersonContactContext(person)).toBe(first);
      // A school that is not theirs is ignored: their first school's context.
      expect(await getPersonContactContext(person, id(adams))).toBe(first);
      expect(collections).toEqual([]);
    } finally {
      mongoose.set('debug', false);
    }
    expect(first.contacts.principal?.name).toBe('Ms. Ana Ruiz');
    expect(atRoosevelt.contacts.principal?.name).toBe('Mr. Ray Ortiz');
  });

  test('when a two-school learner who chose their second school plays a step, then it makes exactly the queries of a one-school learner’s step', async () => {
    const one = (await substitute([roosevelt])).agent;
    const two = (await substitute()).agent;
    expect((await chooseSchool(two, id(roosevelt))).status).toBe(303);
    await atDecision(one);
    await atDecision(two);
    // Warm both (the memo and the session cache), then count one decision: POST + GET of the next page.
    await getPlay(one, SLUG);
    await getPlay(two, SLUG);
    async function stepQueries(agent: Agent): Promise<string[]> {
      const page = await getPlay(agent, SLUG);
      const seen: string[] = [];
      mongoose.set('debug', (collection: string, method: string) => {
        seen.push(`${collection}.${method}`);
      });
      try {
        expect((await postMove(agent, SLUG, page, page.choices[0])).status).toBe(303);
        const next = await getPlay(agent, SLUG);
        expect(next.status).toBe(200);
      } finally {
        mongoose.set('debug', false);
      }
      return seen;
    }
    const single = await stepQueries(one);
    const double = await stepQueries(two);
    expect(single.length).toBeGreaterThan(0);
    expect(double).toEqual(single);
    expect(double.filter((q) => q.startsWith('schools.'))).toEqual([]);
  });
});
