/**
 * The roster file upload: multipart, on this route only, with its own size limit (the app's body limit is
 * 64 kB). It runs before the app's CSRF check — which needs the form's `_csrf` field, inside the multipart
 * body — but after the session: anonymous requests and other roles are turned away before the body is read.
 * The file goes to a temporary file (not memory) and is removed when the request ends.
 */
import { tmpdir } from 'node:os';
import { unlink } from 'node:fs/promises';
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { AppError } from '../../shared/errors';
import { requireAuth } from '../auth';

export const ROSTER_UPLOAD_PATH = '/admin/roster/preview';
/** The largest roster file accepted: 74,000 rows are about 10 MB. */
export const ROSTER_MAX_BYTES = 20 * 1024 * 1024;

const upload = multer({
  storage: multer.diskStorage({ destination: tmpdir() }),
  limits: { fileSize: ROSTER_MAX_BYTES, files: 1, fields: 10, fieldSize: 2_000, parts: 12, headerPairs: 50 },
}).single('file');

export type UploadProblem = 'too_large' | 'bad_upload';

function removeFile(req: Request): void {
  const path = req.file?.path;
  if (path) unlink(path).catch(() => undefined);
}

export function rosterUpload(req: Request, res: Response, next: NextFunction): void {
  // Express matches routes case-insensitively and with a trailing slash: so does this gate.
  if (req.method !== 'POST' || req.path.toLowerCase().replace(/\/+$/, '') !== ROSTER_UPLOAD_PATH) return next();
  if (!req.user) return requireAuth(req, res, next);
  if (req.user.role !== 'district_admin') return next(new AppError(403, 'forbidden', 'Your role does not allow this'));
  if (!req.is('multipart/form-data')) return next();
  res.on('close', () => removeFile(req));
  upload(req, res, (err: unknown) => {
    // A failed upload is answered by the route with a page of its own (after the CSRF check), not a crash.
    if (err) {
      res.locals.rosterUploadProblem = (err as { code?: string }).code === 'LIMIT_FILE_SIZE' ? 'too_large' : 'bad_upload';
      removeFile(req);
    }
    next();
  });
}
