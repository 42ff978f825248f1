/**
 * Training: the player, records of play, certificates. Call prepareTrainingContent() (the server does,
 * before it listens; tests pass a fixtures directory) before using the player or the catalog.
 */
export { trainingRouter } from './training.routes';
export { verifyRouter } from './certificate.routes';
export { prepareTrainingContent, getCatalog, TrainingContentError, DEFAULT_MODULES_DIR } from './training.content';
export { getTrainingOverview, type TrainingRow, type TrainingStatus } from './training.service';
export { TrainingModule, type TrainingModuleRecord } from './training-module.model';
export { updateOfferFor, updateScenarios, updateMinutes, type UpdateOffer } from './training.update';
