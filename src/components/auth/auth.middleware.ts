import type { NextFunction, Request, Response } from 'express';
import type { Actor } from '../../shared/actor';
import { AppError } from '../../shared/errors';
import type { Role } from '../users/user.model';
import { isLanguage } from '../../shared/i18n';
import { setPreferredLanguage } from './auth.service';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // The session's user is the Actor: passport deserializes it from the user id.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends Actor {}
  }
}

/** The signed-in actor; only call behind requireAuth. */
export function actorOf(req: Request): Actor {
  if (!req.user) throw new AppError(401, 'unauthenticated', 'Sign-in required');
  return req.user;
}

/** Anonymous requests go to sign-in (pages) or get 401 (API/files); the original path is kept, relative only. */
export function requireAuth(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') {
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return;
  }
  next(new AppError(401, 'unauthenticated', 'Sign-in required'));
}

/** Wrong role answers 403 (out-of-scope records answer 404 in the services). */
export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.user) return requireAuth(req, _res, next);
    if (!roles.includes(req.user.role)) return next(new AppError(403, 'forbidden', 'Your role does not allow this'));
    next();
  };
}

/**
 * When a signed-in person switches language with the header link (?lang=), remember it as their
 * preference so the next sign-in (and any emails) use it. Runs right after languageMiddleware.
 */
export async function rememberLanguageChoice(req: Request, _res: Response, next: NextFunction): Promise<void> {
  const requested = req.query.lang;
  if (req.user && isLanguage(requested) && requested !== req.user.language) {
    await setPreferredLanguage(req.user, requested);
  }
  next();
}
