import { Schema, model, type Types } from 'mongoose';

/**
 * What the finished attempts of one school (`school` null: attempts recorded without one) chose at each
 * decision point of one module version: `counts[scenarioId][nodeId][choiceId]` = times chosen, `attempts` =
 * finished attempts (passed or failed). Incremented in the transaction that finishes an attempt
 * (components/completions/decision-tallies.ts), so the decision insights page reads at most one small
 * document per school instead of every attempt. One document per school and module version: a district's
 * finishing attempts spread their writes over its schools instead of all writing one district document.
 *
 * `seq` only ever grows (+1 per finished attempt, never reset by a rebuild): the rebuild reads it before
 * scanning the attempts and writes its figures only where it did not move (decision-tallies.ts).
 */
const decisionTallySchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School', default: null },
    moduleSlug: { type: String, required: true },
    moduleVersion: { type: Number, required: true },
    attempts: { type: Number, required: true, default: 0 },
    counts: { type: Schema.Types.Mixed, default: {} },
    seq: { type: Number, required: true, default: 0 },
  },
  { timestamps: true, minimize: false },
);

// Serves: the district's documents of one module version (the district page: at most one per school, summed
// in the app), one school's document (the school page and the increment: all four fields), and guarantees one
// document per school and module version.
decisionTallySchema.index({ district: 1, moduleSlug: 1, moduleVersion: 1, school: 1 }, { unique: true });

export type DecisionTallyRecord = {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  school: Types.ObjectId | null;
  moduleSlug: string;
  moduleVersion: number;
  attempts: number;
  counts: Record<string, Record<string, Record<string, number>>>;
  seq: number;
};
export const DecisionTally = model('DecisionTally', decisionTallySchema);

/**
 * Marks that a district's tallies of one module version were built from its attempts (the rebuild finished at
 * `builtAt`): from then on every finishing attempt keeps them current. A district and version without one has
 * attempts written before the tallies existed (or by a seed or import): the rebuild runs first.
 */
const decisionTallyBuildSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    moduleSlug: { type: String, required: true },
    moduleVersion: { type: Number, required: true },
    builtAt: { type: Date, required: true },
  },
  { timestamps: false },
);

// Serves: "are this district's tallies of this version built?" (every page view) and one marker per version.
decisionTallyBuildSchema.index({ district: 1, moduleSlug: 1, moduleVersion: 1 }, { unique: true });

export const DecisionTallyBuild = model('DecisionTallyBuild', decisionTallyBuildSchema);
