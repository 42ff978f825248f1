import type { Request } from 'express';

declare module 'express-session' {
  interface SessionData {
    flash?: string;
  }
}

/** A one-time confirmation (an i18n key) shown on the page the POST redirects to. */
export function setFlash(req: Request, key: string): void {
  if (req.session) req.session.flash = key;
}

/** Reads and clears the pending confirmation. */
export function takeFlash(req: Request): string | undefined {
  const key = req.session?.flash;
  if (key !== undefined) delete req.session.flash;
  return key;
}
