import { createPrivateKey } from 'node:crypto';
import { loadConfig } from '../../../src/config';
import { makeKeyPair } from '../../helpers/saml-idp';
import { configProblems } from '../../helpers/config';

/** SAML Single Logout settings (docs/sso.md, "Single Logout"): SAML_IDP_SLO_URL and the SP signing key pair. */

const idp = makeKeyPair('Config test IdP');
const sp = makeKeyPair('Config test SP');
const other = makeKeyPair('Another SP');
const saml = { SAML_IDP_ENTRY_POINT: 'https://adfs.district.test/adfs/ls/', SAML_IDP_CERT: idp.cert, SAML_IDP_ISSUER: 'http://adfs.district.test/adfs/services/trust', BASE_URL: 'https://training.district.test' };
const slo = { SAML_IDP_SLO_URL: 'https://adfs.district.test/adfs/ls/?wa=wsignout1.0', SAML_SP_PRIVATE_KEY: sp.key, SAML_SP_CERT: sp.cert };
const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: 'mongodb://db.example/training' };

const problemsOf = (env: Record<string, string>) => configProblems({ NODE_ENV: 'test', ...env });

const bodyOf = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

describe('SAML Single Logout configuration', () => {
  test('when nothing about Single Logout is set, then SAML sign-in is configured without it (sign-out stays local)', () => {
    const config = loadConfig({ NODE_ENV: 'test', ...saml });
    expect(config.saml).toBeDefined();
    expect(config.saml!.slo).toBeUndefined();
  });

  test('when the SLO URL and a matching key pair are set, then Single Logout is on with our SLO endpoint and the PEMs', () => {
    const config = loadConfig({ NODE_ENV: 'test', ...saml, ...slo });
    expect(config.saml!.slo).toEqual({
      idpSloUrl: slo.SAML_IDP_SLO_URL,
      spSloUrl: 'https://training.district.test/auth/saml/slo',
      privateKey: expect.stringContaining('PRIVATE KEY-----'),
      cert: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
    });
    expect(createPrivateKey(config.saml!.slo!.privateKey).asymmetricKeyType).toBe('rsa');
  });

  test('when the key and certificate are given as base64 bodies, or as one-line PEMs with literal \\n, then they are accepted', () => {
    expect(loadConfig({ NODE_ENV: 'test', ...saml, ...slo, SAML_SP_PRIVATE_KEY: bodyOf(sp.key), SAML_SP_CERT: bodyOf(sp.cert) }).saml!.slo).toBeDefined();
    const oneLine = (pem: string) => pem.trim().replace(/\n/g, '\\n');
    expect(loadConfig({ NODE_ENV: 'test', ...saml, ...slo, SAML_SP_PRIVATE_KEY: oneLine(sp.key), SAML_SP_CERT: oneLine(sp.cert) }).saml!.slo).toBeDefined();
  });

  test('when the SLO URL is set without a key pair, then config refuses and says what is needed', () => {
    expect(problemsOf({ ...saml, SAML_IDP_SLO_URL: slo.SAML_IDP_SLO_URL })).toEqual([expect.stringMatching(/^SAML_IDP_SLO_URL: needs SAML_SP_PRIVATE_KEY and SAML_SP_CERT/)]);
  });

  test('when only the key or only the certificate is set, then config names the missing one', () => {
    expect(problemsOf({ ...saml, SAML_IDP_SLO_URL: slo.SAML_IDP_SLO_URL, SAML_SP_PRIVATE_KEY: sp.key })).toEqual([expect.stringMatching(/^SAML_SP_CERT: required when SAML_SP_PRIVATE_KEY is set/)]);
    expect(problemsOf({ ...saml, SAML_IDP_SLO_URL: slo.SAML_IDP_SLO_URL, SAML_SP_CERT: sp.cert })).toEqual([expect.stringMatching(/^SAML_SP_PRIVATE_KEY: required when SAML_SP_CERT is set/)]);
  });

  test('when the key or the certificate cannot be parsed, then config names the variable', () => {
    expect(problemsOf({ ...saml, ...slo, SAML_SP_PRIVATE_KEY: 'not a key!' })).toEqual([expect.stringMatching(/^SAML_SP_PRIVATE_KEY: is not a PEM private key/)]);
    expect(problemsOf({ ...saml, ...slo, SAML_SP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nTUlJQ2Zha2U=\n-----END PRIVATE KEY-----' })).toEqual([expect.stringMatching(/^SAML_SP_PRIVATE_KEY: is not a parseable private key/)]);
    expect(problemsOf({ ...saml, ...slo, SAML_SP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nTUlJQ2Zha2U=' })).toEqual([expect.stringMatching(/^SAML_SP_PRIVATE_KEY: has a "-----BEGIN" line but no complete private key block/)]);
    expect(problemsOf({ ...saml, ...slo, SAML_SP_CERT: '-----BEGIN CERTIFICATE-----\nTUlJQ2Zha2U=\n-----END CERTIFICATE-----' })).toEqual(['SAML_SP_CERT: the certificate is not a parseable X.509 certificate']);
  });

  test('when the certificate belongs to another key, or two certificates are given, then config refuses', () => {
    expect(problemsOf({ ...saml, ...slo, SAML_SP_CERT: other.cert })).toEqual([expect.stringMatching(/^SAML_SP_CERT: does not belong to SAML_SP_PRIVATE_KEY/)]);
    expect(problemsOf({ ...saml, ...slo, SAML_SP_CERT: sp.cert + other.cert })).toEqual([expect.stringMatching(/^SAML_SP_CERT: give exactly one certificate/)]);
  });

  test('when the SLO URL is set without SAML sign-in, then config says it needs it', () => {
    expect(problemsOf(slo)).toEqual([expect.stringMatching(/^SAML_IDP_SLO_URL: needs SAML sign-in/)]);
  });

  test('when the SLO URL is not https in production, then config refuses; not a URL anywhere, likewise', () => {
    expect(problemsOf({ ...production, ...saml, ...slo, SAML_IDP_SLO_URL: 'http://adfs.district.test/adfs/ls/' })).toEqual(['SAML_IDP_SLO_URL: must use https:// in production']);
    expect(problemsOf({ ...saml, ...slo, SAML_IDP_SLO_URL: 'adfs logout' })).toEqual([expect.stringMatching(/^SAML_IDP_SLO_URL: must be a URL/)]);
    expect(loadConfig({ ...production, ...saml, ...slo }).saml!.slo).toBeDefined();
  });

  test('when a key pair is set without the SLO URL, then it is checked but Single Logout stays off', () => {
    expect(loadConfig({ NODE_ENV: 'test', ...saml, SAML_SP_PRIVATE_KEY: sp.key, SAML_SP_CERT: sp.cert }).saml!.slo).toBeUndefined();
    expect(problemsOf({ ...saml, SAML_SP_PRIVATE_KEY: sp.key, SAML_SP_CERT: other.cert })).toEqual([expect.stringMatching(/^SAML_SP_CERT: does not belong/)]);
  });
});
