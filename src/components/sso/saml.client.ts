import { SAML, SamlStatusError, type Profile } from '@node-saml/passport-saml';
import type { SamlSettings } from '../../config';
import { safeRedirectPath } from '../auth';
import type { SsoIdentity } from './sso.service';
import { MongoSamlCache, claimSamlRequest, findBoundRequest, withBinding } from './saml.cache';
import { hashBinding } from '../../shared/login-binding';
import { TRANSIENT_NAME_ID } from './saml-settings';
import type { SamlSignInRecord } from './saml-slo';
import { samlPartyOptions } from './saml-options';
import { inspectResponse, signRedirectUrl } from './saml-crypto';
import { samlMetadata } from './saml-metadata';

/** Clocks of the IdP and this server may differ this much (NotBefore / NotOnOrAfter). */
const CLOCK_SKEW_MS = 60 * 1000;
/** Longer than this is not a NameID we can store as a link (SAML caps it at 256). */
const MAX_NAME_ID = 500;

/**
 * Why a response was not accepted: `expired`, `denied` and `unbound` (not the browser that started the sign-in,
 * or its binding expired) get their own page, the rest "could not be verified"; `encryption` (an assertion we cannot
 * open, or a plain one while SAML_REQUIRE_ENCRYPTED_ASSERTIONS is on) adds what the district office should do.
 */
export type SamlFailure = { kind: 'invalid' | 'expired' | 'denied' | 'transient' | 'unbound' | 'encryption'; code: string };
/** `signIn`: what a LogoutRequest for this sign-in needs (kept in the session only when Single Logout is on). */
export type SamlOutcome = { ok: true; identity: SsoIdentity; next: string; signIn: SamlSignInRecord } | { ok: false; failure: SamlFailure };

/**
 * SAML 2.0 single sign-on through node-saml (@node-saml/passport-saml): the AuthnRequest (redirect binding),
 * the checks on the IdP's response, and the SP metadata. The checks, all required:
 * - a valid signature by one of SAML_IDP_CERT on the response or on the assertion (whichever the IdP signs);
 * - InResponseTo names a request we issued in the last 15 minutes (MongoDB, any instance) and not yet
 *   answered: unsolicited (IdP-initiated) and replayed responses are refused;
 * - Conditions and SubjectConfirmationData times, with a minute of clock skew; the audience is our entity ID;
 * - the assertion's Issuer is SAML_IDP_ISSUER; the SubjectConfirmationData Recipient, and the response's
 *   Destination when present, is our ACS URL;
 * - the response answers the very request started in the posting browser (its binding cookie; login CSRF).
 * With SAML_SIGN_AUTHN_REQUESTS the AuthnRequest is signed; with SAML_SP_DECRYPTION_KEY an encrypted assertion is
 * opened with it (or with a previous key during a rollover: one node-saml instance per key, as node-saml takes one).
 */
export class SamlClient {
  /** One per decryption key, current first; just one when no key is configured. */
  private readonly samls: SAML[];

  constructor(readonly settings: SamlSettings) {
    const keys: (string | undefined)[] = settings.decryption ? [...settings.decryption.keys] : [undefined];
    this.samls = keys.map((decryptionPvk) => new SAML({
      ...samlPartyOptions(settings),
      entryPoint: settings.entryPoint,
      // ADFS with Windows sign-in (Kerberos) refuses an exact PasswordProtectedTransport request.
      disableRequestedAuthnContext: true,
      acceptedClockSkewMs: CLOCK_SKEW_MS,
      cacheProvider: new MongoSamlCache(),
      ...(decryptionPvk ? { decryptionPvk } : {}),
    }));
  }

  /**
   * The IdP's URL with a fresh AuthnRequest; RelayState carries only the safe relative return path. The request
   * record keeps `bindingHash`, the hash of the binding cookie the route sets in this browser.
   */
  async signInUrl(next: string, bindingHash: string): Promise<string> {
    const url = await withBinding(bindingHash, () => this.samls[0].getAuthorizeUrlAsync(safeRedirectPath(next), undefined, {}));
    return this.settings.requestSigning ? signRedirectUrl(url, this.settings.requestSigning.privateKey) : url;
  }

  /** SP metadata for the IdP's administrator (saml-metadata.ts says what it holds). */
  metadata(): string {
    return samlMetadata(this.settings);
  }

  /**
   * Checks a POSTed SAMLResponse; the identity (issuer = IdP entity ID, sub = NameID) and where to go next.
   * `binding` is the binding cookie the posting browser sent. Without one, or with one no request knows, the
   * post is refused before the response is read, so nothing is used up; a response to another request than
   * the one this browser started (someone else's, posted from here) is refused before any request is claimed.
   */
  async finishSignIn(body: { SAMLResponse?: unknown; RelayState?: unknown }, binding: string | undefined): Promise<SamlOutcome> {
    const fail = (kind: SamlFailure['kind'], code: string): SamlOutcome => ({ ok: false, failure: { kind, code } });
    if (typeof body.SAMLResponse !== 'string' || body.SAMLResponse.length === 0) return fail('invalid', 'missing_response');
    if (binding === undefined) return fail('unbound', 'no_binding_cookie');
    const boundRequestId = await findBoundRequest(hashBinding(binding));
    if (boundRequestId === null) return fail('unbound', 'unknown_binding');
    // Which key opens an encrypted assertion (before node-saml, which takes one key); refused before anything is claimed.
    const assertion = await inspectResponse(body.SAMLResponse, this.settings.decryption?.keys ?? [], this.settings.idpCerts);
    if (assertion.kind === 'bad_signature') return fail('invalid', 'bad_signature');
    if (assertion.kind === 'encrypted' && !assertion.opened.ok) return fail('encryption', assertion.opened.code);
    if (assertion.kind === 'plain' && this.settings.decryption?.required) return fail('encryption', 'unencrypted_assertion');
    const saml = this.samls[assertion.kind === 'encrypted' && assertion.opened.ok ? assertion.opened.keyIndex : 0];
    let profile: Profile | null;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: body.SAMLResponse }));
    } catch (err) {
      return { ok: false, failure: classify(err) };
    }
    if (!profile) return fail('invalid', 'no_assertion');
    if (profile.issuer !== this.settings.idpIssuer) return fail('invalid', 'wrong_issuer');
    if (!hasRecipient(profile, this.settings.acsUrl)) return fail('invalid', 'wrong_recipient');
    const destination = responseDestination(profile);
    if (destination !== undefined && destination !== this.settings.acsUrl) return fail('invalid', 'wrong_destination');
    const requestId = typeof profile.inResponseTo === 'string' ? profile.inResponseTo : '';
    if (requestId !== boundRequestId) return fail('unbound', 'other_browser');
    // node-saml read the request before marking it: of two copies posted at once, only one gets here.
    if (!(await claimSamlRequest(requestId))) return fail('expired', 'replayed');

    const nameId = profile.nameID;
    if (typeof nameId !== 'string' || nameId.trim() === '' || nameId.length > MAX_NAME_ID) return fail('invalid', 'no_name_id');
    // A transient NameID changes at every sign-in: it cannot be the stored link.
    if (profile.nameIDFormat === TRANSIENT_NAME_ID) return fail('transient', 'transient_name_id');

    const email = this.emailOf(profile);
    const emailDomains = this.settings.emailDomains;
    // The district's own IdP (pinned by entity ID and certificate) vouches for the email; with
    // SAML_EMAIL_DOMAINS set, only an email at one of those domains may link (isEmailTrusted in resolveSsoSignIn).
    const identity: SsoIdentity = { issuer: this.settings.idpIssuer, sub: nameId, email, emailVerified: emailDomains.length > 0 ? undefined : true };
    const signIn: SamlSignInRecord = {
      nameId,
      nameIdFormat: shortString(profile.nameIDFormat),
      sessionIndex: shortString(profile.sessionIndex),
      nameQualifier: shortString(profile.nameQualifier),
      spNameQualifier: shortString(profile.spNameQualifier),
    };
    return { ok: true, identity, next: safeRedirectPath(body.RelayState), signIn };
  }

  private emailOf(profile: Profile): string | undefined {
    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    for (const name of this.settings.emailAttributes) {
      const value = firstString(attributes[name]);
      if (value) return value;
    }
    if (profile.nameIDFormat === 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' && profile.nameID.includes('@')) return profile.nameID;
    return undefined;
  }
}

function shortString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= 256 ? value : undefined;
}

function firstString(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.trim() !== '' && v.length <= 254 ? v.trim() : undefined;
}

type XmlNode = { $?: Record<string, string>; [child: string]: unknown };

/** Whether a bearer SubjectConfirmationData of the (signed) assertion names our ACS URL as its Recipient. */
function hasRecipient(profile: Profile, acsUrl: string): boolean {
  const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
  const subject = (assertion?.Subject as XmlNode[] | undefined)?.[0];
  const confirmations = (subject?.SubjectConfirmation as XmlNode[] | undefined) ?? [];
  return confirmations.some((c) => ((c.SubjectConfirmationData as XmlNode[] | undefined) ?? []).some((d) => d.$?.Recipient === acsUrl));
}

/** The Destination attribute of the Response element, if it has one. */
function responseDestination(profile: Profile): string | undefined {
  const xml = profile.getSamlResponseXml?.() ?? '';
  const start = /<(?:[A-Za-z_][\w.-]*:)?Response\b([^>]*)>/.exec(xml);
  const attr = start ? /\sDestination\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(start[1]) : null;
  return attr ? (attr[1] ?? attr[2]).replace(/&amp;/g, '&') : undefined;
}

/**
 * node-saml's error, as a code for the log and a page for the person. The codes never carry personal data:
 * a status message from the IdP (free text) is not logged, only its status code.
 */
function classify(err: unknown): SamlFailure {
  if (err instanceof SamlStatusError) return { kind: 'denied', code: 'idp_status' };
  const message = err instanceof Error ? err.message : '';
  if (/InResponseTo/i.test(message)) return { kind: 'expired', code: 'unknown_request' };
  if (/expired|not yet valid|too old/i.test(message)) return { kind: 'expired', code: 'expired_assertion' };
  if (/audience/i.test(message)) return { kind: 'invalid', code: 'wrong_audience' };
  if (/signature/i.test(message)) return { kind: 'invalid', code: 'bad_signature' };
  if (/subject confirmation/i.test(message)) return { kind: 'expired', code: 'expired_assertion' };
  return { kind: 'invalid', code: 'malformed' };
}

const clients = new WeakMap<SamlSettings, SamlClient>();

/** One client per configuration. */
export function samlClientFor(settings: SamlSettings): SamlClient {
  let client = clients.get(settings);
  if (!client) {
    client = new SamlClient(settings);
    clients.set(settings, client);
  }
  return client;
}
