export { trainingRouter, verifyRouter } from './training.routes';
export { prepareTrainingContent } from './training.content';
