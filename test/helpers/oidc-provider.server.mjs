// A real OpenID Connect identity provider (oidc-provider) for the SSO tests, run as a child process so
// jest never has to load the ESM-only package. Settings come as JSON in OIDC_TEST_SETTINGS:
// { clientId, clientSecret, redirectUri, postLogoutRedirectUri, accountsFile, endSession }. Accounts are re-read from
// accountsFile on each sign-in, so a test can change a person's claims (e.g. the email) between sign-ins.
// Prints "ISSUER <url>" once listening on a free localhost port; devInteractions handle login and consent.
// RP-initiated logout (end_session_endpoint) is on, as at Entra, with the app's sign-in page registered;
// endSession: false turns it off, as at Google (no end_session_endpoint in discovery).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import Provider, { interactionPolicy } from 'oidc-provider';

// prompt=select_account, as Google and Entra accept it: the dev login screen stands in for the account
// chooser, and it is shown even when this browser is already signed in here (no silent sign-in as the
// previous person on a shared computer). Without a prompt, an existing session here signs in silently.
const { Check, Prompt, base } = interactionPolicy;
const policy = base();
policy.get('login').checks.add(
  new Check('select_account_requested', 'account selection was requested', (ctx) =>
    ctx.oidc.prompts.has('select_account') && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
  ),
);
const selectAccount = new Prompt({ name: 'select_account', requestable: true });
selectAccount.checks.remove('select_account_prompt');
policy.add(selectAccount);

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
      post_logout_redirect_uris: [settings.postLogoutRedirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  // xms_edov: Entra's "email domain verified by the tenant", sent by Entra-like accounts of the tests.
  claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name'] },
  interactions: { policy },
  features: { rpInitiatedLogout: { enabled: settings.endSession !== false } },
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
