import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * One row per (active person, active assignment that applies to them): the dated facts of
 * compliance-status.ts plus a snapshot of the person, so pages and exports read one collection with no
 * query per person. Status is never stored — it is derived at read time from the dates (statusAt), so
 * rows stay correct as deadlines pass. Rows are rewritten by compliance.sync.ts whenever a completion,
 * attempt, person or assignment changes, and can be rebuilt from the source records at any time.
 */
const completionSnapshotSchema = new Schema(
  {
    moduleVersion: { type: Number, required: true },
    completedAt: { type: Date, required: true },
    // Absent for a facilitated completion (method 'facilitated'): a group session has no individual score.
    score: { type: Number },
    method: { type: String },
    // Method 'update': the version updated from (the exports and pages say "2 (update from 1)").
    updatedFrom: { type: Number },
    certificateCode: { type: String },
  },
  { _id: false },
);

const complianceRowSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    assignment: { type: Schema.Types.ObjectId, ref: 'Assignment', required: true },
    moduleSlug: { type: String, required: true },
    minVersion: { type: Number, required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    // The person's schools where the assignment applies (all of them, or those its audience names): the row is
    // listed and counted at these only.
    schools: { type: [{ type: Schema.Types.ObjectId, ref: 'School' }], default: [] },
    // The first of `schools`: district totals count each person × assignment once, under this school (null = none).
    primarySchool: { type: Schema.Types.ObjectId, ref: 'School', default: null },
    name: { type: String, required: true },
    email: { type: String, required: true },
    employeeId: { type: String },
    role: { type: String, required: true },
    jobTitle: { type: String },
    dueDate: { type: String, required: true },
    dueAt: { type: Date, required: true },
    hasSatisfying: { type: Boolean, required: true },
    satisfiedUntil: { type: Date, default: null },
    isOutdated: { type: Boolean, required: true },
    isInProgress: { type: Boolean, required: true },
    completion: { type: completionSnapshotSchema, default: null },
    // When a sync last changed the row (diagnostics: unchanged rows are not rewritten).
    syncedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

// Serves: upsert by (person, assignment) and "all rows of a person" (sync after a completion; /training).
complianceRowSchema.index({ user: 1, assignment: 1 }, { unique: true });
// Serves: the school page and school exports (rows of a school's staff, in name order), and recomputing
// one (school, assignment) summary after an event (a school's rows, filtered by assignment).
complianceRowSchema.index({ schools: 1, name: 1 });
// Serves: recomputing all summaries of an assignment (grouped by school), and the no-school summary.
complianceRowSchema.index({ assignment: 1, primarySchool: 1 });
// Serves: district-wide exports streamed in name order, with the module filter on the same index.
complianceRowSchema.index({ district: 1, name: 1, user: 1 });

export type ComplianceRowRecord = InferSchemaType<typeof complianceRowSchema> & { _id: Types.ObjectId };
export const ComplianceRow = model('ComplianceRow', complianceRowSchema);
