import { Schema, model, type Types } from 'mongoose';
import { leaseFields, type LeaseFields } from '../../shared/lease-fields';

/**
 * ready → (Apply) applying → applied | failed | stale. "applying" is the queued-or-running import: no owner
 * yet (queued, or handed back at shutdown) or a runner's owner id with a heartbeat (roster-jobs.ts).
 */
export const PREVIEW_STATES = ['ready', 'invalid', 'applying', 'applied', 'stale', 'failed'] as const;
export type PreviewState = (typeof PREVIEW_STATES)[number];
export const ROW_ACTIONS = ['create', 'update', 'reactivate', 'deactivate'] as const;
export type RowAction = (typeof ROW_ACTIONS)[number];

const countsSchema = {
  rows: { type: Number, default: 0 },
  create: { type: Number, default: 0 },
  update: { type: Number, default: 0 },
  unchanged: { type: Number, default: 0 },
  reactivate: { type: Number, default: 0 },
  deactivate: { type: Number, default: 0 },
  errors: { type: Number, default: 0 },
};

/**
 * One uploaded roster file after validation (the dry run): counts, the first problems, and — in
 * RosterPreviewRow — the change each person will get. Applying reads only this, never the file again.
 * The file itself is not kept; the rows go when the preview is applied or purged.
 */
const rosterPreviewSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    fileName: { type: String, maxlength: 200, default: '' },
    completeRoster: { type: Boolean, default: false },
    // The uploaded file's format: our CSV or a OneRoster 1.2 CSV bulk zip (read as our rows: oneroster-file.ts).
    format: { type: String, enum: ['csv', 'oneroster_1_2'], default: 'csv' },
    // A OneRoster file's extra counts (never who was skipped): principals, skipped non-staff, admins, disabled users,
    // people with no current role and roles outside their dates; and the orgs that matched no school (schools, not people).
    oneRoster: {
      type: new Schema(
        {
          principals: Number,
          skippedNonStaff: Number,
          skippedAdmins: Number,
          skippedDisabled: Number,
          skippedNotCurrent: Number,
          rolesNotCurrent: Number,
          unmatchedOrgs: {
            type: [new Schema({ sourcedId: String, name: String, identifier: String, reason: String, people: Number }, { _id: false })],
            default: undefined,
          },
          unmatchedOrgCount: Number,
        },
        { _id: false },
      ),
      default: null,
    },
    state: { type: String, enum: PREVIEW_STATES, required: true },
    counts: countsSchema,
    // What kind of change the updated people get: field name → number of people.
    changedFields: { type: Schema.Types.Mixed, default: {} },
    // The first MAX_STORED_ERRORS problems (line, column, code, value); counts.errors has the total.
    rowErrors: { type: [Schema.Types.Mixed], default: [] },
    // Active people (not district administrators) when the preview was made: the base of the deactivation guard.
    activeCount: { type: Number, default: 0 },
    expiresAt: { type: Date, required: true },
    // The import (Apply), run in the background by roster-jobs.ts: who asked and when (checked again when it
    // runs), which runner holds it ("host:pid:random"; every write of the run is conditional on it) and its
    // heartbeat (older than the lease: the process died and another runner takes it over).
    requestedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    requestedAt: { type: Date, default: null },
    requestId: { type: String, default: null },
    ...leaseFields,
    // Changes written / to write, and the last row (seq) written: a runner taking over resumes after it.
    progress: { done: { type: Number, default: 0 }, total: { type: Number, default: 0 }, lastSeq: { type: Number, default: 0 } },
    // Why a failed import failed: a code the page explains (IMPORT_FAILURES), never an internal message.
    error: { type: String, default: null },
    appliedAt: { type: Date, default: null },
    appliedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    jobId: { type: String, default: null },
    // Kept a while after expiry/apply so the page can still say "expired" or show the result, then removed.
    purgeAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);

// Serves: the roster page's "recent imports" (newest first) and every scoped lookup by id within a district.
rosterPreviewSchema.index({ district: 1, createdAt: -1 });
// Serves: removing old previews and their counts.
rosterPreviewSchema.index({ purgeAt: 1 }, { expireAfterSeconds: 0 });
// Serves: the runner's claim (queued imports, oldest first; running ones with a lapsed heartbeat).
rosterPreviewSchema.index({ state: 1, requestedAt: 1 });
// One apply at a time per district: two previews written at once could each pass their check and then
// interleave. A second claim fails on this index and is answered "busy".
rosterPreviewSchema.index({ district: 1 }, { unique: true, partialFilterExpression: { state: 'applying' }, name: 'one_apply_per_district' });

/** The roster fields the import owns, as stored: compared before writing (a stale preview) and written. */
const snapshotSchema = new Schema(
  {
    employeeId: { type: String, default: null },
    email: String,
    name: String,
    role: String,
    jobTitle: { type: String, default: null },
    schools: [String],
    preferredLanguage: String,
    startDate: { type: String, default: null },
    active: Boolean,
  },
  { _id: false },
);

const rosterPreviewRowSchema = new Schema(
  {
    preview: { type: Schema.Types.ObjectId, ref: 'RosterPreview', required: true },
    // Order of application: file order, then the deactivations (after the last line).
    seq: { type: Number, required: true },
    line: { type: Number, default: null },
    action: { type: String, enum: ROW_ACTIONS, required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    before: { type: snapshotSchema, default: null },
    after: { type: snapshotSchema, required: true },
    changes: [String],
    purgeAt: { type: Date, required: true },
  },
  { versionKey: false },
);

// Serves: the apply (every row of a preview in order, a batch at a time) and the preview page's samples by action.
rosterPreviewRowSchema.index({ preview: 1, seq: 1 }, { unique: true });
rosterPreviewRowSchema.index({ preview: 1, action: 1, seq: 1 });
// Serves: removing the rows (names and emails) of previews never applied.
rosterPreviewRowSchema.index({ purgeAt: 1 }, { expireAfterSeconds: 0 });

export type Snapshot = {
  employeeId: string | null;
  email: string;
  name: string;
  role: string;
  jobTitle: string | null;
  schools: string[];
  preferredLanguage: string;
  startDate: string | null;
  active: boolean;
};

export type RosterPreviewRecord = LeaseFields & {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  createdBy: Types.ObjectId;
  fileName: string;
  completeRoster: boolean;
  /** Absent on previews made before OneRoster files were accepted: csv. */
  format?: 'csv' | 'oneroster_1_2';
  /** Fields after skippedDisabled are absent on previews made before they existed. */
  oneRoster?: {
    principals: number;
    skippedNonStaff: number;
    skippedAdmins: number;
    skippedDisabled: number;
    skippedNotCurrent?: number;
    rolesNotCurrent?: number;
    unmatchedOrgs?: { sourcedId: string; name: string; identifier: string; reason: string; people: number }[];
    unmatchedOrgCount?: number;
  } | null;
  state: PreviewState;
  counts: { rows: number; create: number; update: number; unchanged: number; reactivate: number; deactivate: number; errors: number };
  /** Absent when nothing was updated (mongoose drops empty objects). */
  changedFields?: Record<string, number>;
  rowErrors: { line: number; column: string; code: string; value?: string; other?: string }[];
  activeCount: number;
  expiresAt: Date;
  requestedBy: Types.ObjectId | null;
  requestedAt: Date | null;
  requestId: string | null;
  progress: { done: number; total: number; lastSeq?: number };
  error: string | null;
  appliedAt: Date | null;
  appliedBy: Types.ObjectId | null;
  jobId: string | null;
  purgeAt: Date;
  createdAt: Date;
};

export type RosterPreviewRowRecord = {
  _id: Types.ObjectId;
  preview: Types.ObjectId;
  seq: number;
  line: number | null;
  action: RowAction;
  user: Types.ObjectId | null;
  before: Snapshot | null;
  after: Snapshot;
  changes: string[];
};

export const RosterPreview = model('RosterPreview', rosterPreviewSchema);
export const RosterPreviewRow = model('RosterPreviewRow', rosterPreviewRowSchema);
