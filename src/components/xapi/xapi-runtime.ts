import type { Config } from '../../config';

/**
 * What the xAPI feature needs from the configuration, set once by buildApp (as the mailer is): the key
 * that opens the stored LRS secrets, the address the IRIs start from, and whether https is required.
 */
/** `keys`: the current XAPI_SECRET_KEY first, then the earlier ones that still open what they encrypted (empty without a key). */
type XapiRuntime = Readonly<{ key: Buffer | undefined; keys: readonly Buffer[]; baseUrl: string; requireHttps: boolean; allowPrivateNetwork: boolean }>;

let runtime: XapiRuntime = { key: undefined, keys: [], baseUrl: 'http://localhost', requireHttps: true, allowPrivateNetwork: false };

export function configureXapi(config: Pick<Config, 'xapiSecretKey' | 'previousXapiSecretKeys' | 'baseUrl' | 'isProduction' | 'outboundPrivateNetwork'>): void {
  runtime = Object.freeze({ key: config.xapiSecretKey, keys: secretKeys(config), baseUrl: config.baseUrl, requireHttps: config.isProduction, allowPrivateNetwork: config.outboundPrivateNetwork === 'allow' });
}

export function xapiRuntime(): XapiRuntime {
  return runtime;
}

/** Where a feed's IRIs start: the base kept with its settings, else (saved before it was kept) BASE_URL. */
export function feedStatementContext(feed: { iriBase?: string | null } | null | undefined, districtSlug: string): { baseUrl: string; districtSlug: string } {
  return { baseUrl: feed?.iriBase || runtime.baseUrl, districtSlug };
}

/** The current XAPI_SECRET_KEY and the earlier ones, in the order openSecret tries them. */
export function secretKeys(config: Pick<Config, 'xapiSecretKey' | 'previousXapiSecretKeys'>): readonly Buffer[] {
  return config.xapiSecretKey ? Object.freeze([config.xapiSecretKey, ...config.previousXapiSecretKeys]) : [];
}
