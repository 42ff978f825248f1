import { Types } from 'mongoose';
import { z } from 'zod';
import { AppError } from './errors';

/** A 24-hex ObjectId in a param or form field; anything else (including objects/arrays) is refused. */
export const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'invalid id');

export type FieldErrors = Record<string, string>;
export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors; values: Record<string, unknown> };

/**
 * Parses a submitted form. Invalid input is not an exception: the caller re-renders with 422,
 * the field errors (first message per field) and the values as entered.
 */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.infer<S>> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_form';
    if (!errors[key]) errors[key] = issue.message;
  }
  // No prototype: a "__proto__" field in the body stays an ordinary (ignored) key.
  const values: Record<string, unknown> = Object.create(null);
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (k === '_csrf' || k === '__proto__' || /password/i.test(k)) continue;
      values[k] = typeof v === 'string' || Array.isArray(v) ? v : '';
    }
  }
  return { ok: false, errors, values };
}

/** Parses params/query; failures are client errors (400), or 404 for malformed ids in the path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, status = 400): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    throw new AppError(status, status === 404 ? 'not_found' : 'bad_request', status === 404 ? 'Not found' : 'Invalid request', {
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

export function toObjectId(id: string): Types.ObjectId {
  return new Types.ObjectId(id);
}
