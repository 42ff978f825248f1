import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

export const ATTEMPT_STATUSES = ['in_progress', 'passed', 'failed'] as const;
export const OUTCOMES = ['best', 'acceptable', 'wrong'] as const;
/** What the player shows at the position: a node, the feedback on the decision just made, or the results. */
export const PLAY_PHASES = ['node', 'feedback', 'results'] as const;

// Every decision is kept (which choice, not only the score): per-decision analytics and proof of training.
const decisionSchema = new Schema(
  {
    scenarioId: { type: String, required: true },
    nodeId: { type: String, required: true },
    choiceId: { type: String, required: true },
    outcome: { type: String, enum: OUTCOMES, required: true },
    points: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { _id: false },
);

const attemptSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School' },
    moduleSlug: { type: String, required: true },
    moduleVersion: { type: Number, required: true },
    // An update attempt (docs/compliance.md): plays only the scenarios the version's update path from this
    // earlier version lists; absent for an attempt at the whole module.
    updateFrom: { type: Number },
    status: { type: String, enum: ATTEMPT_STATUSES, required: true, default: 'in_progress' },
    // Where the learner is: scenario index + node id; `step` increases with every accepted decision, so a
    // stale or replayed form (older step) is answered with the current node instead of changing anything.
    position: {
      scenarioIndex: { type: Number, required: true, default: 0 },
      nodeId: { type: String, required: true },
      step: { type: Number, required: true, default: 0 },
      phase: { type: String, enum: PLAY_PHASES, required: true, default: 'node' },
      // In the feedback phase: the choice made at nodeId, whose feedback is shown.
      choiceId: { type: String },
    },
    decisions: { type: [decisionSchema], default: [] },
    points: { type: Number, default: 0 },
    maxPoints: { type: Number, default: 0 },
    score: { type: Number },
    startedAt: { type: Date, required: true, default: () => new Date() },
    finishedAt: { type: Date },
  },
  { timestamps: true },
);

// Serves: resume — the one in-progress attempt of a user for a module — and guarantees there is only one.
attemptSchema.index({ user: 1, moduleSlug: 1 }, { unique: true, partialFilterExpression: { status: 'in_progress' } });
// Serves: a learner's history and "in progress" status per module.
attemptSchema.index({ user: 1, moduleSlug: 1, startedAt: -1 });
// Serves: per-school in-progress counts in compliance views, and a school's decision insights.
attemptSchema.index({ school: 1, moduleSlug: 1, status: 1 });
// Serves: district-wide decision insights (finished attempts of one module version).
attemptSchema.index({ district: 1, moduleSlug: 1, moduleVersion: 1, status: 1 });

// Serves: the xAPI collector — a district's attempts changed since its cursor (components/xapi/xapi-collect.ts).
attemptSchema.index({ district: 1, updatedAt: 1 });

export type AttemptRecord = InferSchemaType<typeof attemptSchema> & { _id: Types.ObjectId };
export const Attempt = model('Attempt', attemptSchema);
