import { z } from 'zod';

/**
 * The schema of a module file (docs/content-format.md). Objects are strict: an unknown key is almost
 * always a typo (`nxt:`, `feedbak:`) that would otherwise silently drop content.
 */

export const LANGS = ['en', 'es'] as const;
export type Lang = (typeof LANGS)[number];

export const ROLES = ['staff', 'principal', 'region_admin', 'district_admin'] as const;
export const OUTCOMES = ['best', 'acceptable', 'wrong'] as const;

/** Points per decision; a decision is worth 2 (docs/content-format.md, "Scoring"). */
export const OUTCOME_POINTS: Readonly<Record<(typeof OUTCOMES)[number], number>> = Object.freeze({
  best: 2,
  acceptable: 1,
  wrong: 0,
});
export const POINTS_PER_DECISION = 2;

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const LOWER_SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

const nonEmpty = (what: string) =>
  z.string({ error: `${what} must be a text` }).refine((value) => value.trim().length > 0, `${what} must not be empty`);

export const bilingualTextSchema = z.strictObject(
  {
    en: nonEmpty('the English text'),
    es: nonEmpty('the Spanish text'),
  },
  { error: 'must be a bilingual text { en: "...", es: "..." }' },
);

const kebabId = z.string().regex(KEBAB, 'must be lowercase-kebab (a-z, 0-9, single hyphens)');

const isoDate = z
  .string({ error: 'must be a date YYYY-MM-DD' })
  .regex(ISO_DATE, 'must be a date YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'is not a real calendar date');

const factId = z.string().regex(/^F\d+$/, 'must be a fact id like F13');

export const choiceSchema = z.strictObject({
  id: kebabId,
  label: bilingualTextSchema,
  outcome: z.enum(OUTCOMES, { error: 'must be best, acceptable or wrong' }),
  feedback: bilingualTextSchema,
  facts: z.array(factId).min(1, 'must cite at least one fact'),
  next: kebabId,
});

export const narrativeNodeSchema = z.strictObject({
  type: z.literal('narrative'),
  text: bilingualTextSchema,
  next: kebabId,
});

export const decisionNodeSchema = z.strictObject({
  type: z.literal('decision'),
  /** Optional context shown above the prompt. */
  text: bilingualTextSchema.optional(),
  prompt: bilingualTextSchema,
  choices: z.array(choiceSchema).min(2, 'must offer 2–5 choices').max(5, 'must offer 2–5 choices'),
});

export const endNodeSchema = z.strictObject({
  type: z.literal('end'),
  text: bilingualTextSchema,
});

export const scenarioNodeSchema = z.discriminatedUnion('type', [narrativeNodeSchema, decisionNodeSchema, endNodeSchema], {
  error: 'must be a node with type narrative, decision or end',
});

export const scenarioSchema = z.strictObject({
  id: kebabId,
  title: bilingualTextSchema,
  setting: bilingualTextSchema,
  start: kebabId,
  nodes: z
    .record(kebabId, scenarioNodeSchema)
    .refine((nodes) => Object.keys(nodes).length > 0, 'must hold at least one node'),
});

export const sourceSchema = z.strictObject({
  id: factId,
  title: nonEmpty('the title'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
});

export const changelogEntrySchema = z.strictObject({
  version: z.int().min(1),
  date: isoDate,
  note: bilingualTextSchema,
});

/**
 * What someone holding an earlier version must play to be current with this one (the update path):
 * only the listed scenarios of this version, with a learner-facing note on what changed. Declared by the
 * author (reviewed by counsel): a version without an entry for someone's version means the whole module.
 */
export const updatePathSchema = z.strictObject({
  from: z.int({ error: 'must be an earlier version number' }).min(1, 'must be an earlier version number'),
  scenarios: z.array(kebabId).min(1, 'must list at least one scenario id of this version'),
  note: bilingualTextSchema,
  /** Optional; by default the module's time × the share of its scenarios that are played. */
  estimatedMinutes: z.int({ error: 'must be a whole number of minutes' }).min(1, 'must be 1–20').max(20, 'must be 1–20').optional(),
});

export const trainingModuleSchema = z.strictObject({
  slug: kebabId,
  version: z.int({ error: 'must be an integer ≥ 1' }).min(1, 'must be an integer ≥ 1'),
  currentAsOf: isoDate,
  jurisdiction: nonEmpty('the jurisdiction'),
  estimatedMinutes: z.int({ error: 'must be a whole number of minutes' }).min(10, 'must be 10–20').max(20, 'must be 10–20'),
  passMark: z.int({ error: 'must be an integer 1–100' }).min(1, 'must be 1–100').max(100, 'must be 1–100'),
  audience: z.strictObject({
    roles: z
      .array(z.enum(ROLES, { error: 'must be staff, principal, region_admin or district_admin' }))
      .min(1, 'must name at least one role')
      .refine((roles) => new Set(roles).size === roles.length, 'must not repeat a role'),
    jobTitles: z.array(z.string().regex(LOWER_SNAKE, 'must be lower_snake')).optional(),
  }),
  title: bilingualTextSchema,
  summary: bilingualTextSchema,
  changelog: z.array(changelogEntrySchema).optional(),
  updates: z.array(updatePathSchema).optional(),
  sources: z.array(sourceSchema).min(1, 'must list the facts the module cites'),
  introduction: bilingualTextSchema,
  scenarios: z.array(scenarioSchema).min(1, 'must hold at least one scenario'),
  takeaways: z.array(bilingualTextSchema).min(1, 'must hold at least one takeaway'),
});

export type BilingualText = z.infer<typeof bilingualTextSchema>;
export type Role = (typeof ROLES)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type Choice = z.infer<typeof choiceSchema>;
export type NarrativeNode = z.infer<typeof narrativeNodeSchema>;
export type DecisionNode = z.infer<typeof decisionNodeSchema>;
export type EndNode = z.infer<typeof endNodeSchema>;
export type ScenarioNode = z.infer<typeof scenarioNodeSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
export type Source = z.infer<typeof sourceSchema>;
export type ChangelogEntry = z.infer<typeof changelogEntrySchema>;
export type UpdatePath = z.infer<typeof updatePathSchema>;
export type TrainingModuleContent = z.infer<typeof trainingModuleSchema>;
