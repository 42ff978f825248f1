import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { leaseFields, type LeaseFields } from '../../shared/lease-fields';

export const AGS_LINK_STATES = ['idle', 'running', 'stopped', 'failed'] as const;

/**
 * Where one person's result for one module goes in an LMS gradebook (docs/lti.md "Grade passback"):
 * recorded at a launch whose id_token carried the AGS claim with a line item and the score scope. Only the
 * line item URL and the LTI `sub` come from the token. The record is also the delivery job's lease
 * (src/shared/lease-jobs.ts): `idle` + `due` + `requestedAt` reached is claimable; `stopped` waits for the
 * district admin (the LMS refused us); `failed` is a process that died on it repeatedly.
 */
const ltiAgsLinkSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    moduleSlug: { type: String, required: true, maxlength: 80 },
    platform: { type: Schema.Types.ObjectId, ref: 'LtiPlatform', required: true },
    deploymentId: { type: String, required: true, maxlength: 200 },
    lineitem: { type: String, required: true, maxlength: 2000 },
    // The person's id at the LMS (the score's userId).
    sub: { type: String, required: true, maxlength: 255 },
    createdAt: { type: Date, required: true },
    // Something may be to send: set by the launch that created it and by the collector when an attempt of this
    // person and module finished; cleared when a pass is claimed (so a finish during the pass is not lost).
    due: { type: Boolean, required: true, default: true },
    // The lease; requestedAt is when the next pass may start (a backoff pushes it later).
    state: { type: String, enum: AGS_LINK_STATES, required: true, default: 'idle' },
    requestedAt: { type: Date, required: true, default: () => new Date() },
    ...leaseFields,
    error: { type: String, default: null },
    retries: { type: Number, default: 0 },
    // The best score the LMS accepted, from which attempt, when; the newest finish the last pass looked at.
    sentScore: { type: Number, default: null },
    sentAttempt: { type: Schema.Types.ObjectId, default: null },
    sentAt: { type: Date, default: null },
    sentCount: { type: Number, default: 0 },
    seenFinishedAt: { type: Date, default: null },
    lastError: { at: Date, status: Number, message: String },
  },
  { versionKey: false },
);

// Serves: the launch's upsert (one link per district, person, module, registration, deployment and line item).
ltiAgsLinkSchema.index({ district: 1, user: 1, moduleSlug: 1, platform: 1, deploymentId: 1, lineitem: 1 }, { unique: true });
// Serves: the runner's claim (idle and due, oldest first; or running with a lapsed heartbeat).
ltiAgsLinkSchema.index({ state: 1, requestedAt: 1 });
// Serves: the admin page's counts per registration, and restarting a registration's stopped links.
ltiAgsLinkSchema.index({ platform: 1, state: 1 });

export type LtiAgsLinkRecord = InferSchemaType<typeof ltiAgsLinkSchema> & { _id: Types.ObjectId } & LeaseFields;
export const LtiAgsLink = model('LtiAgsLink', ltiAgsLinkSchema);

/**
 * Per district with grade passback links: how far the collector has read the district's attempts (by
 * updatedAt). Created with the district's first link; the collector moves the cursor forward only ($max).
 */
const ltiAgsScanSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    cursor: { type: Date, required: true },
  },
  { versionKey: false },
);
// Serves: one scan record per district.
ltiAgsScanSchema.index({ district: 1 }, { unique: true });

export const LtiAgsScan = model('LtiAgsScan', ltiAgsScanSchema);
