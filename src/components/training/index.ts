export { trainingRouter, verifyRouter } from './training.routes';
export { prepareTrainingContent } from './training.content';
export { TrainingModule, type TrainingModuleRecord } from './training-module.model';
