import { randomBytes } from 'node:crypto';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { startTestLrs, type TestLrs } from '../../helpers/lrs-server';
import { signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES } from '../training/player.helpers';

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
