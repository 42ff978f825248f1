import type { NextFunction, Request, Response } from 'express';
import mongoose from 'mongoose';
import { ZodError } from 'zod';
import { AppError } from './errors';
import { logger } from './logger';
import { translator } from './i18n';

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return new AppError(400, 'bad_request', 'Invalid request');
  if (err instanceof mongoose.Error.CastError) return new AppError(404, 'not_found', 'Not found');
  if (err instanceof mongoose.Error.ValidationError) return new AppError(422, 'invalid', 'Invalid data');
  const e = err as { code?: unknown; status?: unknown; statusCode?: unknown; type?: unknown; name?: unknown };
  if (e?.code === 11000) return new AppError(409, 'duplicate', 'That record already exists');
  // csrf-sync, body-parser (413, 400, 415) and similar http-errors carry their own client status.
  const status = Number(e?.status ?? e?.statusCode);
  if (status >= 400 && status < 500) {
    if (e?.code === 'EBADCSRFTOKEN' || /csrf/i.test(String((err as Error).message))) return new AppError(403, 'invalid_csrf', 'The form expired or was sent from elsewhere. Please go back, reload the page and try again.');
    if (status === 413) return new AppError(413, 'too_large', 'The request is too large.');
    return new AppError(status, 'bad_request', 'The request could not be understood.');
  }
  return new AppError(500, 'internal', 'Something went wrong on our side.');
}

/** Registered last: maps library errors, logs 5xx with the request id, never shows internals. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const appError = toAppError(err);
  if (appError.status >= 500) logger.error({ err, reqId: req.id }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(appError.status);
  const wantsHtml = req.accepts(['html', 'json']) === 'html';
  if (!wantsHtml) {
    res.json({ error: { code: appError.code, message: appError.message, requestId: req.id } });
    return;
  }
  // Errors raised before the view middleware ran (e.g. an oversized body) still get a full page.
  res.locals.t ??= translator('en');
  res.locals.lang ??= 'en';
  res.locals.actor ??= null;
  res.locals.currentPath ??= req.path;
  res.locals.csrfToken ??= () => '';
  res.locals.languageUrls ??= { en: '/', es: '/?lang=es' };
  const view = appError.status === 404 ? 'errors/404' : appError.code === 'forbidden' ? 'errors/403' : appError.status >= 500 ? 'errors/500' : 'errors/error';
  // The title names the page (WCAG 2.4.2): "Page not found · …", not "404 · …".
  const titleKey = appError.status === 404 ? 'errors.404.title' : appError.status === 403 ? 'errors.403.title' : appError.status >= 500 ? 'errors.500.title' : 'errors.generic.title';
  res.render(view, { title: res.locals.t(titleKey), error: appError, requestId: req.id }, (renderErr, html) => {
    if (renderErr) {
      logger.error({ err: renderErr }, 'error page failed to render');
      res.type('text/plain').send(appError.message);
      return;
    }
    res.send(html);
  });
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(new AppError(404, 'not_found', 'Not found'));
}
