import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

export const COMPLETION_METHODS = ['played', 'facilitated', 'update'] as const;
export type CompletionMethod = (typeof COMPLETION_METHODS)[number];

/**
 * Proof of training: written at once when an attempt passes, exactly one per user per module version
 * (a later pass of the same version renews completedAt/score on the same record; attempts keep history).
 * A facilitated completion (method 'facilitated', written when a facilitated group session is finished)
 * has no attempt and no score — nobody answered individually — and names its session and facilitator.
 * A record without `method` was played (written before the field existed).
 * An update completion (method 'update') was played too, but only the scenarios the version's update path
 * lists for someone holding `updatedFrom`: it satisfies assignments requiring this version, and its
 * recertification clock is the base completion's (`recertifiedAt`, docs/compliance.md), not completedAt.
 */
function isFacilitated(this: { method?: string | null }): boolean {
  return this.method === 'facilitated';
}
function isUpdate(this: { method?: string | null }): boolean {
  return this.method === 'update';
}
function isPlayed(this: { method?: string | null }): boolean {
  return this.method !== 'facilitated';
}

const completionSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School' },
    moduleSlug: { type: String, required: true },
    moduleVersion: { type: Number, required: true },
    method: { type: String, enum: COMPLETION_METHODS },
    attempt: { type: Schema.Types.ObjectId, ref: 'Attempt', required: isPlayed },
    score: { type: Number, required: isPlayed },
    session: { type: Schema.Types.ObjectId, ref: 'FacilitatedSession', required: isFacilitated },
    facilitator: { type: Schema.Types.ObjectId, ref: 'User', required: isFacilitated },
    completedAt: { type: Date, required: true },
    // Update completions only: the version the learner held, and when that base was last fully completed
    // (the base's own recertifiedAt when it was an update too), which recertification counts from.
    updatedFrom: { type: Number, required: isUpdate },
    recertifiedAt: { type: Date, required: isUpdate },
    // Unguessable (128 random bits, base32): the public verify link and the PDF's QR code carry it.
    certificateCode: { type: String, required: true },
    revokedAt: { type: Date },
  },
  { timestamps: true },
);

// Serves: the exactly-once rule, and the learner's completions per module.
completionSchema.index({ user: 1, moduleSlug: 1, moduleVersion: 1 }, { unique: true });
// Serves: /verify/:code.
completionSchema.index({ certificateCode: 1 }, { unique: true });
// Serves: per-school compliance counts and school exports (completions of a school's staff by module).
completionSchema.index({ school: 1, moduleSlug: 1, completedAt: -1 });
// Serves: district-wide export streaming in user order.
completionSchema.index({ district: 1, moduleSlug: 1, user: 1 });
// Serves: the completions a facilitated session recorded (its results page); only those carry `session`.
completionSchema.index({ session: 1 }, { partialFilterExpression: { session: { $exists: true } } });

export type CompletionRecord = InferSchemaType<typeof completionSchema> & { _id: Types.ObjectId };
export const Completion = model('Completion', completionSchema);
