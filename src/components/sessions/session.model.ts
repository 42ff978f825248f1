import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

export const SESSION_STATUSES = ['open', 'finished'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/**
 * A facilitated group session: a principal or district admin presents one module version to the staff of
 * one school (a staff meeting, for people without a device) and records who attended; finishing it
 * records a facilitated Completion for each person present. Deliberately no free text: only the module,
 * the date, the facilitator and the attendees (staff may mention students or families in a discussion).
 */
const sessionSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    school: { type: Schema.Types.ObjectId, ref: 'School', required: true },
    moduleSlug: { type: String, required: true },
    moduleVersion: { type: Number, required: true },
    // The district-local calendar day the session was held (YYYY-MM-DD).
    sessionDate: { type: String, required: true },
    facilitator: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    status: { type: String, enum: SESSION_STATUSES, required: true, default: 'open' },
    attendees: { type: [{ type: Schema.Types.ObjectId, ref: 'User' }], default: [] },
    // Incremented by every attendance save: a save computed from an older list is retried, never lost.
    attendanceRev: { type: Number, required: true, default: 0 },
    finishedAt: { type: Date },
    finishedBy: { type: Schema.Types.ObjectId, ref: 'User' },
    // What finishing did (counts only; the completions themselves reference the session).
    results: {
      recorded: { type: Number },
      alreadyTrained: { type: Number },
      notEligible: { type: Number },
    },
  },
  { timestamps: true },
);

// Serves: a school's session list, newest first.
sessionSchema.index({ school: 1, createdAt: -1 });

export type SessionRecord = InferSchemaType<typeof sessionSchema> & { _id: Types.ObjectId };
export const FacilitatedSession = model('FacilitatedSession', sessionSchema);
