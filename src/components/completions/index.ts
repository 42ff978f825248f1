export { Attempt, ATTEMPT_STATUSES, OUTCOMES, PLAY_PHASES, type AttemptRecord } from './attempt.model';
export { Completion, type CompletionRecord } from './completion.model';
