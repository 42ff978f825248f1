import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * Longer than a session can stay unused (8 hours); a record outliving its session only costs a no-op delete
 * at the next IdP-initiated logout for that person. Sign-out here removes the record at once.
 */
export const SAML_SESSION_RECORD_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Which of our sessions a SAML sign-in opened, so that an IdP-initiated LogoutRequest (which names a NameID and
 * perhaps a SessionIndex, never our session id) can end them on any app instance. Written only when Single
 * Logout is configured. Least data: the NameID is kept only as a SHA-256 of "<IdP entity ID> <NameID>"; the
 * session itself holds the NameID for our own LogoutRequest (saml-slo.ts).
 */
const samlSessionSchema = new Schema(
  {
    // The express-session id (the key of the `sessions` collection).
    _id: { type: String, required: true, maxlength: 128 },
    subjectHash: { type: String, required: true, maxlength: 64 },
    // The IdP's SessionIndex from the AuthnStatement, when it sent one.
    sessionIndex: { type: String, maxlength: 256 },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
// Serves: an IdP-initiated logout finding every session of one person (and SessionIndex).
samlSessionSchema.index({ subjectHash: 1, sessionIndex: 1 });
// Serves: removal of records whose session is long gone (TTL).
samlSessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type SamlSessionRecord = InferSchemaType<typeof samlSessionSchema>;
export const SamlSession = model('SamlSession', samlSessionSchema);
