/**
 * Request-log redaction for the LMS routes: a GET login initiation carries the platform's login_hint and
 * lti_message_hint in its query, and our answer redirects with the one-use state and nonce. Logged without them.
 */
export function redactLtiRequest<T extends { url?: string }>(req: T): T | (T & { url: string; query: string }) {
  if (!req.url?.startsWith('/lti/login?')) return req;
  return { ...req, url: '/lti/login?[redacted]', query: '[redacted]' };
}

export function redactLtiRedirect<T extends { statusCode?: unknown; headers?: Record<string, unknown> }>(res: T): T | { statusCode?: unknown; headers: Record<string, unknown> } {
  const location = res.headers?.location;
  if (typeof location !== 'string' || !location.includes('response_type=id_token')) return res;
  return { statusCode: res.statusCode, headers: { ...res.headers, location: location.replace(/\?.*$/, '?[redacted]') } };
}
