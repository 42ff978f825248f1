import type { NextFunction, Request, Response } from 'express';
import { ownSchoolNames } from './schools.service';

/**
 * The page header names the signed-in person's school(s). One indexed lookup by _id, and only for
 * signed-in page views (not posts, files or JSON).
 */
export async function schoolNamesMiddleware(req: Request, res: Response, next: NextFunction): Promise<void> {
  res.locals.schoolNames = [];
  if (req.user && req.method === 'GET' && req.user.schoolIds.length > 0 && req.accepts(['html', 'json']) === 'html') {
    res.locals.schoolNames = await ownSchoolNames(req.user);
  }
  next();
}
