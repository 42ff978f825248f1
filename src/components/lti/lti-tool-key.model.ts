import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * The tool's RS256 key pairs (docs/lti.md "The tool's key"), one per generation: generation 1 is made on first
 * need; each later one is made ahead of its `activeFrom`, published in /lti/jwks from then on, and signs from
 * `activeFrom` (LTI_TOOL_KEY_MAX_AGE_DAYS after the one before). A key that stopped signing stays published a
 * week, then is deleted. They sign our client assertions (grade passback) and deep-linking responses. The
 * private JWK is stored encrypted (AES-256-GCM with XAPI_SECRET_KEY, the key id as associated data), never in
 * the repository.
 */
const ltiToolKeySchema = new Schema(
  {
    // `g<generation>`, unique, so two processes making the same generation at once keep one. (`current`: the one
    // key stored before generations existed, read as generation 1.)
    slot: { type: String, required: true, maxlength: 40 },
    generation: { type: Number, min: 1 },
    kid: { type: String, required: true, maxlength: 100 },
    // Public members only: kty, n, e (plus kid, alg, use when served).
    publicJwk: { kty: { type: String, required: true }, n: { type: String, required: true }, e: { type: String, required: true } },
    // v1.<iv>.<tag>.<ciphertext> of the private JWK's JSON (xapi-secret.ts format).
    privateJwk: { type: String, required: true },
    createdAt: { type: Date, required: true },
    // When it starts signing (absent on the key stored before generations: its createdAt).
    activeFrom: { type: Date },
  },
  { versionKey: false },
);

// Serves: one key per generation (and the read of all keys, a handful of documents).
ltiToolKeySchema.index({ slot: 1 }, { unique: true });

export type LtiToolKeyRecord = InferSchemaType<typeof ltiToolKeySchema> & { _id: Types.ObjectId };
export const LtiToolKey = model('LtiToolKey', ltiToolKeySchema);
