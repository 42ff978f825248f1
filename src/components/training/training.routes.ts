import { Router } from 'express';

export const trainingRouter = Router();
/** Public: certificate verification without signing in. */
export const verifyRouter = Router();
