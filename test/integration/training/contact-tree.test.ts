import mongoose from 'mongoose';
import { District } from '../../../src/components/districts';
import { Region } from '../../../src/components/regions';
import { getPersonContactContext, School } from '../../../src/components/schools';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, postMove, startModule } from './player.helpers';
import { startSession } from '../sessions/sessions.helpers';

/**
 * The contact tree as learners meet it: each contact is the school's own, else its region's, else the district's,
 * else the neutral wording — asserted on the player's text and on the printed card, in English and Spanish.
 */
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let west: { _id: unknown };
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adams: Awaited<ReturnType<typeof createSchool>>;
let closed: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let lincolnPrincipal: Agent;

const SLUG = 'fixture-basics';
const id = (doc: { _id: unknown }) => String(doc._id);

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({
    settings: {
      policyReference: 'BP 5145.13',
      contacts: {
        principal: { name: 'the district principal line', nameEs: 'la línea de directores del distrito', phone: '(213) 555-0100' },
        region_operations: { name: 'District Operations', phone: '(213) 555-0200' },
        school_police: { name: 'District Police Dispatch', nameEs: 'la central de policía del distrito', phone: '(213) 555-0300' },
      },
    },
  });
  west = await Region.create({
    district: district._id,
    code: 'WEST',
    name: 'Region West',
    contacts: {
      principal: { name: 'the West principals desk', nameEs: 'la mesa de directores del Oeste', phone: '(213) 555-0110' },
      region_operations: { name: 'West Operations Desk', nameEs: 'la oficina de operaciones del Oeste', phone: '(213) 555-0150' },
    },
  });
  lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN', region: west._id, contacts: { principal: { name: 'Ms. Ana Ruiz', nameEs: 'la Sra. Ana Ruiz', phone: '(213) 555-0101' } } });
  roosevelt = await createSchool(district, { name: 'Roosevelt Middle', code: 'ROO', region: west._id });
  adams = await createSchool(district, { name: 'Adams High', code: 'ADA' });
  closed = await createSchool(district, { name: 'Closed Campus', code: 'CLO', active: false, contacts: { principal: { name: 'Mr. Closed', phone: '(213) 555-0999' } } });
  admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
  lincolnPrincipal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [lincoln] })).email);
});
afterAll(async () => t.close());

/** A new learner at the given schools, signed in, standing at the module's first decision ("Call {{principal}} at {{principal.phone}}"). */
async function learnerAtDecision(schools: { _id: unknown }[]): Promise<Agent> {
  const agent = await signIn(t.app, (await createUser(district, { schools, jobTitle: 'front_office' })).email);
  expect((await startModule(agent, SLUG)).status).toBe(303);
  const intro = await getPlay(agent, SLUG);
  expect(intro.kind).toBe('continue');
  expect((await postMove(agent, SLUG, intro)).status).toBe(303);
  expect((await getPlay(agent, SLUG)).html).toContain('What do you do first?');
  return agent;
}

async function decisionText(agent: Agent, lang: 'en' | 'es' = 'en'): Promise<string> {
  const page = await getPlay(agent, SLUG, `?lang=${lang}`);
  expect(page.status).toBe(200);
  return page.html;
}

/** The card's contact table as [label, name, phone] rows. */
async function cardRows(agent: Agent, lang: 'en' | 'es'): Promise<string[][]> {
  const res = await agent.get(`/training/${SLUG}/card?lang=${lang}`);
  expect(res.status).toBe(200);
  return Array.from(res.text.matchAll(/<tr><th scope="row">([^<]*)<\/th><td>([^<]*)<\/td><td>(?:<a href="[^"]*">)?([^<]*)/g), (m) => [m[1], m[2], m[3]]);
}

describe('resolution order: school > region > district > default', () => {
  test('when a Lincoln learner plays, then the player names Lincoln’s own principal, in English and in Spanish', async () => {
    const agent = await learnerAtDecision([lincoln]);
    const english = await decisionText(agent, 'en');
    expect(english).toContain('Call Ms. Ana Ruiz at (213) 555-0101');
    expect(english).not.toContain('district principal line');
    const spanish = await decisionText(agent, 'es');
    expect(spanish).toContain('Llame a la Sra. Ana Ruiz al');
    expect(spanish).toContain('(213) 555-0101');
  });

  test('when a Lincoln learner prints the card, then each contact comes from its level: school, region, district; neutral ones are left off', async () => {
    const agent = await signIn(t.app, (await createUser(district, { schools: [lincoln] })).email);
    expect(await cardRows(agent, 'en')).toEqual([
      ['Site administrator', 'Ms. Ana Ruiz', '(213) 555-0101'],
      ['Region operations', 'West Operations Desk', '(213) 555-0150'],
      ['School police dispatch', 'District Police Dispatch', '(213) 555-0300'],
    ]);
    const spanish = await cardRows(agent, 'es');
    expect(spanish.map((row) => row.slice(1))).toEqual([
      ['la Sra. Ana Ruiz', '(213) 555-0101'],
      ['la oficina de operaciones del Oeste', '(213) 555-0150'],
      ['la central de policía del distrito', '(213) 555-0300'],
    ]);
    const card = await agent.get(`/training/${SLUG}/card?lang=en`);
    expect(card.text).toContain('Escalate to Ms. Ana Ruiz; do not decide alone.');
  });

  test('when a school has no own principal, then its region’s is used; without a region, the district’s', async () => {
    const atRoosevelt = await learnerAtDecision([roosevelt]);
    expect(await decisionText(atRoosevelt)).toContain('Call the West principals desk at');
    expect(await decisionText(atRoosevelt, 'es')).toContain('Llame a la mesa de directores del Oeste al');
    const atAdams = await learnerAtDecision([adams]);
    expect(await decisionText(atAdams)).toContain('Call the district principal line at');
    expect(await decisionText(atAdams, 'es')).toContain('Llame a la línea de directores del distrito al');
    expect((await cardRows(atAdams, 'en'))[1]).toEqual(['Region operations', 'District Operations', '(213) 555-0200']);
  });

  test('when no level names a contact, then the neutral wording is used', async () => {
    const bare = await createDistrict();
    const school = await createSchool(bare);
    const agent = await signIn(t.app, (await createUser(bare, { schools: [school] })).email);
    expect((await startModule(agent, SLUG)).status).toBe(303);
    const intro = await getPlay(agent, SLUG);
    await postMove(agent, SLUG, intro);
    const english = (await getPlay(agent, SLUG, '?lang=en')).html;
    expect(english).toContain('Call your principal or site administrator at (see your site&#39;s emergency card)');
    expect(await cardRows(agent, 'en')).toEqual([]);
  });

  test('when a person has several schools, then the first active one wins', async () => {
    const closedFirst = await learnerAtDecision([closed, lincoln]);
    expect(await decisionText(closedFirst)).toContain('Call Ms. Ana Ruiz at');
    const adamsFirst = await learnerAtDecision([adams, lincoln]);
    expect(await decisionText(adamsFirst)).toContain('Call the district principal line at');
  });

  test('when a principal presents a group session, then the deck uses the session school’s contacts', async () => {
    const sessionId = await startSession(lincolnPrincipal, id(lincoln));
    const deck = await lincolnPrincipal.get(`/school/${id(lincoln)}/sessions/${sessionId}/present/all`);
    expect(deck.status).toBe(200);
    expect(deck.text).toContain('Call Ms. Ana Ruiz at');
    expect(deck.text).not.toContain('Call the district principal line');
  });
});

describe('a save shows at once (the memo is dropped in this process)', () => {
  test('when the principal changes the school’s contact, then the next step of a learner already playing shows the new one', async () => {
    const agent = await learnerAtDecision([lincoln]);
    expect(await decisionText(agent)).toContain('Call Ms. Ana Ruiz at');
    const csrf = await csrfFor(lincolnPrincipal, `/school/${id(lincoln)}/contacts`);
    const res = await lincolnPrincipal.post(`/school/${id(lincoln)}/contacts`).type('form').send({ _csrf: csrf, contact_principal_name: 'Mr. Luis Vega', contact_principal_phone: '(213) 555-0177' });
    expect(res.status).toBe(303);
    expect(await decisionText(agent)).toContain('Call Mr. Luis Vega at (213) 555-0177');
    // Spanish: no Spanish wording given for the new name, so the name as entered.
    expect(await decisionText(agent, 'es')).toContain('Llame a Mr. Luis Vega al');
    const cleared = await lincolnPrincipal.post(`/school/${id(lincoln)}/contacts`).type('form').send({ _csrf: csrf });
    expect(cleared.status).toBe(303);
    expect(await decisionText(agent)).toContain('Call the West principals desk at');
  });

  test('when the admin changes the region’s contacts, or moves the school out of the region, then the next step shows it', async () => {
    const agent = await learnerAtDecision([roosevelt]);
    expect(await decisionText(agent)).toContain('Call the West principals desk at');
    const csrf = await csrfFor(admin, `/admin/regions/${id(west)}`);
    const saved = await admin.post(`/admin/regions/${id(west)}`).type('form').send({ _csrf: csrf, code: 'WEST', name: 'Region West', contact_principal_name: 'the West principal support line', contact_principal_phone: '(213) 555-0112' });
    expect(saved.status).toBe(303);
    expect(await decisionText(agent)).toContain('Call the West principal support line at');
    const moved = await admin.post(`/admin/schools/${id(roosevelt)}`).type('form').send({ _csrf: csrf, code: 'ROO', name: 'Roosevelt Middle', region: '' });
    expect(moved.status).toBe(303);
    expect((await School.findById(roosevelt._id).lean())!.region).toBeUndefined();
    expect(await decisionText(agent)).toContain('Call the district principal line at');
  });

  test('when the admin changes the district settings, then a school without its own contact shows the new district one at once', async () => {
    const agent = await learnerAtDecision([adams]);
    expect(await decisionText(agent)).toContain('Call the district principal line at');
    const csrf = await csrfFor(admin, '/admin/settings');
    const res = await admin.post('/admin/settings').type('form').send({ _csrf: csrf, jurisdiction: 'California', timeZone: 'America/Los_Angeles', policyReference: 'BP 5145.13', contact_principal_name: 'the principal hotline', contact_principal_phone: '(213) 555-0105' });
    expect(res.status).toBe(303);
    expect(await decisionText(agent)).toContain('Call the principal hotline at');
    const stored = await District.findById(district._id).lean();
    expect((stored!.settings!.contacts as unknown as Record<string, { name: string }>).principal.name).toBe('the principal hotline');
  });
});

describe('the per-step cost', () => {
  test('when the same learner’s contacts are resolved again within the memo’s lifetime, then no query is made and the same context object is returned', async () => {
    const person = { districtId: id(district), schoolIds: [id(lincoln)] };
    const first = await getPersonContactContext(person);
    const collections: string[] = [];
    mongoose.set('debug', (collection: string) => {
      collections.push(collection);
    });
    try {
      const again = await getPersonContactContext(person);
      // Same object: the content renderer's HTML memo (per context object) keeps working across steps.
      expect(again).toBe(first);
      expect(collections).toEqual([]);
      // The probe itself sees queries (a real read is listed).
      await School.exists({ _id: lincoln._id });
      expect(collections).toEqual(['schools']);
    } finally {
      mongoose.set('debug', false);
    }
    expect(first.contacts.principal?.name).toBeTruthy();
  });
});
