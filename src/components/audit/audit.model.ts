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
  // Tamper evidence (audit-chain.ts): set once, shortly after the event is written, by the sealer. seq numbers
  // the district's chain 1, 2, 3 …; hash = sha256(prevHash + the event's canonical form).
  seq: { type: Number },
  prevHash: { type: String },
  hash: { type: String },
});

// Serves: the district audit log, newest first, filtered by action.
auditEventSchema.index({ district: 1, at: -1 });
auditEventSchema.index({ district: 1, action: 1, at: -1 });
// Serves: the chain — its head (highest seq) per district and verification in seq order; one event per seq.
auditEventSchema.index({ district: 1, seq: 1 }, { unique: true, partialFilterExpression: { seq: { $exists: true } } });
// Serves: the sealer's "not sealed yet, oldest first".
auditEventSchema.index({ seq: 1, _id: 1 });

export type AuditEventRecord = InferSchemaType<typeof auditEventSchema> & { _id: Types.ObjectId };
export const AuditEvent = model('AuditEvent', auditEventSchema);
