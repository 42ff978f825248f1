export { CounselReview, type CounselReviewRecord } from './counsel-review.model';
export { forgetCounselReviews, getCounselReview, getCounselReviews, reviewOf, recordCounselReview, withdrawCounselReview, type CounselReviewView, type CounselReviews, type ReviewedVersion } from './counsel-reviews.service';
export { reviewFormSchema, reviewParams, type ReviewInput } from './counsel-reviews.schemas';
