import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

// Names and work phone numbers only (least data): `nameEs` is how the name reads inside Spanish content.
const contactSchema = new Schema({ name: { type: String, required: true, maxlength: 200 }, nameEs: { type: String, maxlength: 200 }, phone: { type: String, default: '', maxlength: 60 } }, { _id: false });

/** A group of a district's schools with its own contacts (e.g. its operations desk): between the district's and a school's. */
const regionSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    code: { type: String, required: true, trim: true, maxlength: 20 },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    // Overrides of the district's contact tree for this region's schools (CONTACT_KEYS; unset = the district's).
    contacts: { type: Map, of: contactSchema, default: {} },
  },
  { timestamps: true },
);

// Serves: uniqueness of codes within a district and the district's region list sorted by code.
regionSchema.index({ district: 1, code: 1 }, { unique: true });

export type RegionRecord = InferSchemaType<typeof regionSchema> & { _id: Types.ObjectId };
export const Region = model('Region', regionSchema);
