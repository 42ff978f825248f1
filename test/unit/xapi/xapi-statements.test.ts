import { createModuleCatalog, loadModules } from '../../../src/components/content';
import { decryptSecret, encryptSecret, statementSchema, uuidV5 } from '../../../src/components/xapi';
import { retryBackoffMs as backoffMs } from '../../../src/shared/outbound-http';
import { answeredStatement, baseOfStatement, isoDuration, rebaseStatement, resultStatements, type AttemptForStatements } from '../../../src/components/xapi/xapi-statements';
import { FIXTURE_MODULES } from '../../integration/training/player.helpers';

const ctx = { baseUrl: 'https://training.example.org', districtSlug: 'unified' };
const at = new Date('2026-11-27T10:00:00.000Z');
const attempt: AttemptForStatements = {
  id: '64b000000000000000000001',
  actorName: '64b0000000000000000000aa',
  moduleVersion: 1,
  status: 'failed',
  score: 50,
  points: 2,
  maxPoints: 4,
  startedAt: at,
  finishedAt: new Date(at.getTime() + 95_500),
  decisions: [
    { scenarioId: 'front-desk', nodeId: 'first', choiceId: 'call-student', outcome: 'wrong', points: 0, at },
    { scenarioId: 'front-desk', nodeId: 'second', choiceId: 'decline', outcome: 'best', points: 2, at },
  ],
};

async function fixtureModule() {
  const { modules } = await loadModules(FIXTURE_MODULES);
  return createModuleCatalog(modules).get('fixture-basics', 1)!;
}

describe('statement ids', () => {
  test('when a name is given, then the id is its RFC 4122 version-5 UUID (the same every time)', () => {
    expect(uuidV5('attempt/x')).toBe('31971fb2-2184-5fea-8308-df659fb70010');
    expect(uuidV5('hello', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('9342d47a-1bab-5709-9869-c840b2eac501');
  });
});

describe('statements', () => {
  test('when a decision is built twice, then the statement is identical (a resend is idempotent) and placeholders carry no district contact', async () => {
    const module = await fixtureModule();
    const one = answeredStatement(ctx, module, attempt, 0);
    expect(one).toEqual(answeredStatement(ctx, module, attempt, 0));
    expect(one?.result).toMatchObject({ response: 'call-student', success: false });
    expect(JSON.stringify(one)).not.toContain('{{');
    expect(JSON.stringify(one)).toContain('your principal or site administrator');
    expect(one?.object.id).toBe('https://training.example.org/districts/unified/modules/fixture-basics/v1/scenarios/front-desk/nodes/first');
  });

  test('when the decision names a node the version does not have, then no statement is built', async () => {
    expect(answeredStatement(ctx, await fixtureModule(), { ...attempt, decisions: [{ ...attempt.decisions[0], nodeId: 'gone' }] }, 0)).toBeNull();
  });

  test('when an attempt failed, then completed and failed carry the score, duration and the same registration; in progress gives none', async () => {
    const module = await fixtureModule();
    const [completed, failed] = resultStatements(ctx, module, attempt);
    expect(completed.verb.id).toBe('http://adlnet.gov/expapi/verbs/completed');
    expect(failed.verb.id).toBe('http://adlnet.gov/expapi/verbs/failed');
    expect(failed.result).toMatchObject({ success: false, completion: true, duration: 'PT95.5S', score: { scaled: 0.5, raw: 2, min: 0, max: 4 } });
    expect(completed.context.registration).toBe(failed.context.registration);
    expect(resultStatements(ctx, module, { ...attempt, status: 'in_progress', finishedAt: null })).toEqual([]);
  });

  test('when a statement identifies a person by email or carries unknown fields, then the schema refuses it', async () => {
    const one = answeredStatement(ctx, await fixtureModule(), attempt, 0)!;
    expect(statementSchema.safeParse({ ...one, actor: { objectType: 'Agent', mbox: 'mailto:a@b.org' } }).success).toBe(false);
    expect(statementSchema.safeParse({ ...one, result: { ...one.result, response: 'free text with spaces' } }).success).toBe(false);
    expect(statementSchema.safeParse({ ...one, note: 'x' }).success).toBe(false);
  });

  test('durations are ISO 8601 seconds', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(61_234)).toBe('PT61.23S');
  });
});

describe('backoff', () => {
  test('when sends keep failing, then the wait doubles from 30 s to at most an hour; a Retry-After wins', () => {
    expect([0, 1, 2, 3].map((n) => backoffMs(n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(backoffMs(20)).toBe(3_600_000);
    expect(backoffMs(5, 7_000)).toBe(7_000);
    expect(backoffMs(0, 10 * 3_600_000)).toBe(3_600_000);
  });
});

describe('secret at rest', () => {
  test('when encrypted, then it opens only with the same key and district, and each encryption differs', () => {
    const key = Buffer.alloc(32, 1);
    const a = encryptSecret(key, 'district-a', 's3cret');
    expect(a).not.toContain('s3cret');
    expect(encryptSecret(key, 'district-a', 's3cret')).not.toBe(a);
    expect(decryptSecret(key, 'district-a', a)).toBe('s3cret');
    expect(decryptSecret(Buffer.alloc(32, 2), 'district-a', a)).toBeNull();
    expect(decryptSecret(key, 'district-b', a)).toBeNull();
    expect(decryptSecret(key, 'district-a', a.slice(0, -2) + 'AA')).toBeNull();
    expect(decryptSecret(key, 'district-a', 'garbage')).toBeNull();
  });
});

describe('a queued statement under a changed IRI base', () => {
  test('when rebased, then every IRI under the old base (values and extension keys) moves, the id and everything else stay', async () => {
    const module = await fixtureModule();
    const [, passedOrFailed] = resultStatements(ctx, module, attempt);
    const answered = answeredStatement(ctx, module, attempt, 1)!;
    const to = 'https://lrs-ids.district.example/xapi';
    for (const statement of [answered, passedOrFailed]) {
      const moved = rebaseStatement(statement, ctx.baseUrl, to)!;
      expect(moved.id).toBe(statement.id);
      expect(JSON.stringify(moved)).not.toContain(`${ctx.baseUrl}/`);
      expect(moved).toEqual(JSON.parse(JSON.stringify(statement).split(`${ctx.baseUrl}/`).join(`${to}/`)));
      expect(statementSchema.safeParse(moved).success).toBe(true);
      expect(baseOfStatement(moved, ctx.districtSlug)).toBe(to);
    }
    expect(Object.keys(rebaseStatement(passedOrFailed, ctx.baseUrl, to)!.result!.extensions!)).toContain(`${to}/xapi/extensions/score-percent`);
  });

  test('when an IRI only starts with the same letters as the base, or the base is unchanged, then it is left alone; a result that is not a statement gives null', async () => {
    const module = await fixtureModule();
    const statement = answeredStatement(ctx, module, attempt, 0)!;
    const lookalike = { ...statement, verb: { ...statement.verb, id: `${ctx.baseUrl}x/verbs/answered` } };
    expect(rebaseStatement(lookalike, ctx.baseUrl, 'https://b.example')!.verb.id).toBe(`${ctx.baseUrl}x/verbs/answered`);
    expect(rebaseStatement(statement, ctx.baseUrl, ctx.baseUrl)).toBe(statement);
    expect(rebaseStatement(statement, ctx.baseUrl, 'not an address')).toBeNull();
    expect(baseOfStatement(statement, 'another-district')).toBeNull();
  });
});
