// A real OpenID Connect identity provider (oidc-provider) for the SSO tests, run as a child process so
// jest never has to load the ESM-only package. Settings come as JSON in OIDC_TEST_SETTINGS:
// { clientId, clientSecret, redirectUri, accountsFile }. Accounts are re-read from accountsFile on each
// sign-in, so a test can change a person's claims (e.g. the email) between sign-ins. Prints
// "ISSUER <url>" once listening on a free localhost port; devInteractions handle login and consent.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.env.OIDC_TEST_SETTINGS);
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      redirect_uris: [settings.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  async findAccount(_ctx, id) {
    const accounts = JSON.parse(readFileSync(settings.accountsFile, 'utf8'));
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.stack}\n`));
server.on('request', provider.callback());
process.stdout.write(`ISSUER ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
