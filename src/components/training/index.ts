export { trainingRouter, verifyRouter } from './training.routes';
export { prepareTrainingContent } from './training.content';
export { Attempt, ATTEMPT_STATUSES, type AttemptRecord } from './attempt.model';
export { Completion, type CompletionRecord } from './completion.model';
export { TrainingModule, type TrainingModuleRecord } from './training-module.model';
