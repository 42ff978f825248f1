import type { Config } from '../../config';

/**
 * What the xAPI feature needs from the configuration, set once by buildApp (as the mailer is): the key
 * that opens the stored LRS secrets, the address the IRIs start from, and whether https is required.
 */
type XapiRuntime = Readonly<{ key: Buffer | undefined; baseUrl: string; requireHttps: boolean; allowPrivateNetwork: boolean }>;

let runtime: XapiRuntime = { key: undefined, baseUrl: 'http://localhost', requireHttps: true, allowPrivateNetwork: false };

export function configureXapi(config: Pick<Config, 'xapiSecretKey' | 'baseUrl' | 'isProduction' | 'outboundPrivateNetwork'>): void {
  runtime = Object.freeze({ key: config.xapiSecretKey, baseUrl: config.baseUrl, requireHttps: config.isProduction, allowPrivateNetwork: config.outboundPrivateNetwork === 'allow' });
}

export function xapiRuntime(): XapiRuntime {
  return runtime;
}

/** Where a feed's IRIs start: the base kept with its settings, else (saved before it was kept) BASE_URL. */
export function feedStatementContext(feed: { iriBase?: string | null } | null | undefined, districtSlug: string): { baseUrl: string; districtSlug: string } {
  return { baseUrl: feed?.iriBase || runtime.baseUrl, districtSlug };
}
