import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * A district's provisioning settings (docs/scim.md "Principals"). Its own record, not the token's: the setting
 * outlives a revoked or replaced token. Absent means the defaults (principals off, nothing counted).
 */
const scimSettingsSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    // "Provisioning may make people principals": off until a district administrator turns it on.
    principalsAllowed: { type: Boolean, default: false },
    // While off: how many requests asked to make someone a principal (and were applied as staff), and the last one.
    principalRequestsIgnored: { type: Number, default: 0 },
    lastPrincipalIgnoredAt: { type: Date, default: null },
    changedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

// Serves: every SCIM create/update (is the setting on?) and the admin page; one record per district.
scimSettingsSchema.index({ district: 1 }, { unique: true });

export type ScimSettingsRecord = InferSchemaType<typeof scimSettingsSchema> & { _id: Types.ObjectId };
export const ScimSettings = model('ScimSettings', scimSettingsSchema);
