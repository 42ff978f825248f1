import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

// Names and work phone numbers only (least data): `nameEs` is how the name reads inside Spanish content.
const contactSchema = new Schema({ name: { type: String, required: true, maxlength: 200 }, nameEs: { type: String, maxlength: 200 }, phone: { type: String, default: '', maxlength: 60 } }, { _id: false });

const schoolSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    code: { type: String, required: true, trim: true, maxlength: 20 },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    active: { type: Boolean, default: true },
    // Optional: the school's region (its contacts come between the school's own and the district's).
    region: { type: Schema.Types.ObjectId, ref: 'Region' },
    // The school's own contacts (CONTACT_KEYS), set by an admin or the school's principal; unset = the region's or district's.
    contacts: { type: Map, of: contactSchema, default: {} },
  },
  { timestamps: true },
);

// Serves: school by code within a district (roster import, uniqueness of codes) and the district's school list sorted by code.
schoolSchema.index({ district: 1, code: 1 }, { unique: true });
// Serves: name search and alphabetical listing within a district.
schoolSchema.index({ district: 1, name: 1 });
// Serves: the schools list filtered by region.
schoolSchema.index({ district: 1, region: 1 });

export type SchoolRecord = InferSchemaType<typeof schoolSchema> & { _id: Types.ObjectId };
export const School = model('School', schoolSchema);
