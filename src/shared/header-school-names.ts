import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor } from './actor';
import { TtlMemo } from './ttl-memo';

/**
 * School names change a few times a year, and every signed-in page shows them: they are kept per process
 * for HEADER_NAMES_MS, per district and set of schools (so everyone at a school shares one entry). A rename
 * shows in page headers within that time; the school pages themselves always read the database.
 */
const HEADER_NAMES_MS = 10_000;

/**
 * The page header names the signed-in person's school(s): only for signed-in page views (not posts, files
 * or JSON). `load` is the schools feature's lookup (ownSchoolNames), passed in by the app.
 */
export function headerSchoolNames(load: (actor: Actor) => Promise<string[]>): RequestHandler {
  const memo = new TtlMemo<readonly string[]>(HEADER_NAMES_MS);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    res.locals.schoolNames = [];
    const actor = req.user;
    if (actor && req.method === 'GET' && actor.schoolIds.length > 0 && req.accepts(['html', 'json']) === 'html') {
      const key = `${actor.districtId}:${actor.schoolIds.join(',')}`;
      res.locals.schoolNames = (await memo.get(key, async () => Object.freeze(await load(actor)))) ?? [];
    }
    next();
  };
}
