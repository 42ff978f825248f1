import { randomBytes } from 'node:crypto';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { startTestLrs, type TestLrs } from '../../helpers/lrs-server';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { Attempt } from '../../../src/components/completions';
import { XapiFeed, XapiMark, XapiOutbox } from '../../../src/components/xapi';
import { FIXTURE_MODULES, playToResults, startModule } from '../training/player.helpers';

export type XapiWorld = Readonly<{
  t: TestApp;
  lrs: TestLrs;
  district: Awaited<ReturnType<typeof createDistrict>>;
  school: Awaited<ReturnType<typeof createSchool>>;
  admin: Agent;
  close(): Promise<void>;
}>;

/**
 * The xAPI suites' set-up: the app with an xAPI key (`key`, else a random one), a real test LRS, a district
 * with one school and its signed-in district admin; with `play`, the fixture modules for learners to play.
 */
export async function startXapiWorld(adminEmail: string, options: { key?: string; play?: boolean } = {}): Promise<XapiWorld> {
  const t = await startTestApp({ XAPI_SECRET_KEY: options.key ?? randomBytes(32).toString('hex') });
  if (options.play) await prepareTrainingContent(FIXTURE_MODULES);
  const lrs = await startTestLrs();
  const district = await createDistrict();
  const school = await createSchool(district);
  await createUser(district, { email: adminEmail, role: 'district_admin' });
  const admin = await signIn(t.app, adminEmail);
  return {
    t,
    lrs,
    district,
    school,
    admin,
    async close() {
      await lrs.close();
      await t.close();
    },
  };
}

/** The admin saves the test LRS's settings with sending on (and `fields` changed), as on /admin/xapi. */
export async function saveLrsSettings(world: XapiWorld, fields: Record<string, string> = {}): Promise<void> {
  const { admin, lrs } = world;
  const res = await admin
    .post('/admin/xapi')
    .type('form')
    .send({ _csrf: await csrfFor(admin, '/admin/xapi'), endpoint: lrs.endpoint, authKey: lrs.key, secret: lrs.secret, actorId: 'internal_id', enabled: 'on', ...fields });
  expect(res.status).toBe(303);
}

/** A new learner at the world's school plays the fixture module to its results, choosing the first answer each time. */
export async function learnerPlays(world: XapiWorld, slug = 'fixture-basics'): Promise<void> {
  const user = await createUser(world.district, { schools: [world.school] });
  const agent = await signIn(world.t.app, user.email);
  await startModule(agent, slug);
  await playToResults(agent, slug, (choices) => choices[0]);
}

/** What each delivery test starts from: no feed, outbox, marks or attempts, and an empty LRS. */
export async function resetDelivery(world: XapiWorld): Promise<void> {
  world.lrs.reset();
  await Promise.all([XapiFeed.deleteMany({}), XapiOutbox.deleteMany({}), XapiMark.deleteMany({}), Attempt.deleteMany({})]);
}

/** Every feed's next pass due now. */
export const makeFeedsDue = () => XapiFeed.updateMany({}, { $set: { requestedAt: new Date(Date.now() - 1) } });
