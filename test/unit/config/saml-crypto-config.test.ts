import { loadConfig } from '../../../src/config';
import { makeKeyPair } from '../../helpers/saml-idp';
import { configProblems } from '../../helpers/config';

/*
 * Signed AuthnRequests and encrypted assertions (docs/sso.md, "Signed requests and encrypted assertions"):
 * SAML_SIGN_AUTHN_REQUESTS, SAML_SP_DECRYPTION_KEY/_CERT, SAML_SP_DECRYPTION_KEY_PREVIOUS, SAML_REQUIRE_ENCRYPTED_ASSERTIONS.
 */

const idp = makeKeyPair('Config test IdP');
const sp = makeKeyPair('Config test SP');
const enc = makeKeyPair('Config test SP encryption');
const old1 = makeKeyPair('Config test SP encryption, before');
const old2 = makeKeyPair('Config test SP encryption, long before');
const saml = { SAML_IDP_ENTRY_POINT: 'https://adfs.district.test/adfs/ls/', SAML_IDP_CERT: idp.cert, SAML_IDP_ISSUER: 'http://adfs.district.test/adfs/services/trust', BASE_URL: 'https://training.district.test' };
const signingPair = { SAML_SP_PRIVATE_KEY: sp.key, SAML_SP_CERT: sp.cert };
const decryptionPair = { SAML_SP_DECRYPTION_KEY: enc.key, SAML_SP_DECRYPTION_CERT: enc.cert };

const problemsOf = (env: Record<string, string>) => configProblems({ NODE_ENV: 'test', ...env });
const samlOf = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...saml, ...env }).saml!;
const bodyOf = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
const sameKey = (a: string, b: string) => bodyOf(a) === bodyOf(b);

describe('signed AuthnRequests', () => {
  test('when nothing new is set, then requests are unsigned and nothing is decrypted', () => {
    expect(samlOf({})).toMatchObject({ requestSigning: undefined, decryption: undefined });
    // A key pair alone (for Single Logout) does not sign AuthnRequests: an IdP that does not expect it would refuse them.
    expect(samlOf(signingPair).requestSigning).toBeUndefined();
  });

  test('when SAML_SIGN_AUTHN_REQUESTS is true with the SP key pair, then requests are signed with it', () => {
    const settings = samlOf({ ...signingPair, SAML_SIGN_AUTHN_REQUESTS: 'true' });
    expect(sameKey(settings.requestSigning!.privateKey, sp.key)).toBe(true);
    expect(sameKey(settings.requestSigning!.cert, sp.cert)).toBe(true);
    expect(samlOf({ ...signingPair, SAML_SIGN_AUTHN_REQUESTS: 'false' }).requestSigning).toBeUndefined();
  });

  test('when SAML_SIGN_AUTHN_REQUESTS is true without a key pair or without SAML sign-in, then config names what is missing', () => {
    expect(problemsOf({ ...saml, SAML_SIGN_AUTHN_REQUESTS: 'true' })).toEqual([expect.stringMatching(/^SAML_SIGN_AUTHN_REQUESTS: needs SAML_SP_PRIVATE_KEY and SAML_SP_CERT/)]);
    expect(problemsOf({ ...signingPair, SAML_SIGN_AUTHN_REQUESTS: 'true' })).toEqual([expect.stringMatching(/^SAML_SIGN_AUTHN_REQUESTS: needs SAML sign-in/)]);
    expect(problemsOf({ ...saml, SAML_SIGN_AUTHN_REQUESTS: 'sometimes' })).toEqual([expect.stringMatching(/^SAML_SIGN_AUTHN_REQUESTS: /)]);
    // A broken key pair is named once, by its own variable.
    expect(problemsOf({ ...saml, ...signingPair, SAML_SP_CERT: enc.cert, SAML_SIGN_AUTHN_REQUESTS: 'true' })).toEqual([expect.stringMatching(/^SAML_SP_CERT: does not belong to SAML_SP_PRIVATE_KEY/)]);
  });
});

describe('decryption keys', () => {
  test('when the decryption key pair is set, then assertions are decrypted with it and plain ones still accepted', () => {
    const { decryption } = samlOf(decryptionPair);
    expect(decryption!.keys).toHaveLength(1);
    expect(sameKey(decryption!.keys[0], enc.key)).toBe(true);
    expect(sameKey(decryption!.cert, enc.cert)).toBe(true);
    expect(decryption!.required).toBe(false);
    // One-line PEMs and base64 bodies, as for the signing pair.
    expect(samlOf({ SAML_SP_DECRYPTION_KEY: bodyOf(enc.key), SAML_SP_DECRYPTION_CERT: enc.cert.trim().replace(/\n/g, '\\n') }).decryption).toBeDefined();
  });

  test('when only the key or only the certificate is set, or they do not belong together, or one does not parse, then config names the variable', () => {
    expect(problemsOf({ ...saml, SAML_SP_DECRYPTION_KEY: enc.key })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_CERT: required when SAML_SP_DECRYPTION_KEY is set/)]);
    expect(problemsOf({ ...saml, SAML_SP_DECRYPTION_CERT: enc.cert })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_KEY: required when SAML_SP_DECRYPTION_CERT is set/)]);
    expect(problemsOf({ ...saml, ...decryptionPair, SAML_SP_DECRYPTION_CERT: sp.cert })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_CERT: does not belong to SAML_SP_DECRYPTION_KEY/)]);
    expect(problemsOf({ ...saml, ...decryptionPair, SAML_SP_DECRYPTION_KEY: 'not a key!' })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_KEY: is not a PEM private key/)]);
    expect(problemsOf({ ...decryptionPair })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_KEY: needs SAML sign-in/)]);
  });

  test('when the signing key pair is reused for decryption, then that is accepted (one certificate for both uses)', () => {
    const settings = samlOf({ ...signingPair, SAML_SIGN_AUTHN_REQUESTS: 'true', SAML_SP_DECRYPTION_KEY: sp.key, SAML_SP_DECRYPTION_CERT: sp.cert });
    expect(sameKey(settings.decryption!.cert, settings.requestSigning!.cert)).toBe(true);
  });

  test('when previous keys are given (PEMs one after another, or base64 bodies with commas), then they are tried after the current one', () => {
    const pems = samlOf({ ...decryptionPair, SAML_SP_DECRYPTION_KEY_PREVIOUS: `${old1.key}\n${old2.key}` }).decryption!.keys;
    expect(pems).toHaveLength(3);
    expect([enc.key, old1.key, old2.key].every((k, i) => sameKey(pems[i], k))).toBe(true);
    const bodies = samlOf({ ...decryptionPair, SAML_SP_DECRYPTION_KEY_PREVIOUS: `${bodyOf(old1.key)}, ${bodyOf(old2.key)}` }).decryption!.keys;
    expect(bodies).toHaveLength(3);
  });

  test('when a previous key has no current key, is the current key, or does not parse, then config says which', () => {
    expect(problemsOf({ ...saml, SAML_SP_DECRYPTION_KEY_PREVIOUS: old1.key })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_KEY_PREVIOUS: set SAML_SP_DECRYPTION_KEY and SAML_SP_DECRYPTION_CERT to the new key pair too/)]);
    expect(problemsOf({ ...saml, ...decryptionPair, SAML_SP_DECRYPTION_KEY_PREVIOUS: `${old1.key}\n${enc.key}` })).toEqual(['SAML_SP_DECRYPTION_KEY_PREVIOUS: key 2 is the current SAML_SP_DECRYPTION_KEY']);
    expect(problemsOf({ ...saml, ...decryptionPair, SAML_SP_DECRYPTION_KEY_PREVIOUS: `${bodyOf(old1.key)},not-a-key!` })).toEqual([expect.stringMatching(/^SAML_SP_DECRYPTION_KEY_PREVIOUS: key 2: is not a PEM private key/)]);
  });

  test('when SAML_REQUIRE_ENCRYPTED_ASSERTIONS is true, then it needs the decryption key pair', () => {
    expect(samlOf({ ...decryptionPair, SAML_REQUIRE_ENCRYPTED_ASSERTIONS: 'true' }).decryption!.required).toBe(true);
    expect(problemsOf({ ...saml, SAML_REQUIRE_ENCRYPTED_ASSERTIONS: 'true' })).toEqual([expect.stringMatching(/^SAML_REQUIRE_ENCRYPTED_ASSERTIONS: needs SAML_SP_DECRYPTION_KEY and SAML_SP_DECRYPTION_CERT/)]);
  });
});
