/**
 * pino-http's response serializer: an SSO sign-out answers with a redirect whose Location carries the ID
 * token (`id_token_hint`); the request log keeps the redirect without it. Other responses pass unchanged.
 */
export function redactIdTokenHint<T extends { statusCode?: unknown; headers?: Record<string, unknown> }>(res: T): T | { statusCode?: unknown; headers: Record<string, unknown> } {
  const location = res.headers?.location;
  if (typeof location !== 'string' || !location.includes('id_token_hint=')) return res;
  return { statusCode: res.statusCode, headers: { ...res.headers, location: location.replace(/([?&]id_token_hint=)[^&#]*/g, '$1[redacted]') } };
}
