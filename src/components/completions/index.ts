export { Attempt, ATTEMPT_STATUSES, OUTCOMES, PLAY_PHASES, type AttemptRecord } from './attempt.model';
export { Completion, COMPLETION_METHODS, type CompletionMethod, type CompletionRecord } from './completion.model';
