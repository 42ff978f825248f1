import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

// `nameEs`: how the name reads inside Spanish content (falls back to `name`, e.g. for a person's name).
const contactSchema = new Schema({ name: { type: String, required: true, maxlength: 200 }, nameEs: { type: String, maxlength: 200 }, phone: { type: String, default: '', maxlength: 60 } }, { _id: false });

const districtSchema = new Schema(
  {
    name: { type: String, required: true, trim: true, maxlength: 200 },
    slug: { type: String, required: true, trim: true, lowercase: true, maxlength: 80 },
    timeZone: { type: String, required: true, default: 'America/Los_Angeles' },
    jurisdiction: { type: String, required: true, default: 'California' },
    settings: {
      policyReference: { type: String, default: '', maxlength: 200 },
      // Contact tree used by the training content's placeholders ({{principal}}, {{counsel_office.phone}} …).
      contacts: { type: Map, of: contactSchema, default: {} },
      // Aggregate views hide counts below this size when the district asks for it (0 = off).
      smallGroupThreshold: { type: Number, default: 0, min: 0, max: 50 },
      // Where the audit log's fingerprint is emailed each day it changed (audit-anchor.ts): outside this database.
      auditAnchorEmails: { type: [String], default: [] },
    },
  },
  { timestamps: true },
);

// Serves: district lookup by slug (seed idempotency, URLs).
districtSchema.index({ slug: 1 }, { unique: true });

export type DistrictRecord = InferSchemaType<typeof districtSchema> & { _id: Types.ObjectId };
export const District = model('District', districtSchema);
