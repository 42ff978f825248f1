import { XapiFeed, XapiOutbox, runXapiDeliveries, statementSchema } from '../../../src/components/xapi';
import type { TestApp } from '../../helpers/app';
import type { createDistrict } from '../../helpers/factories';
import type { TestLrs } from '../../helpers/lrs-server';
import { csrfFor, type Agent } from '../../helpers/session';
import { learnerPlays, makeFeedsDue, resetDelivery, saveLrsSettings, startXapiWorld, type XapiWorld } from './xapi.helpers';

/**
 * Statements waiting in the outbox when the IRI base changes (docs/xapi.md, "Changing the base"): they have not
 * been sent, so they go out under the new base — rebuilt when sent, ids unchanged — and the page says how many wait.
 */
const SLUG = 'fixture-basics';
const NEW_BASE = 'https://training.district.example/lrs';
let t: TestApp;
let lrs: TestLrs;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
let world: XapiWorld;

beforeAll(async () => {
  world = await startXapiWorld('admin@iri-queued.example', { play: true });
  ({ t, lrs, district, admin } = world);
});
afterAll(() => world.close());
beforeEach(() => resetDelivery(world));

const saveSettings = () => saveLrsSettings(world);


const makeDue = makeFeedsDue;
const iris = (statement: Record<string, unknown>) => JSON.stringify(statement).match(/https?:\/\/[^"]+/g) ?? [];

describe('statements waiting when the IRI base changes', () => {
  test('when statements wait (the LRS was down) and the admin changes the base, then the page says how many wait, and they are sent under the new base with the same ids', async () => {
    await saveSettings();
    await learnerPlays(world);
    lrs.failNext({ status: 503 });
    await runXapiDeliveries();
    const waiting = await XapiOutbox.find({}).sort({ _id: 1 }).lean();
    expect(waiting).toHaveLength(6);
    expect(waiting.every((row) => row.iriBase === t.config.baseUrl)).toBe(true);

    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('6 statements are waiting to be sent now: they would go out under the new address.');
    await admin.get('/admin/xapi?lang=es');
    const es = await admin.get('/admin/xapi');
    await admin.get('/admin/xapi?lang=en');
    expect(es.text).toContain('6 declaraciones esperan envío ahora: saldrían con la dirección nueva.');

    const changed = await admin.post('/admin/xapi/iri-base').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi'), iriBase: NEW_BASE, confirmIriBase: 'on' });
    expect(changed.status).toBe(303);
    // Stored as built: the rows are rebuilt when sent, not rewritten here.
    expect((await XapiOutbox.findOne({}).lean())!.statement).toContain(t.config.baseUrl);

    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements.map((s) => s.id)).toEqual(waiting.map((row) => row.statementId));
    for (const statement of lrs.statements) {
      const { stored: _stored, authority: _authority, ...sent } = statement;
      expect(statementSchema.safeParse(sent).success).toBe(true);
      expect(iris(sent).filter((iri) => iri.startsWith(t.config.baseUrl))).toEqual([]);
      expect((sent.actor as { account: { homePage: string } }).account.homePage).toBe(`${NEW_BASE}/districts/${district.slug}`);
      expect((sent.object as { id: string }).id.startsWith(`${NEW_BASE}/districts/${district.slug}/modules/${SLUG}/v1`)).toBe(true);
    }
    const passed = lrs.statements.find((s) => (s.verb as { id: string }).id.endsWith('/passed'))!;
    expect(Object.keys((passed.result as { extensions: Record<string, unknown> }).extensions)).toEqual(expect.arrayContaining([`${NEW_BASE}/xapi/extensions/score-percent`]));
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await XapiFeed.findOne({}).lean()).toMatchObject({ sentCount: 6, iriBase: NEW_BASE });
    const after = await admin.get('/admin/xapi');
    expect(after.text).not.toContain('waiting to be sent now');
  });

  test('when a row was queued before rows kept their base, then its base is read from its actor and it is rebuilt too; a row under the current base is sent as stored', async () => {
    await saveSettings();
    await learnerPlays(world);
    lrs.failNext({ status: 503 });
    await runXapiDeliveries();
    const [first, ...rest] = await XapiOutbox.find({}).sort({ _id: 1 }).lean();
    // As stored before the base was kept on each row.
    await XapiOutbox.updateOne({ _id: first._id }, { $unset: { iriBase: 1 } });
    await XapiFeed.updateOne({}, { $set: { iriBase: NEW_BASE } });
    // One row already built under the new base (collected after the change): sent byte for byte as stored.
    const current = JSON.parse(rest[0].statement.split(t.config.baseUrl).join(NEW_BASE)) as Record<string, unknown>;
    await XapiOutbox.updateOne({ _id: rest[0]._id }, { $set: { iriBase: NEW_BASE, statement: JSON.stringify(current) } });

    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
    for (const statement of lrs.statements) expect(iris(statement).filter((iri) => iri.startsWith(t.config.baseUrl))).toEqual([]);
    const { stored: _s, authority: _a, ...sentCurrent } = lrs.statements[1];
    expect(sentCurrent).toEqual(current);
  });
});
