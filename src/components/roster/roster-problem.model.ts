import { Schema, model, type Types } from 'mongoose';

/**
 * Every problem of a roster file, one record per bad line, for the "every problem" CSV (the preview keeps
 * only the first 1,000, with the values they quote, for its page). Value-free: line, column and reason
 * code, plus a number where the reason needs one (the other line of a duplicate, the count of values) —
 * never a cell's content. Removed with the preview's rows, a day after the preview expires.
 */
const problemSchema = new Schema(
  {
    column: { type: String, default: '' },
    code: { type: String, required: true },
    // Numbers only (see valueFreeProblem): the line a duplicate repeats, values found / expected.
    value: { type: String, default: undefined },
    other: { type: String, default: undefined },
  },
  { _id: false },
);

const rosterProblemSchema = new Schema(
  {
    preview: { type: Schema.Types.ObjectId, ref: 'RosterPreview', required: true },
    line: { type: Number, required: true },
    problems: { type: [problemSchema], default: [] },
    purgeAt: { type: Date, required: true },
  },
  { versionKey: false },
);

// Serves: the CSV, every bad line of a preview in line order (read in index order, a batch at a time).
rosterProblemSchema.index({ preview: 1, line: 1 });
// Serves: removing the problems with the preview's rows.
rosterProblemSchema.index({ purgeAt: 1 }, { expireAfterSeconds: 0 });

export type RosterProblemRecord = {
  _id: Types.ObjectId;
  preview: Types.ObjectId;
  line: number;
  problems: { column: string; code: string; value?: string; other?: string }[];
};

export const RosterProblem = model('RosterProblem', rosterProblemSchema);
