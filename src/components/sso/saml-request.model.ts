import { Schema, model, type InferSchemaType } from 'mongoose';

/** An AuthnRequest is answerable this long; the person starts again after that (as with OIDC's 15 minutes). */
export const SAML_REQUEST_MAX_MS = 15 * 60 * 1000;

/**
 * One SAML AuthnRequest we sent, so that the IdP's answer can be matched to it (InResponseTo) on whichever
 * app instance receives it: the ACS POST comes from the IdP's page, without our session cookie
 * (SameSite=Lax), so nothing about the round trip can live in the session. No personal data: the request id,
 * when it was issued, and when it was answered. MongoDB deletes the record after it expires.
 */
const samlRequestSchema = new Schema(
  {
    // The AuthnRequest's ID (node-saml: "_" + 40 hex characters).
    _id: { type: String, required: true, maxlength: 256 },
    // IssueInstant of the request, as node-saml wrote it (it reads it back from the cache).
    issuedAt: { type: String, required: true, maxlength: 64 },
    expiresAt: { type: Date, required: true },
    // node-saml "removes" the id once a response naming it was checked (accepted or not): it cannot be tried again.
    checkedAt: { type: Date },
    // Set once by the one response that signed someone in (a conditional update: two copies of a response
    // posted at the same moment cannot both sign in).
    usedAt: { type: Date },
    // SHA-256 of the binding cookie set in the browser that started this request (shared/login-binding.ts):
    // the ACS finds the request by it, and only a response to that request signs in (login CSRF defence).
    bindingHash: { type: String, maxlength: 64 },
    // Absent: an AuthnRequest. `logout`: a LogoutRequest we sent (its LogoutResponse is matched to it once);
    // `idp_logout`: a LogoutRequest the IdP sent (its id, hashed, so a replay of it is refused).
    kind: { type: String, enum: ['logout', 'idp_logout'] },
  },
  { versionKey: false },
);
// Serves: removal of expired requests (TTL).
samlRequestSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
// Serves: the ACS finding the request the posting browser started (by its binding cookie's hash).
samlRequestSchema.index({ bindingHash: 1 }, { sparse: true });

export type SamlRequestRecord = InferSchemaType<typeof samlRequestSchema>;
export const SamlRequest = model('SamlRequest', samlRequestSchema);
