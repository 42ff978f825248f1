import type { Config } from '../../config';

/**
 * What LTI Advantage needs from the configuration, set once by buildApp (as xAPI's is): the key that opens
 * the tool's stored private key (XAPI_SECRET_KEY: one key-encryption key per deployment; docs/lti.md "The
 * tool's key"), whether addresses must be https (production), and whether outbound calls may reach private
 * networks (OUTBOUND_PRIVATE_NETWORK).
 */
type LtiRuntime = Readonly<{ key: Buffer | undefined; requireHttps: boolean; allowPrivateNetwork: boolean }>;

let runtime: LtiRuntime = { key: undefined, requireHttps: true, allowPrivateNetwork: false };

export function configureLti(config: Pick<Config, 'xapiSecretKey' | 'isProduction' | 'outboundPrivateNetwork'>): void {
  runtime = Object.freeze({ key: config.xapiSecretKey, requireHttps: config.isProduction, allowPrivateNetwork: config.outboundPrivateNetwork === 'allow' });
}

export function ltiRuntime(): LtiRuntime {
  return runtime;
}
