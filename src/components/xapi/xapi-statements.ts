import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_CONTENT_SETTINGS_BY_LANG, fillPlaceholders, findNode, findScenario, type BilingualText, type LoadedModuleVersion } from '../content';

/**
 * xAPI 1.0.3 statements built from the records already written (docs/xapi.md): one "answered" per decision
 * and "completed" + "passed"/"failed" per finished attempt. Pure and deterministic — the same attempt
 * always gives the same statements with the same ids — so a resend is idempotent at the LRS.
 * Nothing free-text and nothing about students or families: ids, the module's own text, outcomes, scores.
 */

export const XAPI_VERSION = '1.0.3';
// Fixed for this application: statement ids and registrations are v5 UUIDs under it.
const NAMESPACE = '5b1e2c2a-7f0e-4a55-9c53-2f2d3c1a8e61';

const VERBS = {
  answered: { id: 'http://adlnet.gov/expapi/verbs/answered', display: { en: 'answered', es: 'respondió' } },
  completed: { id: 'http://adlnet.gov/expapi/verbs/completed', display: { en: 'completed', es: 'completó' } },
  passed: { id: 'http://adlnet.gov/expapi/verbs/passed', display: { en: 'passed', es: 'aprobó' } },
  failed: { id: 'http://adlnet.gov/expapi/verbs/failed', display: { en: 'failed', es: 'no aprobó' } },
  experienced: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { en: 'experienced', es: 'experimentó' } },
} as const;

const ACTIVITY_TYPES = {
  module: 'http://adlnet.gov/expapi/activities/course',
  scenario: 'http://adlnet.gov/expapi/activities/simulation',
  interaction: 'http://adlnet.gov/expapi/activities/cmi.interaction',
};

/** A name-based (v5) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const languageMap = z.record(z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/), z.string().min(1).max(2000));
const iri = z.url({ protocol: /^https?$/ });
const activity = z.strictObject({
  objectType: z.literal('Activity'),
  id: iri,
  definition: z
    .strictObject({
      type: iri,
      name: languageMap,
      description: languageMap.optional(),
      interactionType: z.literal('choice').optional(),
      correctResponsesPattern: z.array(z.string()).optional(),
      choices: z.array(z.strictObject({ id: z.string().regex(/^[a-z0-9-]+$/), description: languageMap })).optional(),
    })
    .optional(),
});

/** What this application sends, checked before each statement is queued (and in the tests). */
export const statementSchema = z.strictObject({
  id: z.uuid(),
  actor: z.strictObject({
    objectType: z.literal('Agent'),
    // Privacy (docs/xapi.md): an opaque account, never an email address or a name.
    account: z.strictObject({ homePage: iri, name: z.string().min(1).max(100) }),
  }),
  verb: z.strictObject({ id: iri, display: languageMap }),
  object: activity,
  result: z
    .strictObject({
      response: z.string().regex(/^[a-z0-9-]+$/).optional(),
      success: z.boolean().optional(),
      completion: z.boolean().optional(),
      duration: z.iso.duration().optional(),
      score: z.strictObject({ scaled: z.number().min(0).max(1), raw: z.number().min(0), min: z.number().min(0), max: z.number().min(0) }).optional(),
      extensions: z.record(iri, z.union([z.string().max(40), z.number()])).optional(),
    })
    .optional(),
  context: z.strictObject({
    registration: z.uuid(),
    platform: z.string().max(100),
    contextActivities: z.strictObject({ parent: z.array(activity).length(1), grouping: z.array(activity).optional() }),
    extensions: z.record(iri, z.union([z.string().max(40), z.number()])).optional(),
  }),
  timestamp: z.iso.datetime(),
});
export type Statement = z.infer<typeof statementSchema>;

/** Where the IRIs start: the district's address under the application's BASE_URL. */
export type StatementContext = Readonly<{ baseUrl: string; districtSlug: string }>;

/** The parts of an attempt the statements are built from (read by the collector; never free text). */
export type AttemptForStatements = Readonly<{
  id: string;
  /** The name in the actor's account: the opaque internal id, or the employee id when the district chose it. */
  actorName: string;
  moduleVersion: number;
  updateFrom?: number | null;
  status: string;
  score?: number | null;
  points?: number | null;
  maxPoints?: number | null;
  startedAt: Date;
  finishedAt?: Date | null;
  decisions: ReadonlyArray<Readonly<{ scenarioId: string; nodeId: string; choiceId: string; outcome: string; points: number; at: Date }>>;
}>;

export const districtHome = (ctx: StatementContext) => `${ctx.baseUrl}/districts/${encodeURIComponent(ctx.districtSlug)}`;
export const moduleIri = (ctx: StatementContext, slug: string, version: number) => `${districtHome(ctx)}/modules/${slug}/v${version}`;
export const decisionIri = (ctx: StatementContext, slug: string, version: number, scenarioId: string, nodeId: string) =>
  `${moduleIri(ctx, slug, version)}/scenarios/${scenarioId}/nodes/${nodeId}`;
const extension = (ctx: StatementContext, name: string) => `${ctx.baseUrl}/xapi/extensions/${name}`;

/** The module's text as learners read it, with the neutral placeholder values (never a district's contacts). */
function text(value: BilingualText): Record<string, string> {
  return { en: fillPlaceholders(value.en, DEFAULT_CONTENT_SETTINGS_BY_LANG.en).slice(0, 2000), es: fillPlaceholders(value.es, DEFAULT_CONTENT_SETTINGS_BY_LANG.es).slice(0, 2000) };
}

function moduleActivity(ctx: StatementContext, module: LoadedModuleVersion) {
  return { objectType: 'Activity' as const, id: moduleIri(ctx, module.slug, module.version), definition: { type: ACTIVITY_TYPES.module, name: text(module.content.title), description: text(module.content.summary) } };
}

/** ISO 8601 duration in seconds (two decimals at most). */
export function isoDuration(ms: number): string {
  return `PT${Math.round(Math.max(0, ms) / 10) / 100}S`;
}

/** The "answered" statement of decision `index` of the attempt; null when the content no longer has the node (never for published versions). */
export function answeredStatement(ctx: StatementContext, module: LoadedModuleVersion, attempt: AttemptForStatements, index: number): Statement | null {
  const decision = attempt.decisions[index];
  const scenario = decision && findScenario(module, decision.scenarioId);
  const node = decision && findNode(module, decision.scenarioId, decision.nodeId);
  if (!decision || !scenario || !node || node.type !== 'decision') return null;
  return statementSchema.parse({
    id: uuidV5(`attempt/${attempt.id}/decision/${index}`),
    actor: actorOf(ctx, attempt),
    verb: VERBS.answered,
    object: {
      objectType: 'Activity',
      id: decisionIri(ctx, module.slug, module.version, scenario.id, decision.nodeId),
      definition: {
        type: ACTIVITY_TYPES.interaction,
        name: text(node.prompt),
        description: text(node.text ?? scenario.title),
        interactionType: 'choice',
        correctResponsesPattern: node.choices.filter((choice) => choice.outcome === 'best').map((choice) => choice.id),
        choices: node.choices.map((choice) => ({ id: choice.id, description: text(choice.label) })),
      },
    },
    result: {
      response: decision.choiceId,
      success: decision.outcome === 'best' || decision.outcome === 'acceptable',
      extensions: { [extension(ctx, 'outcome')]: decision.outcome, [extension(ctx, 'points')]: decision.points },
    },
    context: {
      ...contextOf(ctx, attempt),
      contextActivities: {
        parent: [moduleActivity(ctx, module)],
        grouping: [{ objectType: 'Activity', id: `${moduleIri(ctx, module.slug, module.version)}/scenarios/${scenario.id}`, definition: { type: ACTIVITY_TYPES.scenario, name: text(scenario.title) } }],
      },
    },
    timestamp: decision.at.toISOString(),
  });
}

/** "completed" then "passed" or "failed" for a finished attempt; [] while it is in progress. */
export function resultStatements(ctx: StatementContext, module: LoadedModuleVersion, attempt: AttemptForStatements): Statement[] {
  if ((attempt.status !== 'passed' && attempt.status !== 'failed') || !attempt.finishedAt) return [];
  const isPassed = attempt.status === 'passed';
  const maxPoints = attempt.maxPoints ?? 0;
  const raw = attempt.points ?? 0;
  const result = {
    completion: true,
    success: isPassed,
    duration: isoDuration(attempt.finishedAt.getTime() - attempt.startedAt.getTime()),
    score: { scaled: maxPoints > 0 ? Math.round((raw / maxPoints) * 10_000) / 10_000 : 0, raw, min: 0, max: maxPoints },
    extensions: { [extension(ctx, 'score-percent')]: attempt.score ?? 0, [extension(ctx, 'pass-mark')]: module.content.passMark },
  };
  const common = {
    actor: actorOf(ctx, attempt),
    object: moduleActivity(ctx, module),
    context: { ...contextOf(ctx, attempt), contextActivities: { parent: [moduleActivity(ctx, module)] } },
    timestamp: attempt.finishedAt.toISOString(),
  };
  return [
    statementSchema.parse({ ...common, id: uuidV5(`attempt/${attempt.id}/completed`), verb: VERBS.completed, result }),
    statementSchema.parse({ ...common, id: uuidV5(`attempt/${attempt.id}/${attempt.status}`), verb: isPassed ? VERBS.passed : VERBS.failed, result }),
  ];
}

/** The statement "Send a test statement" posts: the connection-test activity, an actor that is nobody. */
export function testStatement(ctx: StatementContext, now: Date): Statement {
  return statementSchema.parse({
    id: randomUUID(),
    actor: { objectType: 'Agent', account: { homePage: districtHome(ctx), name: 'connection-test' } },
    verb: VERBS.experienced,
    object: { objectType: 'Activity', id: `${districtHome(ctx)}/connection-test`, definition: { type: 'http://adlnet.gov/expapi/activities/assessment', name: { en: 'LRS connection test', es: 'Prueba de conexión con el LRS' } } },
    context: { registration: randomUUID(), platform: PLATFORM, contextActivities: { parent: [{ objectType: 'Activity', id: districtHome(ctx) }] } },
    timestamp: now.toISOString(),
  });
}

const PLATFORM = 'Safe Schools Training';

function actorOf(ctx: StatementContext, attempt: AttemptForStatements) {
  return { objectType: 'Agent', account: { homePage: districtHome(ctx), name: attempt.actorName } };
}

function contextOf(ctx: StatementContext, attempt: AttemptForStatements) {
  return {
    registration: uuidV5(`attempt/${attempt.id}`),
    platform: PLATFORM,
    ...(attempt.updateFrom ? { extensions: { [extension(ctx, 'update-from-version')]: attempt.updateFrom } } : {}),
  };
}

/**
 * The same statement under another IRI base (docs/xapi.md, "Changing the base"): every IRI the statement names —
 * values and extension keys equal to `from` or starting with `from/` — moved to `to`. The id does not depend on the
 * base, so it stays. Null when the result is not a valid statement (it is then sent as it was built).
 */
export function rebaseStatement(statement: Statement, from: string, to: string): Statement | null {
  if (from === to) return statement;
  const move = (value: string) => (value === from || value.startsWith(`${from}/`) ? `${to}${value.slice(from.length)}` : value);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return move(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [move(key), walk(inner)]));
    return value;
  };
  const parsed = statementSchema.safeParse(walk(statement));
  return parsed.success ? parsed.data : null;
}

/** The base a statement was built with, read back from its actor's home page (`<base>/districts/<slug>`); null if it does not end so. */
export function baseOfStatement(statement: Statement, districtSlug: string): string | null {
  const homePage = statement.actor.account.homePage;
  const suffix = `/districts/${encodeURIComponent(districtSlug)}`;
  return homePage.endsWith(suffix) ? homePage.slice(0, -suffix.length) : null;
}
