import { Schema, model, type Types } from 'mongoose';

export const DUE_KINDS = ['fixed', 'relative'] as const;
export const RECURRENCE_KINDS = ['none', 'annual', 'school_year'] as const;
export const ASSIGNMENT_STATUSES = ['active', 'archived'] as const;

/**
 * Who must complete which module by when. Empty audience lists mean "everyone" on that axis
 * (all roles, all job titles, the whole district). Archived assignments keep their history but no
 * longer count towards compliance.
 */
const assignmentSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    moduleSlug: { type: String, required: true, maxlength: 80 },
    audience: {
      roles: { type: [String], default: [] },
      jobTitles: { type: [String], default: [] },
      schools: { type: [{ type: Schema.Types.ObjectId, ref: 'School' }], default: [] },
    },
    due: {
      kind: { type: String, enum: DUE_KINDS, required: true },
      // 'YYYY-MM-DD' in the district's time zone (fixed).
      date: { type: String, maxlength: 10 },
      // Days after the later of the person's start date and the assignment's creation (relative).
      days: { type: Number, min: 0, max: 3650 },
    },
    recurrence: {
      kind: { type: String, enum: RECURRENCE_KINDS, required: true, default: 'none' },
      // 'MM-DD': a school-year completion counts through the next such date.
      cycleEnd: { type: String, maxlength: 5 },
    },
    // Completions of this version or later satisfy the assignment; raising it makes older ones outdated.
    minVersion: { type: Number, required: true, min: 1 },
    status: { type: String, enum: ASSIGNMENT_STATUSES, required: true, default: 'active' },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User' },
    archivedAt: { type: Date },
  },
  { timestamps: true },
);

// Serves: the district's assignment list, and "active assignments of a district (for a module)" on every compliance sync.
assignmentSchema.index({ district: 1, status: 1, moduleSlug: 1 });

/** The stored shape (written out: nested paths inferred by mongoose would all be optional). */
export type AssignmentRecord = {
  _id: Types.ObjectId;
  district: Types.ObjectId;
  moduleSlug: string;
  audience: { roles: string[]; jobTitles: string[]; schools: Types.ObjectId[] };
  due: { kind: (typeof DUE_KINDS)[number]; date?: string | null; days?: number | null };
  recurrence: { kind: (typeof RECURRENCE_KINDS)[number]; cycleEnd?: string | null };
  minVersion: number;
  status: (typeof ASSIGNMENT_STATUSES)[number];
  createdBy?: Types.ObjectId | null;
  archivedAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
};
export const Assignment = model('Assignment', assignmentSchema);
