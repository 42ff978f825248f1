import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * A district's provisioning token (docs/scim.md). Only its SHA-256 hash is kept: the token itself is shown
 * once, when it is created. One per district: creating a new one replaces the old (the same record).
 */
const scimTokenSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    tokenHash: { type: String, required: true },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, default: null },
    // The deactivation safety limit (scim-deactivations.ts): refusals since the admin last looked, and the
    // extra deactivations an admin allowed for a while.
    deactivationsHeld: { type: Number, default: 0 },
    lastHeldAt: { type: Date, default: null },
    allowance: { extra: { type: Number, default: 0 }, until: { type: Date, default: null } },
  },
  { versionKey: false },
);

// Serves: the admin page (the district's token) and "one token per district".
scimTokenSchema.index({ district: 1 }, { unique: true });
// Serves: every SCIM request (which district does this bearer token belong to?).
scimTokenSchema.index({ tokenHash: 1 }, { unique: true });

export type ScimTokenRecord = InferSchemaType<typeof scimTokenSchema> & { _id: Types.ObjectId };
export const ScimToken = model('ScimToken', scimTokenSchema);
