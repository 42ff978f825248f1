import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

export const ROLES = ['staff', 'principal', 'region_admin', 'district_admin'] as const;
export type Role = (typeof ROLES)[number];

/** Staff job titles (stored lower_snake). Non-teaching staff meet officers first, so they are first-class. */
export const JOB_TITLES = [
  'teacher',
  'substitute_teacher',
  'paraeducator',
  'counselor',
  'front_office',
  'office_manager',
  'registrar',
  'attendance_clerk',
  'assistant_principal',
  'custodian',
  'bus_driver',
  'food_service',
  'campus_aide',
  'librarian',
  'nurse',
  'other',
] as const;
export type JobTitle = (typeof JOB_TITLES)[number];
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

// Deliberately minimal: no date of birth, no SSN, no immigration status, no home address — ever.
const userSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    email: { type: String, required: true, trim: true, lowercase: true, maxlength: 254 },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    employeeId: { type: String, trim: true, maxlength: 40 },
    role: { type: String, enum: ROLES, required: true },
    jobTitle: { type: String, enum: JOB_TITLES },
    schools: [{ type: Schema.Types.ObjectId, ref: 'School' }],
    // Region administrators only: the district's region(s) they oversee (docs/compliance.md, "Region administrators").
    // Absent for every other role; the scope of their pages and exports is decided from it on the server.
    regions: { type: [{ type: Schema.Types.ObjectId, ref: 'Region' }], default: undefined },
    active: { type: Boolean, default: true },
    // Start date drives "due N days after start" assignments.
    startDate: { type: Date },
    preferredLanguage: { type: String, enum: LANGUAGES, default: 'en' },
    passwordHash: { type: String, select: false },
    failedSignIns: { type: Number, default: 0, select: false },
    lockedUntil: { type: Date, select: false },
    lastSignInAt: { type: Date },
    // Sessions carry the value they were signed in with; a password change or reset increments it, which
    // ends every other session of the person at its next request (auth/passport.ts).
    sessionEpoch: { type: Number, default: 0 },
    // Single sign-on link: "<issuer> <sub>" from the district's identity provider (never tokens).
    ssoSubject: { type: String, maxlength: 1000 },
    ssoLinkedAt: { type: Date },
    // LTI link: "<platform issuer> <sub>" from the district's LMS (docs/lti.md); its own field, beside SSO's.
    ltiSubject: { type: String, maxlength: 1000 },
    ltiLinkedAt: { type: Date },
  },
  { timestamps: true },
);

// Serves: sign-in by email and the unique-email-per-district rule.
userSchema.index({ district: 1, email: 1 }, { unique: true });
// Serves: the school roster and per-school compliance (active staff of a school).
userSchema.index({ schools: 1, active: 1, name: 1 });
// Serves: the district user list sorted by name, and district-wide exports by role.
userSchema.index({ district: 1, active: 1, name: 1 });
// Serves: roster import matching by employee id.
userSchema.index({ district: 1, employeeId: 1 }, { unique: true, partialFilterExpression: { employeeId: { $type: 'string' } } });
// Serves: roster import lookups of a batch of employee ids ($in) and its upserts keyed by employee id — a query the
// partial index above answers only when it repeats the partial filter (and the embedded server never does).
userSchema.index({ district: 1, employeeId: 1 }, { name: 'district_1_employeeId_1_lookup' });

// Serves: password sign-in by email and SSO first-link by email, both across districts (not unique: the
// same email may exist in two districts; the compound index above cannot serve a query without district).
userSchema.index({ email: 1 });

// Serves: SSO sign-in by the identity provider's subject; one account per subject.
userSchema.index({ ssoSubject: 1 }, { unique: true, partialFilterExpression: { ssoSubject: { $type: 'string' } } });

// Serves: LTI launches by the LMS's subject; one account per subject.
userSchema.index({ ltiSubject: 1 }, { unique: true, partialFilterExpression: { ltiSubject: { $type: 'string' } } });

export type UserRecord = InferSchemaType<typeof userSchema> & { _id: Types.ObjectId };
/** A person read lean with a projection of the roster fields (the staff pages and SCIM add what else they select). */
export type LeanUser = {
  _id: Types.ObjectId;
  name: string;
  email: string;
  employeeId?: string | null;
  role: Role;
  jobTitle?: JobTitle | null;
  schools?: Types.ObjectId[] | null;
  regions?: Types.ObjectId[] | null;
  active?: boolean | null;
  preferredLanguage?: Language | null;
};
export const User = model('User', userSchema);
