import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * Binds a SAML or LTI sign-in to the browser that started it (docs/sso.md, docs/lti.md "Browser binding"):
 * the start sets a random, short-lived, HttpOnly cookie scoped to the one path that receives the cross-site
 * POST (the ACS, the launch URL); only its SHA-256 is kept with the pending request, and the POST must carry
 * the cookie whose hash matches. A response or launch form captured in one browser and posted from another
 * (login CSRF) is then refused.
 */

/** The cookie lives as long as an LTI state; a SAML request record lives longer (15 min), the cookie decides. */
export const BINDING_MAX_AGE_MS = 10 * 60 * 1000;

export type BindingCookie = { name: string; path: string };
export const SAML_BINDING: BindingCookie = { name: 'sst.saml_binding', path: '/auth/saml/acs' };
export const LTI_BINDING: BindingCookie = { name: 'sst.lti_binding', path: '/lti/launch' };

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The cookie must come with a cross-site POST, so it is `SameSite=None`, which browsers accept only with
 * `Secure`: in production, with an https BASE_URL, and on localhost (Chrome and Firefox treat
 * http://localhost as secure). A plain-http BASE_URL on another host (tests, a LAN address) cannot keep a
 * Secure cookie, so there it is `SameSite=Lax` without Secure: it then comes only with same-site posts
 * (an IdP or LMS on the same site), and the check still applies.
 */
export function bindingCookieMode(config: { isProduction: boolean; baseUrl: string }): { secure: boolean; sameSite: 'none' | 'lax' } {
  let url: URL | undefined;
  try {
    url = new URL(config.baseUrl);
  } catch {
    url = undefined;
  }
  const secure = config.isProduction || url?.protocol === 'https:' || (url !== undefined && LOCAL_HOSTS.includes(url.hostname));
  return secure ? { secure: true, sameSite: 'none' } : { secure: false, sameSite: 'lax' };
}

export function hashBinding(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A fresh binding: the cookie's value (256 random bits) and the hash stored with the pending request. */
export function newBinding(): { value: string; hash: string } {
  const value = randomBytes(32).toString('base64url');
  return { value, hash: hashBinding(value) };
}

/** Whether the cookie's value hashes to the stored hash (constant time). No cookie or no hash: false. */
export function bindingMatches(value: string | undefined, storedHash: string | null | undefined): boolean {
  if (value === undefined || typeof storedHash !== 'string' || storedHash.length !== 64) return false;
  return timingSafeEqual(Buffer.from(hashBinding(value)), Buffer.from(storedHash));
}

/** The binding cookie's value from the request, when it has one of the right shape. */
export function readBindingCookie(req: Request, cookie: BindingCookie): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== cookie.name) continue;
    const value = part.slice(eq + 1).trim();
    if (VALUE.test(value)) return value;
  }
  return undefined;
}

export function setBindingCookie(res: Response, cookie: BindingCookie, value: string, config: { isProduction: boolean; baseUrl: string }): void {
  res.cookie(cookie.name, value, { httpOnly: true, path: cookie.path, maxAge: BINDING_MAX_AGE_MS, ...bindingCookieMode(config) });
}

export function clearBindingCookie(res: Response, cookie: BindingCookie, config: { isProduction: boolean; baseUrl: string }): void {
  res.clearCookie(cookie.name, { httpOnly: true, path: cookie.path, ...bindingCookieMode(config) });
}
