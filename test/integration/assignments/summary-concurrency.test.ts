import { Types } from 'mongoose';
import { rebuildDistrictCompliance } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { ComplianceSummary } from '../../../src/components/assignments/compliance-summary.model';
import { countRows, countsAt, type Tally } from '../../../src/components/assignments/compliance-tally';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { complete, createAssignment, publishModule, startAttempt } from './compliance-fixtures';

let t: TestApp;

/** Events start a few ms apart (people finishing "at once" on different machines). */
const after = <T>(ms: number, work: () => Promise<T>) => new Promise<T>((resolve, reject) => setTimeout(() => work().then(resolve, reject), ms));

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
});

afterAll(async () => {
  await t.close();
});

/** The (school, assignment) summary as stored, and the same counts recounted from the rows now. */
async function storedAndRecounted(schoolId: Types.ObjectId, assignmentId: Types.ObjectId, now: Date) {
  const summary = await ComplianceSummary.findOne({ school: schoolId, assignment: assignmentId }).lean();
  const rows = await ComplianceRow.find({ schools: schoolId, assignment: assignmentId }).lean();
  const primary = rows.filter((r) => String(r.primarySchool) === String(schoolId));
  const secondary = rows.filter((r) => String(r.primarySchool) !== String(schoolId));
  return {
    stored: summary ? { primary: countsAt(summary.primary as Tally, now), secondary: countsAt(summary.secondary as Tally, now) } : null,
    recounted: { primary: countRows(primary as never, now), secondary: countRows(secondary as never, now) },
  };
}

describe('per-(school, assignment) summaries under concurrent events', () => {
  test('when many people at the same school finish (and start) at the same moment, then the school summary equals a fresh recount of its rows after every wave', async () => {
    const district = await createDistrict();
    const school = await createSchool(district);
    const other = await createSchool(district);
    // Bus drivers at two schools: counted in `school`'s secondary tally when `other` is their first school.
    const people = await Promise.all(
      Array.from({ length: 36 }, (_, i) => createUser(district, { schools: i % 6 === 5 ? [other, school] : [school], jobTitle: i % 6 === 5 ? 'bus_driver' : 'teacher' })),
    );
    const assignment = await createAssignment(district, { due: { kind: 'fixed', date: '2099-06-30' } });
    const now = new Date();
    // A slow app process: in each wave the first summary write (from the event that read its rows
    // first) is held until every other event of the wave has finished, so it lands last — after other
    // people's row changes and summary writes. That is the interleaving that used to leave a stale count.
    const write = ComplianceSummary.updateOne.bind(ComplianceSummary);
    const gate = { calls: 0, open: Promise.resolve() };
    const slow = jest.spyOn(ComplianceSummary, 'updateOne').mockImplementation(((...args: Parameters<typeof write>) =>
      gate.calls++ === 0 ? gate.open.then(() => write(...args)) : write(...args)) as never);
    const wave = async (events: Array<() => Promise<unknown>>) => {
      let release = () => undefined as void;
      gate.calls = 0;
      gate.open = new Promise<void>((resolve) => (release = resolve));
      let finished = 0;
      await Promise.all(events.map((event, i) => after(i * 4, event).finally(() => (++finished === events.length - 1 ? release() : undefined))));
      release();
    };

    const initial = await storedAndRecounted(school._id, assignment._id, now);
    expect(initial.recounted.primary.total + initial.recounted.secondary.total).toBe(36);
    expect(initial.stored).toEqual(initial.recounted);

    // Wave 1: a third start at once; wave 2: everyone in the first two thirds finishes at once;
    // wave 3: the rest start and finish interleaved.
    const waves: Array<Array<() => Promise<unknown>>> = [
      people.slice(0, 12).map((p) => () => startAttempt(p, 'foundations')),
      people.slice(0, 24).map((p, i) => () => complete(p, 'foundations', 1, new Date(now.getTime() - i * 60_000))),
      people.slice(24).map((p, i) => (i % 2 ? () => complete(p, 'foundations', 1, now) : () => startAttempt(p, 'foundations'))),
    ];
    for (const events of waves) {
      await wave(events);
      const { stored, recounted } = await storedAndRecounted(school._id, assignment._id, now);
      expect(stored).toEqual(recounted);
    }
    slow.mockRestore();
    const final = await storedAndRecounted(school._id, assignment._id, now);
    expect(final.recounted.primary.completed + final.recounted.secondary.completed).toBe(30);

    // A rebuild from the source records agrees with what the events left behind.
    await rebuildDistrictCompliance(district._id);
    expect((await storedAndRecounted(school._id, assignment._id, now)).stored).toEqual(final.recounted);
  });
});
