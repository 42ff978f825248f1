import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * A district's LMS registered as an LTI 1.3 platform (docs/lti.md): where to send the OIDC login, whose
 * keys sign its launches, and which deployments (installs of our tool in the LMS) are accepted.
 * No secrets: LTI 1.3 launches are verified with the platform's public keys, and grade passback signs with
 * the tool's own key (lti-tool-key.ts).
 */
const ltiPlatformSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    name: { type: String, required: true, trim: true, maxlength: 100 },
    issuer: { type: String, required: true, maxlength: 500 },
    clientId: { type: String, required: true, maxlength: 200 },
    authLoginUrl: { type: String, required: true, maxlength: 1000 },
    jwksUrl: { type: String, required: true, maxlength: 1000 },
    // The platform's OAuth2 token endpoint, for grade passback (docs/lti.md "Grade passback"); optional: a
    // registration without it only launches.
    tokenUrl: { type: String, maxlength: 1000 },
    deploymentIds: { type: [{ type: String, maxlength: 200 }], default: [] },
    // Whether the first launch may link by the email the LMS sends (people cannot change it there).
    linkByEmail: { type: Boolean, default: true },
    // Whether a launch must come with the binding cookie set at login (docs/lti.md "Browser binding"). On by
    // default; off only for an LMS that launches inside a frame where the browser blocks the cookie.
    requireBrowserBinding: { type: Boolean, default: true },
  },
  { timestamps: true, versionKey: false },
);

// Serves: every login initiation (which registration is this issuer + client id?) and "one registration per
// issuer + client id" across districts (Canvas Cloud shares one issuer; the client id tells districts apart).
ltiPlatformSchema.index({ issuer: 1, clientId: 1 }, { unique: true });
// Serves: the district admin's list.
ltiPlatformSchema.index({ district: 1, name: 1 });

export type LtiPlatformRecord = InferSchemaType<typeof ltiPlatformSchema> & { _id: Types.ObjectId };
export const LtiPlatform = model('LtiPlatform', ltiPlatformSchema);
