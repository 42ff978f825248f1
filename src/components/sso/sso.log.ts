/**
 * pino-http's response serializer: an SSO sign-out answers with a redirect whose Location carries the ID
 * token (`id_token_hint`); the request log keeps the redirect without it. Other responses pass unchanged.
 */
export function redactIdTokenHint<T extends { statusCode?: unknown; headers?: Record<string, unknown> }>(res: T): T | { statusCode?: unknown; headers: Record<string, unknown> } {
  const location = res.headers?.location;
  if (typeof location !== 'string' || !location.includes('id_token_hint=')) return res;
  return { statusCode: res.statusCode, headers: { ...res.headers, location: location.replace(/([?&]id_token_hint=)[^&#]*/g, '$1[redacted]') } };
}

const SAML_MESSAGE = /([?&](?:SAMLRequest|SAMLResponse|Signature)=)[^&#]*/g;

/**
 * pino-http's request serializer for SAML Single Logout: a LogoutRequest or LogoutResponse in the query carries the
 * person's NameID (deflated, base64); the request log keeps the URL without the message and its signature.
 */
export function redactSamlSloRequest<T extends { url?: string }>(req: T): T | (T & { url: string; query: string }) {
  if (!req.url?.startsWith('/auth/saml/slo?')) return req;
  return { ...req, url: req.url.replace(SAML_MESSAGE, '$1[redacted]'), query: '[redacted]' };
}

/** pino-http's response serializer: our redirect to the IdP's SLO URL carries our LogoutRequest/Response (the NameID). */
export function redactSamlSloRedirect<T extends { statusCode?: unknown; headers?: Record<string, unknown> }>(res: T): T | { statusCode?: unknown; headers: Record<string, unknown> } {
  const location = res.headers?.location;
  if (typeof location !== 'string' || !/[?&](SAMLRequest|SAMLResponse)=/.test(location)) return res;
  return { statusCode: res.statusCode, headers: { ...res.headers, location: location.replace(SAML_MESSAGE, '$1[redacted]') } };
}
