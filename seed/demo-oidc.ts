import { loadConfig, type Config } from '../src/config';
import { startTestIdp } from '../test/helpers/oidc-provider';

/**
 * DEMO_OIDC=1 with `npm start`: the same local oidc-provider the SSO tests use (loopback only, "enter any
 * login" screens), with the demo accounts as its users, and the app configured for it. Never in production
 * (config refuses DEMO_OIDC there, and npm start refuses production).
 */
export async function startDemoIdp(config: Config, emails: readonly string[]): Promise<{ issuer: string; config: Config }> {
  const idp = await startTestIdp(`${config.baseUrl}/auth/oidc/callback`);
  idp.setAccounts(Object.fromEntries(emails.map((email) => [email, { email, email_verified: true }])));
  process.once('exit', () => void idp.close());
  const withSso = loadConfig({
    ...process.env,
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_LABEL: 'Demo IdP',
    SESSION_SECRET: config.sessionSecret,
  });
  return { issuer: idp.issuer, config: withSso };
}
