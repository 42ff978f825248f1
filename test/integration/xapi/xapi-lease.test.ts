import { XapiFeed, XapiMark, XapiOutbox, claimXapiFeed, runXapiDeliveries, XAPI_LEASE_MS } from '../../../src/components/xapi';
import { assumeTransactionSupport } from '../../../src/shared/transactions';
import type { createDistrict } from '../../helpers/factories';
import type { TestLrs } from '../../helpers/lrs-server';
import { learnerPlays, makeFeedsDue, resetDelivery, saveLrsSettings, startXapiWorld, type XapiWorld } from './xapi.helpers';

/**
 * A collector that lost its lease (docs/xapi.md, "Delivery"): its batch's writes are conditional on still
 * holding the feed, so what it read before the takeover is never queued after the new holder sent it.
 */
let lrs: TestLrs;
let district: Awaited<ReturnType<typeof createDistrict>>;

let world: XapiWorld;

beforeAll(async () => {
  world = await startXapiWorld('admin@lease.example', { play: true });
  ({ lrs, district } = world);
});
afterAll(() => world.close());
beforeEach(() => resetDelivery(world));

const saveSettings = () => saveLrsSettings(world);


const feed = async () => (await XapiFeed.findOne({ district: district._id }).lean())!;
const posts = () => lrs.requests.filter((r) => r.method === 'POST');
const lapse = () => XapiFeed.updateOne({ district: district._id }, { $set: { heartbeatAt: new Date(Date.now() - XAPI_LEASE_MS - 1_000) } });
const makeDue = makeFeedsDue;

/** The six statements of the play-through reached the LRS exactly once, in one POST, counted once, and nothing waits. */
async function expectEachSentOnce() {
  expect(posts()).toHaveLength(1);
  expect(lrs.statements).toHaveLength(6);
  expect(new Set(lrs.statements.map((s) => s.id)).size).toBe(6);
  expect(await XapiOutbox.countDocuments()).toBe(0);
  expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
}

/**
 * Holds the first collector that reads its marks right after the read, before it writes anything: the
 * moment a slow (paused, partitioned) process would lose its lease. The marks' own read is left as is.
 */
function holdFirstCollectorAfterItsReads() {
  const find = XapiMark.find.bind(XapiMark);
  let arrive = () => undefined as void;
  let release = () => undefined as void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  const spy = jest.spyOn(XapiMark, 'find').mockImplementation(((...args: Parameters<typeof find>) => {
    const query = find(...args);
    if (calls++ > 0) return query;
    const exec = query.exec.bind(query);
    query.exec = (async () => {
      const marks = await exec();
      arrive();
      await released;
      return marks;
    }) as typeof query.exec;
    return query;
  }) as never);
  return {
    arrived,
    release() {
      spy.mockRestore();
      release();
    },
  };
}

/**
 * Holds the next `find` on `model` whose filter `matches` — before it reads (`before`), or after, with its result
 * in hand (`after`) — until released: a process paused at that point, driven by hand (no timers).
 */
function holdNextFind(model: typeof XapiOutbox | typeof XapiMark, matches: (filter: Record<string, unknown>) => boolean, when: 'before' | 'after') {
  const find = model.find.bind(model) as (...args: unknown[]) => { exec: () => Promise<unknown> };
  let arrive = () => undefined as void;
  let release = () => undefined as void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let isHeld = false;
  const spy = jest.spyOn(model, 'find').mockImplementation(((...args: unknown[]) => {
    const query = find(...args);
    if (isHeld || !matches((args[0] ?? {}) as Record<string, unknown>)) return query;
    isHeld = true;
    const exec = query.exec.bind(query);
    query.exec = async () => {
      if (when === 'before') {
        arrive();
        await released;
        return exec();
      }
      const result = await exec();
      arrive();
      await released;
      return result;
    };
    return query;
  }) as never);
  return {
    arrived,
    release() {
      spy.mockRestore();
      release();
    },
  };
}

/** The collector's look-up of which of its statements are already queued (it follows its conditional heartbeat). */
const isQueuedLookUp = (filter: Record<string, unknown>) => 'statementId' in filter;

describe('a collector that lost its lease', () => {
  test('when another runner took the feed over and sent everything while the first was reading, then the first queues nothing: the LRS gets each statement once and the count is 6', async () => {
    await saveSettings();
    await learnerPlays(world);
    const held = holdFirstCollectorAfterItsReads();
    const first = runXapiDeliveries();
    try {
      await held.arrived;
      // The first runner looks dead (its heartbeat lapsed): a second takes the feed over and runs a whole pass.
      await lapse();
      expect(await runXapiDeliveries()).toBe(1);
      expect(posts()).toHaveLength(1);
      expect(lrs.statements).toHaveLength(6);
      expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
    } finally {
      held.release();
    }
    await first;

    // The first runner wrote nothing of what it had read.
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
    // And later passes have nothing to send.
    await makeDue();
    await runXapiDeliveries();
    expect(posts()).toHaveLength(1);
    expect(lrs.statements).toHaveLength(6);
    expect(new Set(lrs.statements.map((s) => s.id)).size).toBe(6);
    expect((await feed()).sentCount).toBe(6);
  });

  test('when the feed is claimed by another runner between the first one’s reads and writes, then the first writes no statement, mark or cursor; the new holder sends everything once', async () => {
    await saveSettings();
    await learnerPlays(world);
    const before = await feed();
    const held = holdFirstCollectorAfterItsReads();
    const first = runXapiDeliveries();
    try {
      await held.arrived;
      await lapse();
      // Claimed, not yet run (its process is slow to start, or died at once).
      const claimed = await claimXapiFeed('second-host:2:beef');
      expect(claimed?.owner).toBe('second-host:2:beef');
    } finally {
      held.release();
    }
    await first;
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await XapiMark.countDocuments()).toBe(0);
    expect(await feed()).toMatchObject({ owner: 'second-host:2:beef', state: 'running', sentCount: 0 });
    expect((await feed()).cursor).toEqual(before.cursor);
    expect(posts()).toHaveLength(0);

    // The second claim's process died too: the next runner takes it over and sends each statement once.
    await lapse();
    expect(await runXapiDeliveries()).toBe(1);
    expect(posts()).toHaveLength(1);
    expect(lrs.statements).toHaveLength(6);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
    expect(await XapiMark.countDocuments()).toBe(1);
  });
});

describe('without transactions (a standalone MongoDB)', () => {
  beforeAll(() => assumeTransactionSupport(false));
  afterAll(() => assumeTransactionSupport(undefined));

  test('when another runner took the feed over while the first was reading, then the first queues nothing (its heartbeat write, conditional on the lease, comes first)', async () => {
    await saveSettings();
    await learnerPlays(world);
    const held = holdFirstCollectorAfterItsReads();
    const first = runXapiDeliveries();
    try {
      await held.arrived;
      await lapse();
      expect(await runXapiDeliveries()).toBe(1);
    } finally {
      held.release();
    }
    await first;
    expect(await XapiOutbox.countDocuments()).toBe(0);
    await makeDue();
    await runXapiDeliveries();
    expect(posts()).toHaveLength(1);
    expect(lrs.statements).toHaveLength(6);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
  });

  test('when a collector stalls past its lease between its heartbeat and its insert while another runner takes the feed over and sends everything, then what it queues late is never sent: one POST, count 6', async () => {
    await saveSettings();
    await learnerPlays(world);
    // A: its conditional heartbeat went through; it has read that nothing is queued yet, and stalls there.
    const stalled = holdNextFind(XapiOutbox, isQueuedLookUp, 'after');
    const first = runXapiDeliveries();
    try {
      await stalled.arrived;
      // B: A looks dead; B takes the feed over, collects the same statements, sends them and removes them.
      await lapse();
      expect(await runXapiDeliveries()).toBe(1);
      expect(posts()).toHaveLength(1);
      expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null, fence: 2 });
      expect(await XapiOutbox.countDocuments()).toBe(0);
    } finally {
      stalled.release();
    }
    // A wakes up and writes what it had collected: its rows carry its token (1), its marks are refused.
    await first;
    const late = await XapiOutbox.find({}).lean();
    expect(late).toHaveLength(6);
    expect(late.every((row) => row.fence === 1)).toBe(true);
    const marks = await XapiMark.find({}).lean();
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({ fence: 2, decisions: 4, finished: true });

    // Later passes: the rows are copies of what B queued (the attempt's mark has B's larger token) and are removed unsent.
    await makeDue();
    expect(await runXapiDeliveries()).toBe(1);
    await makeDue();
    await runXapiDeliveries();
    await expectEachSentOnce();
  });

  test('when a stalled collector’s statements and marks land after the new holder adopted the outbox but before it read the marks, then they are not lost: a later pass sends each once', async () => {
    await saveSettings();
    await learnerPlays(world);
    const stalled = holdNextFind(XapiOutbox, isQueuedLookUp, 'after');
    const first = runXapiDeliveries();
    let second: Promise<number> | undefined;
    try {
      await stalled.arrived;
      await lapse();
      // B claims the feed and adopts the outbox (empty), then pauses before it reads the marks.
      const paused = holdNextFind(XapiMark, () => true, 'before');
      second = runXapiDeliveries();
      try {
        await paused.arrived;
        // A writes its rows (token 1) and its marks (no larger token there yet), then finds the feed gone.
        stalled.release();
        await first;
        expect(await XapiOutbox.countDocuments({ fence: 1 })).toBe(6);
        expect(await XapiMark.findOne({}).lean()).toMatchObject({ fence: 1, decisions: 4, finished: true });
      } finally {
        paused.release();
      }
      // B reads A's marks (nothing new to collect) and sends only rows with its own token: none yet.
      expect(await second).toBe(1);
    } finally {
      stalled.release();
    }
    expect(posts()).toHaveLength(0);

    // The next pass finds A's rows with a smaller token and a mark nobody newer wrote: adopted and sent once.
    await makeDue();
    await runXapiDeliveries();
    await makeDue();
    await runXapiDeliveries();
    await expectEachSentOnce();
  });

  test('when the process dies between counting a sent batch and removing its rows, then the next pass removes them without sending or counting them again', async () => {
    await saveSettings();
    await learnerPlays(world);
    // The removal of the accepted rows never happens: what a process dying right before it leaves behind.
    const spy = jest.spyOn(XapiOutbox, 'deleteMany').mockImplementationOnce((() => Promise.reject(new Error('connection lost'))) as never);
    try {
      await runXapiDeliveries();
    } finally {
      spy.mockRestore();
    }
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(6);
    const counted = await feed();
    expect(counted.sentCount).toBe(6);
    expect(counted.countedIds).toHaveLength(6);

    await makeDue();
    await runXapiDeliveries();
    expect(posts()).toHaveLength(1);
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    const after = await feed();
    expect(after).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
    expect(after.countedIds ?? []).toHaveLength(0);
  });
});
