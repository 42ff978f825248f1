import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

const schoolSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    code: { type: String, required: true, trim: true, maxlength: 20 },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    active: { type: Boolean, default: true },
  },
  { timestamps: true },
);

// Serves: school by code within a district (roster import, uniqueness of codes) and the district's school list sorted by code.
schoolSchema.index({ district: 1, code: 1 }, { unique: true });
// Serves: name search and alphabetical listing within a district.
schoolSchema.index({ district: 1, name: 1 });

export type SchoolRecord = InferSchemaType<typeof schoolSchema> & { _id: Types.ObjectId };
export const School = model('School', schoolSchema);
