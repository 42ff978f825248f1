import { Router } from 'express';

export const assignmentsRouter = Router();
