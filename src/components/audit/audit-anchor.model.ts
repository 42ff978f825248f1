import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * One emailed copy of a district's audit-chain head (audit-anchor.ts): what was sent, when, to how many
 * addresses. The copy that matters is the email outside this database; this record shows the sending works.
 */
const auditAnchorSchema = new Schema({
  district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
  // The district's local date it was made for: at most one a day.
  day: { type: String, required: true },
  seq: { type: Number, required: true },
  hash: { type: String, required: true },
  headAt: { type: Date, required: true },
  recipients: { type: Number, required: true },
  status: { type: String, enum: ['queued', 'sent', 'failed'], required: true },
  attempts: { type: Number, default: 0 },
  lastError: { type: String, maxlength: 500 },
  createdAt: { type: Date, required: true },
  sentAt: { type: Date },
});

// Serves: one anchor per district and day (two processes cannot both send it), and the newest first.
auditAnchorSchema.index({ district: 1, day: -1 }, { unique: true });

export type AuditAnchorRecord = InferSchemaType<typeof auditAnchorSchema> & { _id: Types.ObjectId };
export const AuditAnchor = model('AuditAnchor', auditAnchorSchema);
