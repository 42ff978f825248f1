/**
 * SAML settings for signed AuthnRequests and encrypted assertions (docs/sso.md, "Signed requests and encrypted
 * assertions"): SAML_SIGN_AUTHN_REQUESTS, SAML_SP_DECRYPTION_KEY + SAML_SP_DECRYPTION_CERT, SAML_SP_DECRYPTION_KEY_PREVIOUS
 * and SAML_REQUIRE_ENCRYPTED_ASSERTIONS. Pure: config.ts imports this file.
 */
import { createPublicKey } from 'node:crypto';
import { parsePrivateKey, parseSpKeyPair, splitPrivateKeys } from './saml-settings';

export type SamlKeyPair = Readonly<{ privateKey: string; cert: string }>;

export type SamlDecryptionSettings = Readonly<{
  /** The private keys an encrypted assertion or NameID is opened with: the current one first, then the previous ones. */
  keys: readonly string[];
  /** The current key's certificate: published in the metadata as KeyDescriptor use="encryption". */
  cert: string;
  /** SAML_REQUIRE_ENCRYPTED_ASSERTIONS: a response with a plain (unencrypted) assertion is refused. */
  required: boolean;
}>;

type CryptoValues = {
  SAML_SIGN_AUTHN_REQUESTS?: boolean;
  SAML_SP_PRIVATE_KEY?: string;
  SAML_SP_CERT?: string;
  SAML_SP_DECRYPTION_KEY?: string;
  SAML_SP_DECRYPTION_CERT?: string;
  SAML_SP_DECRYPTION_KEY_PREVIOUS?: string;
  SAML_REQUIRE_ENCRYPTED_ASSERTIONS?: boolean;
};

const DECRYPTION = { key: 'SAML_SP_DECRYPTION_KEY', cert: 'SAML_SP_DECRYPTION_CERT' };
const given = (v: string | undefined) => v !== undefined && v.trim() !== '';
const publicDer = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });

/**
 * Reads the four settings; returns every problem (each naming its variable), or what the SAML clients need.
 * `samlOn`: the three SAML_IDP_* settings are given (these only make sense with SAML sign-in).
 */
export function parseSamlCrypto(values: CryptoValues, samlOn: boolean): { problems: string[]; requestSigning?: SamlKeyPair; decryption?: SamlDecryptionSettings } {
  const problems: string[] = [];
  const needsSaml = '(SAML_IDP_ENTRY_POINT, SAML_IDP_CERT and SAML_IDP_ISSUER)';

  // Signing: opt-in. The key pair may already exist for Single Logout, and an IdP that does not expect a signature
  // on the AuthnRequest (ADFS without the request-signing certificate) refuses a signed one.
  let requestSigning: SamlKeyPair | undefined;
  if (values.SAML_SIGN_AUTHN_REQUESTS) {
    if (!samlOn) problems.push(`SAML_SIGN_AUTHN_REQUESTS: needs SAML sign-in ${needsSaml}`);
    if (!given(values.SAML_SP_PRIVATE_KEY) && !given(values.SAML_SP_CERT)) {
      problems.push('SAML_SIGN_AUTHN_REQUESTS: needs SAML_SP_PRIVATE_KEY and SAML_SP_CERT (the requests are signed with that key pair; make one with openssl, docs/sso.md)');
    }
    // A bad key pair is reported by config itself (parseSpKeyPair with the default names).
    const pair = parseSpKeyPair(values.SAML_SP_PRIVATE_KEY, values.SAML_SP_CERT);
    if (pair.key && pair.cert) requestSigning = Object.freeze({ privateKey: pair.key, cert: pair.cert });
  }

  const current = parseSpKeyPair(values.SAML_SP_DECRYPTION_KEY, values.SAML_SP_DECRYPTION_CERT, DECRYPTION);
  problems.push(...current.problems);
  if (given(values.SAML_SP_DECRYPTION_KEY) && !samlOn) problems.push(`SAML_SP_DECRYPTION_KEY: needs SAML sign-in ${needsSaml}`);

  const previousValues = splitPrivateKeys(values.SAML_SP_DECRYPTION_KEY_PREVIOUS);
  if (previousValues.length > 0 && !given(values.SAML_SP_DECRYPTION_KEY)) {
    problems.push('SAML_SP_DECRYPTION_KEY_PREVIOUS: set SAML_SP_DECRYPTION_KEY and SAML_SP_DECRYPTION_CERT to the new key pair too (a previous key only opens what the IdP still encrypts to it; docs/rotation.md)');
  }
  const previous: string[] = [];
  previousValues.forEach((value, i) => {
    const parsed = parsePrivateKey(value, `SAML_SP_DECRYPTION_KEY_PREVIOUS: key ${i + 1}`);
    if (parsed.problem) return problems.push(parsed.problem);
    if (current.key && publicDer(parsed.key!).equals(publicDer(current.key))) {
      return problems.push(`SAML_SP_DECRYPTION_KEY_PREVIOUS: key ${i + 1} is the current SAML_SP_DECRYPTION_KEY`);
    }
    previous.push(parsed.key!);
  });

  if (values.SAML_REQUIRE_ENCRYPTED_ASSERTIONS && !given(values.SAML_SP_DECRYPTION_KEY)) {
    problems.push('SAML_REQUIRE_ENCRYPTED_ASSERTIONS: needs SAML_SP_DECRYPTION_KEY and SAML_SP_DECRYPTION_CERT (the key the IdP encrypts to)');
  }
  if (problems.length > 0) return { problems };
  const decryption = current.key && current.cert
    ? Object.freeze({ keys: Object.freeze([current.key, ...previous]), cert: current.cert, required: values.SAML_REQUIRE_ENCRYPTED_ASSERTIONS ?? false })
    : undefined;
  return { problems, requestSigning, decryption };
}
