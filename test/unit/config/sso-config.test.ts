import { loadConfig } from '../../../src/config';
import { configProblems } from '../../helpers/config';

const OIDC = { OIDC_ISSUER: 'https://accounts.google.com', OIDC_CLIENT_ID: 'client-1', OIDC_CLIENT_SECRET: 'secret-1' };

const problemsOf = (env: Record<string, string>) => configProblems({ NODE_ENV: 'test', ...env });

describe('single sign-on configuration', () => {
  test('when nothing is set, then SSO is off and password sign-in is on', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.oidc).toBeUndefined();
    expect(config.passwordSignIn).toBe(true);
  });

  test('when all three are set, then the callback URL comes from BASE_URL and the label has a default', () => {
    const config = loadConfig({ NODE_ENV: 'test', BASE_URL: 'https://training.example.org/', ...OIDC });
    expect(config.oidc).toEqual({ ...{ issuer: OIDC.OIDC_ISSUER, clientId: 'client-1', clientSecret: 'secret-1' }, label: 'single sign-on', redirectUri: 'https://training.example.org/auth/oidc/callback', emailDomains: [], prompt: 'select_account', postLogoutRedirectUri: 'https://training.example.org/login' });
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC, OIDC_LABEL: 'Google' }).oidc?.label).toBe('Google');
  });

  test('when only some are set, then every missing one is named', () => {
    const problems = problemsOf({ OIDC_ISSUER: OIDC.OIDC_ISSUER });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^OIDC_CLIENT_ID: required when OIDC_ISSUER is set/);
    expect(problems[1]).toMatch(/^OIDC_CLIENT_SECRET: required when OIDC_ISSUER is set/);
  });

  test('when the issuer is not a URL, or plain http in production, then it is refused', () => {
    expect(problemsOf({ ...OIDC, OIDC_ISSUER: 'accounts.google.com' })[0]).toMatch(/^OIDC_ISSUER: must be a URL/);
    const prod = problemsOf({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: 'mongodb://db', BASE_URL: 'https://t.example', ...OIDC, OIDC_ISSUER: 'http://idp.example' });
    expect(prod).toEqual(['OIDC_ISSUER: must use https:// in production']);
  });

  test('when PASSWORD_SIGN_IN is off, then SSO must be configured; a wrong value is named', () => {
    expect(problemsOf({ PASSWORD_SIGN_IN: 'off' })[0]).toMatch(/^PASSWORD_SIGN_IN: off needs single sign-on/);
    expect(problemsOf({ PASSWORD_SIGN_IN: 'no' })[0]).toMatch(/^PASSWORD_SIGN_IN: must be on or off/);
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC, PASSWORD_SIGN_IN: 'off' }).passwordSignIn).toBe(false);
  });

  test('when OIDC_EMAIL_DOMAINS lists the district\'s domains, then they are kept lower-case, trimmed and once each', () => {
    const config = loadConfig({ NODE_ENV: 'test', ...OIDC, OIDC_EMAIL_DOMAINS: ' LAUSD.net, lausd.org ,lausd.net' });
    expect(config.oidc?.emailDomains).toEqual(['lausd.net', 'lausd.org']);
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC, OIDC_EMAIL_DOMAINS: '  ' }).oidc?.emailDomains).toEqual([]);
  });

  test('when OIDC_EMAIL_DOMAINS has a wildcard, an "@", a non-domain or an empty entry, then each is named', () => {
    const problems = problemsOf({ ...OIDC, OIDC_EMAIL_DOMAINS: '*.lausd.net,@lausd.org,maria@lausd.net,lausd,lausd.net,,bad_domain.org,-x.org' });
    expect(problems).toEqual([
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "\*\.lausd\.net" — wildcards are not allowed/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "@lausd\.org" — list domains without "@"/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "maria@lausd\.net" — list domains without "@"/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "lausd" is not a domain name/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: has an empty entry/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "bad_domain\.org" is not a domain name/),
      expect.stringMatching(/^OIDC_EMAIL_DOMAINS: "-x\.org" is not a domain name/),
    ]);
  });

  test('when OIDC_EMAIL_DOMAINS lists a public mail domain, then it is refused whatever its case', () => {
    for (const domain of ['gmail.com', 'Outlook.com', 'yahoo.com', 'icloud.com', 'hotmail.com']) {
      expect(problemsOf({ ...OIDC, OIDC_EMAIL_DOMAINS: `lausd.net,${domain}` })).toEqual([
        `OIDC_EMAIL_DOMAINS: "${domain}" is a public mail domain (anyone can get an address there); list only your district's own domains`,
      ]);
    }
  });

  test('when OIDC_PROMPT is unset, select_account or login, then that prompt is sent; off sends none; anything else is named', () => {
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC }).oidc?.prompt).toBe('select_account');
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC, OIDC_PROMPT: 'login' }).oidc?.prompt).toBe('login');
    expect(loadConfig({ NODE_ENV: 'test', ...OIDC, OIDC_PROMPT: 'off' }).oidc?.prompt).toBeUndefined();
    for (const value of ['none', 'consent', 'LOGIN', 'select_account login', '']) {
      expect(problemsOf({ ...OIDC, OIDC_PROMPT: value })).toEqual(['OIDC_PROMPT: must be select_account, login or off']);
    }
  });

  test('when the issuer is Microsoft\'s multi-tenant endpoint, then it is refused (any tenant could sign in)', () => {
    for (const tenant of ['common', 'organizations', 'consumers']) {
      expect(problemsOf({ ...OIDC, OIDC_ISSUER: `https://login.microsoftonline.com/${tenant}/v2.0` })[0]).toMatch(/^OIDC_ISSUER: accepts every Microsoft tenant/);
    }
    expect(problemsOf({ ...OIDC, OIDC_ISSUER: 'https://login.microsoftonline.com/8f5a3e2c-0000-4000-8000-000000000001/v2.0' })).toEqual([]);
  });

  test('when DEMO_OIDC is set in production, then it is refused', () => {
    const prod = problemsOf({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: 'mongodb://db', BASE_URL: 'https://t.example', DEMO_OIDC: 'true' });
    expect(prod).toEqual(['DEMO_OIDC: not allowed in production']);
    expect(loadConfig({ NODE_ENV: 'test', DEMO_OIDC: '1' }).demoOidc).toBe(true);
  });
});
