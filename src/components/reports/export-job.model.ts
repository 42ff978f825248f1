import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { leaseFields } from '../../shared/lease-fields';
import { COMPLIANCE_STATUSES } from '../assignments';
import { JOB_TITLES } from '../users';

export const EXPORT_JOB_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type ExportJobState = (typeof EXPORT_JOB_STATES)[number];
export const BACKGROUND_FORMATS = ['csv', 'xlsx'] as const;
export type BackgroundFormat = (typeof BACKGROUND_FORMATS)[number];

/**
 * A compliance export prepared in the background (export-jobs.ts): what was asked (scope, filters,
 * format, language — never a copy of the rows), its progress, and the finished file in GridFS
 * (bucket `exports`) until expiresAt. Only the person who asked can download it.
 */
const exportJobSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    requestedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School', default: null },
    filters: {
      module: { type: String, default: null },
      status: { type: String, enum: [...COMPLIANCE_STATUSES, null], default: null },
      jobTitle: { type: String, enum: [...JOB_TITLES, null], default: null },
      // A region id of the district, or 'none' (schools without a region); checked again when the job runs.
      region: { type: String, default: null },
    },
    format: { type: String, enum: BACKGROUND_FORMATS, required: true },
    language: { type: String, enum: ['en', 'es'], required: true },
    state: { type: String, enum: EXPORT_JOB_STATES, required: true, default: 'queued' },
    requestedAt: { type: Date, required: true },
    ...leaseFields,
    progress: { rows: { type: Number, default: 0 }, total: { type: Number, default: 0 } },
    file: { type: Schema.Types.ObjectId, default: null },
    fileName: { type: String, default: null },
    bytes: { type: Number, default: null },
    error: { type: String, default: null },
    /** The file (and this record) are removed after this; the downloads page says when. */
    expiresAt: { type: Date, default: null },
    downloads: { type: Number, default: 0 },
  },
  { versionKey: false },
);

// Serves: a person's own exports, newest first (the exports page), and the quota check.
exportJobSchema.index({ requestedBy: 1, requestedAt: -1 });
// Serves: the runner's claim (oldest queued; running with a lapsed heartbeat) and the clean-up of expired files.
exportJobSchema.index({ state: 1, requestedAt: 1 });
exportJobSchema.index({ expiresAt: 1 }, { partialFilterExpression: { expiresAt: { $type: 'date' } } });

export type ExportJobRecord = InferSchemaType<typeof exportJobSchema> & { _id: Types.ObjectId };
export const ExportJob = model('ExportJob', exportJobSchema);
