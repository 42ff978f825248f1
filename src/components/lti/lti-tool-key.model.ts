import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * The tool's own RS256 key pair (docs/lti.md "The tool's key"): generated once per deployment on first need.
 * It signs our client assertions (grade passback) and is published at /lti/jwks. The private JWK is stored
 * encrypted (AES-256-GCM with XAPI_SECRET_KEY, the key id as associated data), never in the repository.
 * `slot: 'current'` is the key in use; a rotation would leave older keys (other slots) published a while.
 */
const ltiToolKeySchema = new Schema(
  {
    slot: { type: String, required: true, maxlength: 40 },
    kid: { type: String, required: true, maxlength: 100 },
    // Public members only: kty, n, e (plus kid, alg, use when served).
    publicJwk: { kty: { type: String, required: true }, n: { type: String, required: true }, e: { type: String, required: true } },
    // v1.<iv>.<tag>.<ciphertext> of the private JWK's JSON (xapi-secret.ts format).
    privateJwk: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

// Serves: "the current key" (one per slot, so two processes generating at once keep one).
ltiToolKeySchema.index({ slot: 1 }, { unique: true });

export type LtiToolKeyRecord = InferSchemaType<typeof ltiToolKeySchema> & { _id: Types.ObjectId };
export const LtiToolKey = model('LtiToolKey', ltiToolKeySchema);
