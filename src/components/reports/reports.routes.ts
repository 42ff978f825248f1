import { Router } from 'express';

export const reportsRouter = Router();
