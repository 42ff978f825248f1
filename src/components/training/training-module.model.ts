import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/** A published (slug, version) of a module file; its content hash must never change once recorded. */
const trainingModuleSchema = new Schema(
  {
    slug: { type: String, required: true },
    version: { type: Number, required: true },
    contentHash: { type: String, required: true },
    title: { en: { type: String, required: true }, es: { type: String, required: true } },
    publishedAt: { type: Date, required: true, default: () => new Date() },
  },
  { timestamps: true },
);

// Serves: lookup of a version and the version list of a module.
trainingModuleSchema.index({ slug: 1, version: 1 }, { unique: true });

export type TrainingModuleRecord = InferSchemaType<typeof trainingModuleSchema> & { _id: Types.ObjectId };
export const TrainingModule = model('TrainingModule', trainingModuleSchema);
