export { Attempt, ATTEMPT_STATUSES, OUTCOMES, type AttemptRecord } from './attempt.model';
export { Completion, type CompletionRecord } from './completion.model';
