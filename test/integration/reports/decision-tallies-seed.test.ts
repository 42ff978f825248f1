/** The demo seed and the large seed write attempts directly: both leave decision tallies equal to a scan of them. */
import type { Types } from 'mongoose';
import { DecisionTally, DecisionTallyBuild, readDecisionTallies } from '../../../src/components/completions';
import { District } from '../../../src/components/districts';
import { School } from '../../../src/components/schools';
import { prepareTrainingContent, TrainingModule } from '../../../src/components/training';
import { catchUpDecisionTallies } from '../../../src/components/reports';
import { seedDemo } from '../../../seed/demo';
import { seedLarge } from '../../../seed/seed-large';
import { startTestApp, type TestApp } from '../../helpers/app';
import { scanDecisions } from './decision-scan.helpers';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent();
});
afterAll(async () => {
  await t.close();
});

/** Every published version: the district's tallies and each school's equal the scan; returns the district's finished attempts. */
async function expectSeededTalliesEqualScan(district: Types.ObjectId): Promise<number> {
  const versions = await TrainingModule.find({}, { slug: 1, version: 1 }).lean();
  const schools = await School.find({ district }, { _id: 1 }).lean();
  let finished = 0;
  for (const v of versions) {
    const scope = { district, moduleSlug: v.slug, moduleVersion: v.version };
    expect(await DecisionTallyBuild.exists(scope)).not.toBeNull();
    const whole = await scanDecisions(scope);
    finished += whole.attempts;
    expect({ ...v, _id: undefined, figures: await readDecisionTallies(scope) }).toEqual({ ...v, _id: undefined, figures: whole });
    for (const school of schools) {
      expect(await readDecisionTallies(scope, [String(school._id)])).toEqual(await scanDecisions({ ...scope, school: school._id }));
    }
  }
  // No document left for a school the district no longer has.
  const known = new Set(schools.map((s) => String(s._id)));
  expect((await DecisionTally.find({ district }, { school: 1 }).lean()).filter((d) => !known.has(String(d.school)))).toEqual([]);
  return finished;
}

test('when the demo district is seeded, then its tallies equal the scan of its attempts (update attempts included)', async () => {
  const district = await seedDemo();
  expect(await expectSeededTalliesEqualScan(district)).toBeGreaterThan(20);
  expect(await DecisionTally.exists({ district, moduleSlug: 'classroom', moduleVersion: 2, attempts: { $gt: 0 } })).not.toBeNull();
});

test('when the large seed runs, and runs again (replacing its schools and attempts), then its tallies equal the scan each time', async () => {
  const first = await seedLarge({ schools: 3, staff: 45 });
  expect(first.seconds['decision tallies']).toBeGreaterThanOrEqual(0);
  expect(await expectSeededTalliesEqualScan(first.districtId)).toBeGreaterThan(10);
  const second = await seedLarge({ schools: 4, staff: 40 });
  expect(String(second.districtId)).toBe(String(first.districtId));
  expect(await District.countDocuments({ slug: 'large-demo' })).toBe(1);
  expect(await expectSeededTalliesEqualScan(second.districtId)).toBeGreaterThan(10);
});

test('when the start-up catch-up runs, then only district versions without tallies are built, and a second run builds nothing', async () => {
  const demo = await District.findOne({ slug: 'demo-usd' }).orFail();
  await Promise.all([DecisionTally.deleteMany({ district: demo._id, moduleSlug: 'foundations' }), DecisionTallyBuild.deleteMany({ district: demo._id, moduleSlug: 'foundations' })]);
  const untouched = await DecisionTally.findOne({ district: demo._id, moduleSlug: 'classroom', moduleVersion: 2 }).lean().orFail();
  const versions = await TrainingModule.countDocuments({ slug: 'foundations' });
  const first = await catchUpDecisionTallies();
  expect(first.built).toBe(versions);
  expect(first.attempts).toBe((await scanDecisions({ district: demo._id, moduleSlug: 'foundations' })).attempts);
  expect((await DecisionTally.findOne({ _id: untouched._id }).lean())?.updatedAt).toEqual(untouched.updatedAt);
  expect(await catchUpDecisionTallies()).toEqual({ built: 0, attempts: 0 });
  await expectSeededTalliesEqualScan(demo._id);
});
