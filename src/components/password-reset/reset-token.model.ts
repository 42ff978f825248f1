import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/** How long an emailed sign-in link works. */
export const RESET_TOKEN_MINUTES = 30;
/** Records stay this long after they expire (the per-hour send limit counts them), then MongoDB deletes them. */
export const RESET_TOKEN_KEEP_SECONDS = 60 * 60;

/**
 * One emailed "choose a password" link. Only the SHA-256 hash of the link's token is stored: a copy of the
 * database does not let anyone use an open link. Nothing else about the person beyond the user id.
 */
const resetTokenSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    tokenHash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
resetTokenSchema.index({ tokenHash: 1 }, { unique: true });
resetTokenSchema.index({ user: 1, createdAt: -1 });
resetTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: RESET_TOKEN_KEEP_SECONDS });

export type ResetTokenRecord = InferSchemaType<typeof resetTokenSchema> & { _id: Types.ObjectId; createdAt: Date };
export const ResetToken = model('PasswordResetToken', resetTokenSchema);
