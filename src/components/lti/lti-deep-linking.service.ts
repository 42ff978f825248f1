/**
 * Deep Linking 2.0 (docs/lti.md "Deep Linking"): an LtiDeepLinkingRequest launch shows the LMS user the
 * published modules; each "Add to course" form posts an LtiDeepLinkingResponse JWT, signed with the tool key,
 * to the platform's deep_link_return_url. Nobody is signed in to this app and nothing is stored.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { TrainingModule } from '../training';
import { toolKey } from './lti-tool-key';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
export const DL_CLAIM = 'https://purl.imsglobal.org/spec/lti-dl/claim/';
/** How long a signed choice is good for: the person picks within minutes. */
const RESPONSE_TTL_S = 10 * 60;

export type DeepLinkRequest = Readonly<{
  issuer: string;
  clientId: string;
  deploymentId: string;
  returnUrl: string;
  data?: string;
  locale?: string;
}>;

export type DeepLinkChoice = { slug: string; version: number; title: string; jwt: string };

/** The deep_linking_settings claim we can answer: a return URL (https, or local outside production) that accepts ltiResourceLink. */
export function readDeepLinkSettings(value: unknown, requireHttps: boolean): { returnUrl: string; data?: string } | null {
  if (!value || typeof value !== 'object') return null;
  const settings = value as { deep_link_return_url?: unknown; accept_types?: unknown; data?: unknown };
  const acceptTypes = Array.isArray(settings.accept_types) ? settings.accept_types : [];
  if (!acceptTypes.includes('ltiResourceLink')) return null;
  if (typeof settings.deep_link_return_url !== 'string' || settings.deep_link_return_url.length > 2000) return null;
  let url: URL;
  try {
    url = new URL(settings.deep_link_return_url);
  } catch {
    return null;
  }
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && (requireHttps || !local)) return null;
  const data = typeof settings.data === 'string' && settings.data.length <= 4000 ? settings.data : undefined;
  return { returnUrl: url.href, data };
}

/** The newest published version of each module, with its title in `lang`, and the signed response that adds it. */
export async function deepLinkChoices(request: DeepLinkRequest, baseUrl: string, lang: 'en' | 'es'): Promise<DeepLinkChoice[]> {
  const versions = await TrainingModule.find({}, { slug: 1, version: 1, title: 1 }).sort({ slug: 1, version: -1 }).lean();
  const newest = versions.filter((m, i) => i === 0 || versions[i - 1].slug !== m.slug);
  const key = await toolKey();
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    newest.map(async (m) => {
      const title = m.title?.[lang] || m.title?.en || m.slug;
      const claims: Record<string, unknown> = {
        nonce: randomBytes(16).toString('base64url'),
        [`${CLAIM}message_type`]: 'LtiDeepLinkingResponse',
        [`${CLAIM}version`]: '1.3.0',
        [`${CLAIM}deployment_id`]: request.deploymentId,
        [`${DL_CLAIM}content_items`]: [
          {
            type: 'ltiResourceLink',
            title,
            url: `${baseUrl}/lti/launch?module=${m.slug}`,
            // A gradebook column for grade passback (scores are 0–100).
            lineItem: { scoreMaximum: 100, label: title },
          },
        ],
      };
      if (request.data !== undefined) claims[`${DL_CLAIM}data`] = request.data;
      const jwt = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(request.clientId)
        .setAudience(request.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + RESPONSE_TTL_S)
        .sign(key.privateKey);
      return { slug: m.slug, version: m.version, title, jwt };
    }),
  );
}
