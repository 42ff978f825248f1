import { Schema, model, type Types } from 'mongoose';
import { leaseFields, type LeaseFields } from '../../shared/lease-fields';

export const COMPLIANCE_JOB_KINDS = ['assignment', 'rebuild'] as const;
export const COMPLIANCE_JOB_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type ComplianceJobKind = (typeof COMPLIANCE_JOB_KINDS)[number];
export type ComplianceJobState = (typeof COMPLIANCE_JOB_STATES)[number];

/**
 * Background compliance work (compliance-jobs.ts): bring one assignment's rows and summaries up to date
 * after it was created, edited or archived, or rebuild the whole district. Written by the request that
 * asks for the work, claimed and run by a runner in any app process; the record is the queue, the lock
 * (owner + heartbeat lease) and what the admin sees (state, progress, error).
 */
const complianceJobSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    kind: { type: String, enum: COMPLIANCE_JOB_KINDS, required: true },
    // 'assignment' jobs only; null for a district rebuild (so the coalescing key below has one value for it).
    assignment: { type: Schema.Types.ObjectId, ref: 'Assignment', default: null },
    // The assignment's module (it never changes): the reports' "being updated" notice names it without a join.
    moduleSlug: { type: String, default: null },
    state: { type: String, enum: COMPLIANCE_JOB_STATES, required: true, default: 'queued' },
    requestedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    requestedAt: { type: Date, required: true },
    ...leaseFields,
    // People processed / people in the district (0 / 0 when no one needs walking, e.g. an archive).
    progress: {
      done: { type: Number, required: true, default: 0 },
      total: { type: Number, required: true, default: 0 },
    },
    // The error's message only (no stack): it is shown to the district admin.
    error: { type: String, default: null, maxlength: 500 },
  },
  { versionKey: false },
);

// Serves: coalescing — "the queued job for this assignment (or this district's rebuild)" on every enqueue —
// and guarantees there is at most one, whatever the number of app processes enqueueing at once.
complianceJobSchema.index({ district: 1, kind: 1, assignment: 1 }, { unique: true, partialFilterExpression: { state: 'queued' } });
// Serves: "districts with a running job" before a claim, and makes a second running job in one district
// impossible (the claim that would start it fails with a duplicate key): jobs of one district never
// write the same rows at once.
complianceJobSchema.index({ district: 1 }, { unique: true, partialFilterExpression: { state: 'running' } });
// Serves: the claim — the oldest queued job, or a running one whose heartbeat is older than the lease.
complianceJobSchema.index({ state: 1, requestedAt: 1 });
// Serves: the latest jobs of the listed assignments (and, with assignment null, of the district rebuild) on the
// assignment pages, the reports' "queued or running in this district" notice, and pruning a target's older jobs.
complianceJobSchema.index({ district: 1, assignment: 1, requestedAt: -1 });

/** The stored shape (written out: mongoose's inferred nested paths would all be optional). */
export type ComplianceJobRecord = LeaseFields & {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  kind: ComplianceJobKind;
  assignment: Types.ObjectId | null;
  moduleSlug: string | null;
  state: ComplianceJobState;
  requestedBy: Types.ObjectId | null;
  requestedAt: Date;
  progress: { done: number; total: number };
  error: string | null;
};

export const ComplianceJob = model('ComplianceJob', complianceJobSchema, 'compliancejobs');
