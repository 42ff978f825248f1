import type { Types } from 'mongoose';

/**
 * Demo assignments and sample progress for the demo district. Filled in by the assignments/reports
 * feature; called at the end of seedDemo(). Must be idempotent like the rest of the seed.
 */
export async function seedDemoTraining(districtId: Types.ObjectId): Promise<void> {
  void districtId;
}
