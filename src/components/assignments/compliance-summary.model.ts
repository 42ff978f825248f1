import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * Per (school, assignment) tallies (compliance-tally.ts) that give exact status counts at read time:
 * `primary` counts people whose first school this is (district totals add only these, so a person at
 * two schools is counted once), `secondary` the rest of the school's people. school = null holds
 * people with no school. Recomputed from the school's rows whenever one of them changes.
 */
const complianceSummarySchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    assignment: { type: Schema.Types.ObjectId, ref: 'Assignment', required: true },
    moduleSlug: { type: String, required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School', default: null },
    primary: { type: Schema.Types.Mixed, required: true },
    secondary: { type: Schema.Types.Mixed, required: true },
    computedAt: { type: Date, required: true },
    // A fresh id on every write: event refreshes store a recomputed summary only if `rev` is still the
    // one they read (compare-and-set, see compliance.sync.ts), so a slow writer cannot overwrite a newer one.
    rev: { type: Schema.Types.ObjectId, default: null },
  },
  { versionKey: false, minimize: false },
);

// Serves: the district page (every summary of a district, optionally one module) and the upsert key.
complianceSummarySchema.index({ district: 1, assignment: 1, school: 1 }, { unique: true });
// Serves: the school page totals (summaries of one school).
complianceSummarySchema.index({ school: 1 });

export type ComplianceSummaryRecord = InferSchemaType<typeof complianceSummarySchema> & { _id: Types.ObjectId };
export const ComplianceSummary = model('ComplianceSummary', complianceSummarySchema);
