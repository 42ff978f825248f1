import type { Config } from '../../config';
import { secretKeys } from '../xapi';

/**
 * What LTI Advantage needs from the configuration, set once by buildApp (as xAPI's is): the key that opens
 * the tool's stored private key (XAPI_SECRET_KEY: one key-encryption key per deployment; docs/lti.md "The
 * tool's key"), whether addresses must be https (production), and whether outbound calls may reach private
 * networks (OUTBOUND_PRIVATE_NETWORK). `keys`: that key and the earlier ones (XAPI_SECRET_KEY_PREVIOUS);
 * `toolKeyMaxAgeDays`: how long a tool key signs before the next takes over (LTI_TOOL_KEY_MAX_AGE_DAYS).
 */
type LtiRuntime = Readonly<{ key: Buffer | undefined; keys: readonly Buffer[]; toolKeyMaxAgeDays: number; requireHttps: boolean; allowPrivateNetwork: boolean }>;

let runtime: LtiRuntime = { key: undefined, keys: [], toolKeyMaxAgeDays: 0, requireHttps: true, allowPrivateNetwork: false };

export function configureLti(config: Pick<Config, 'xapiSecretKey' | 'previousXapiSecretKeys' | 'ltiToolKeyMaxAgeDays' | 'isProduction' | 'outboundPrivateNetwork'>): void {
  runtime = Object.freeze({ key: config.xapiSecretKey, keys: secretKeys(config), toolKeyMaxAgeDays: config.ltiToolKeyMaxAgeDays, requireHttps: config.isProduction, allowPrivateNetwork: config.outboundPrivateNetwork === 'allow' });
}

export function ltiRuntime(): LtiRuntime {
  return runtime;
}
