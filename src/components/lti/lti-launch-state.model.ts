import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/** How long a login initiation waits for its launch. */
export const LAUNCH_STATE_TTL_S = 10 * 60;

/**
 * One LTI login initiation waiting for its launch: the state we sent to the platform and the nonce its
 * id_token must carry. Taken (deleted) by the launch, so a state and its nonce are used once; the TTL index
 * removes the ones never used. Kept in MongoDB, not the session: the launch is a cross-site POST, which
 * does not carry our SameSite=Lax session cookie.
 */
const ltiLaunchStateSchema = new Schema(
  {
    state: { type: String, required: true },
    nonce: { type: String, required: true },
    platform: { type: Schema.Types.ObjectId, ref: 'LtiPlatform', required: true },
    createdAt: { type: Date, required: true },
    // SHA-256 of the binding cookie set in the browser the LMS sent to /lti/login (shared/login-binding.ts):
    // the launch must come from that browser (login CSRF defence). Nothing about the person.
    bindingHash: { type: String, maxlength: 64 },
  },
  { versionKey: false },
);

// Serves: the launch taking its state (one use).
ltiLaunchStateSchema.index({ state: 1 }, { unique: true });
// Serves: expiry of states whose launch never came.
ltiLaunchStateSchema.index({ createdAt: 1 }, { expireAfterSeconds: LAUNCH_STATE_TTL_S });

export type LtiLaunchStateRecord = InferSchemaType<typeof ltiLaunchStateSchema> & { _id: Types.ObjectId };
export const LtiLaunchState = model('LtiLaunchState', ltiLaunchStateSchema);
