import { z } from 'zod';

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date typed as YYYY-MM-DD (what `<input type="date">` sends). */
function isCalendarDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.getUTCFullYear() === Number(match[1]) && date.getUTCMonth() === Number(match[2]) - 1 && date.getUTCDate() === Number(match[3]);
}

export const reviewFormSchema = z.object({
  reviewedOn: z.string({ message: 'counselReviews.errors.dateRequired' }).trim().min(1, 'counselReviews.errors.dateRequired').refine(isCalendarDate, 'counselReviews.errors.dateInvalid'),
  reviewer: z.string({ message: 'counselReviews.errors.reviewerRequired' }).trim().min(2, 'counselReviews.errors.reviewerRequired').max(120, 'counselReviews.errors.reviewerTooLong'),
});

export type ReviewInput = z.infer<typeof reviewFormSchema>;

/** A module version in the path: slug as the content format requires, version a positive integer; anything else 404. */
export const reviewParams = z.object({
  slug: z
    .string()
    .max(80)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
  version: z
    .string()
    .regex(/^[1-9]\d{0,5}$/)
    .transform(Number),
});
