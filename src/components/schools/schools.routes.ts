import { Router } from 'express';

export const schoolsRouter = Router();
