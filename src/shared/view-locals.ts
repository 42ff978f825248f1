import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { csrfSync } from 'csrf-sync';
import type { Config } from '../config';
import { urlWithLanguage } from './i18n';
import { takeFlash } from './flash';

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => {
    const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof fromBody === 'string') return fromBody;
    const header = req.headers['x-csrf-token'];
    return typeof header === 'string' ? header : undefined;
  },
  errorConfig: { statusCode: 403, message: 'invalid csrf token', code: 'EBADCSRFTOKEN' },
});

/** Every state-changing request (POST/PUT/PATCH/DELETE) needs the session's token in `_csrf` or X-CSRF-Token. */
export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

/** What every view can use: the actor, the CSRF token, the language switch URLs, the current path. */
export function viewLocals(config: Config): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.actor = req.user ?? null;
    res.locals.currentPath = req.path;
    res.locals.baseUrl = config.baseUrl;
    // Lazily created so anonymous GETs of static-like pages do not start sessions.
    res.locals.csrfToken = () => generateToken(req);
    res.locals.languageUrls = { en: urlWithLanguage(req.originalUrl, 'en'), es: urlWithLanguage(req.originalUrl, 'es') };
    res.locals.errors = {};
    res.locals.values = {};
    res.locals.flash = req.method === 'GET' ? takeFlash(req) : undefined;
    next();
  };
}
