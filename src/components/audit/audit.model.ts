import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/** Records, not logs: completions, exports, overrides, role and account changes. Append-only. */
const auditEventSchema = new Schema({
  district: { type: Schema.Types.ObjectId, ref: 'District' },
  actor: { type: Schema.Types.ObjectId, ref: 'User' },
  action: { type: String, required: true },
  target: { kind: { type: String }, id: { type: String } },
  details: { type: Schema.Types.Mixed },
  requestId: { type: String },
  at: { type: Date, default: () => new Date(), required: true },
});

// Serves: the district audit log, newest first, filtered by action.
auditEventSchema.index({ district: 1, at: -1 });
auditEventSchema.index({ district: 1, action: 1, at: -1 });

export type AuditEventRecord = InferSchemaType<typeof auditEventSchema> & { _id: Types.ObjectId };
export const AuditEvent = model('AuditEvent', auditEventSchema);
