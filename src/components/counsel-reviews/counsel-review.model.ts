import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * A district's record that its counsel reviewed one published version of a module (the content says "not
 * legal advice; to be reviewed by district counsel" until this exists). One per (district, module, version):
 * a published version never changes, so a review of it stays true until the district withdraws it.
 * Who reviewed is an office or a title as the district wants it shown to staff ("Office of the General
 * Counsel"), not a person's record; who recorded it is the admin's id (the audit log has the rest).
 */
const counselReviewSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    moduleSlug: { type: String, required: true, maxlength: 80 },
    moduleVersion: { type: Number, required: true, min: 1 },
    /** The calendar date of the review, as counsel dated it ('YYYY-MM-DD'). */
    reviewedOn: { type: String, required: true, match: /^\d{4}-\d{2}-\d{2}$/ },
    reviewer: { type: String, required: true, trim: true, maxlength: 120 },
    recordedBy: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: true },
);

// Serves: one review per version, and a district's reviews read in one query (the memo in the service).
counselReviewSchema.index({ district: 1, moduleSlug: 1, moduleVersion: 1 }, { unique: true });

export type CounselReviewRecord = InferSchemaType<typeof counselReviewSchema> & { _id: Types.ObjectId };
export const CounselReview = model('CounselReview', counselReviewSchema);
