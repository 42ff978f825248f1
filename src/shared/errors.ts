/** The one error type of the app: an HTTP status, a stable code and a message safe to show. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what = 'Not found') => new AppError(404, 'not_found', what);
export const forbidden = (what = 'Forbidden') => new AppError(403, 'forbidden', what);
export const badRequest = (what: string, details?: Record<string, unknown>) => new AppError(400, 'bad_request', what, details);
export const conflict = (what: string) => new AppError(409, 'conflict', what);
