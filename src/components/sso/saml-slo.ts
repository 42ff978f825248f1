import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { Store } from 'express-session';
import { SAML, type Profile } from '@node-saml/passport-saml';
import type { SamlSettings, SamlSloSettings } from '../../config';
import { SAML_REQUEST_MAX_MS } from './saml-request.model';
import { SAML_SESSION_RECORD_MS, SamlSession } from './saml-session.model';
import { MongoSamlCache, claimLogoutRequest, rememberIdpLogoutRequest } from './saml.cache';
import { samlPartyOptions } from './saml-options';
import { signRedirectUrl } from './saml-crypto';
import { STATUS_PARTIAL_LOGOUT, STATUS_SUCCESS, type LogoutMessage } from './saml-slo.message';

/** What our LogoutRequest needs, kept in the server-side session of a SAML sign-in (only with Single Logout on). */
export type SamlSignInRecord = {
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  // Entity ids, not personal data: ADFS matches a LogoutRequest's NameID with its qualifiers.
  nameQualifier?: string;
  spNameQualifier?: string;
};

declare module 'express-session' {
  interface SessionData {
    /** Set at a SAML sign-in when Single Logout is configured: sign-out then also ends the IdP's session. */
    samlSignIn?: SamlSignInRecord;
  }
}

/** Clocks of the IdP and this server may differ this much. */
const CLOCK_SKEW_MS = 60 * 1000;
/** An IdP LogoutRequest older than this is refused (its id is remembered as long against replays). */
const MAX_REQUEST_AGE_MS = SAML_REQUEST_MAX_MS - CLOCK_SKEW_MS;
/** The RelayState of our LogoutRequest: a fixed value, never anything from the request. */
export const LOGOUT_RELAY_STATE = 'signed_out';

export type LogoutResponseOutcome = { ok: true; complete: boolean } | { ok: false; code: string };
export type LogoutRequestOutcome = { ok: true; id: string; nameId: string; sessionIndexes: string[] } | { ok: false; code: string };

/**
 * SAML 2.0 Single Logout (docs/sso.md, "Single Logout") on node-saml's SAML class, which builds our LogoutRequest and
 * LogoutResponse (HTTP-Redirect binding); signRedirectUrl (saml-crypto.ts) signs them, rsa-sha256 with
 * SAML_SP_PRIVATE_KEY, as the sign-in client signs its AuthnRequests with SAML_SIGN_AUTHN_REQUESTS.
 * Incoming messages are read by saml-slo.message.ts (signature required on both bindings; an encrypted NameID is
 * opened with SAML_SP_DECRYPTION_KEY or a previous one) and checked here.
 */
export class SamlLogout {
  private readonly saml: SAML;

  constructor(
    private readonly settings: SamlSettings,
    private readonly slo: SamlSloSettings,
  ) {
    this.saml = new SAML({
      entryPoint: slo.idpSloUrl,
      logoutUrl: slo.idpSloUrl,
      logoutCallbackUrl: slo.spSloUrl,
      ...samlPartyOptions(settings),
      // Our LogoutRequest ids, so that the LogoutResponse can be matched to one (on any instance).
      cacheProvider: new MongoSamlCache('logout'),
    });
  }

  /** The IdP's SLO URL with our signed LogoutRequest for this sign-in (the request id is stored for its answer). */
  async logoutRequestUrl(signIn: SamlSignInRecord): Promise<string> {
    const profile = { issuer: this.settings.idpIssuer, nameID: signIn.nameId, nameIDFormat: signIn.nameIdFormat ?? this.settings.nameIdFormat, sessionIndex: signIn.sessionIndex, nameQualifier: signIn.nameQualifier, spNameQualifier: signIn.spNameQualifier } as Profile;
    return signRedirectUrl(await this.saml.getLogoutUrlAsync(profile, LOGOUT_RELAY_STATE, {}), this.slo.privateKey);
  }

  /**
   * The IdP's SLO URL with our signed LogoutResponse: Success, or Requester/UnknownPrincipal when nothing matched. The
   * IdP's RelayState is echoed, so it is signed as sent (signRedirectUrl), whatever characters it has.
   */
  async logoutResponseUrl(requestId: string, success: boolean, relayState: string | undefined): Promise<string> {
    return signRedirectUrl(await this.saml.getLogoutResponseUrlAsync({ ID: requestId } as Profile, relayState ?? '', {}, success), this.slo.privateKey);
  }

  /** A verified LogoutResponse: from our IdP, to us, answering a LogoutRequest we sent and nobody answered yet. */
  async checkResponse(message: LogoutMessage): Promise<LogoutResponseOutcome> {
    const common = this.commonProblem(message);
    if (common) return { ok: false, code: common };
    if (!message.inResponseTo) return { ok: false, code: 'unsolicited' };
    if (!(await claimLogoutRequest(message.inResponseTo))) return { ok: false, code: 'unknown_request' };
    // Success with PartialLogout (or any failure status): the IdP could not end every session it knows of.
    const complete = message.status === STATUS_SUCCESS && message.subStatus !== STATUS_PARTIAL_LOGOUT;
    return { ok: true, complete };
  }

  /** A verified LogoutRequest: from our IdP, to us, fresh, with a NameID, and not seen before. */
  async checkRequest(message: LogoutMessage, now = Date.now()): Promise<LogoutRequestOutcome> {
    const common = this.commonProblem(message);
    if (common) return { ok: false, code: common };
    const issued = message.issueInstant ? Date.parse(message.issueInstant) : NaN;
    if (Number.isNaN(issued) || issued > now + CLOCK_SKEW_MS || issued < now - MAX_REQUEST_AGE_MS) return { ok: false, code: 'stale_request' };
    if (message.notOnOrAfter !== undefined) {
      const until = Date.parse(message.notOnOrAfter);
      if (Number.isNaN(until) || until <= now - CLOCK_SKEW_MS) return { ok: false, code: 'stale_request' };
    }
    if (!message.nameId || message.nameId.length > 500) return { ok: false, code: 'no_name_id' };
    if (message.id.length > 256) return { ok: false, code: 'malformed' };
    if (!(await rememberIdpLogoutRequest(message.id, message.issueInstant!))) return { ok: false, code: 'replayed' };
    return { ok: true, id: message.id, nameId: message.nameId, sessionIndexes: message.sessionIndexes };
  }

  private commonProblem(message: LogoutMessage): string | undefined {
    if (message.issuer !== this.settings.idpIssuer) return 'wrong_issuer';
    if (message.destination !== undefined && message.destination !== this.slo.spSloUrl) return 'wrong_destination';
    return undefined;
  }
}

const clients = new WeakMap<SamlSloSettings, SamlLogout>();

/** One Single Logout client per configuration. */
export function samlLogoutFor(settings: SamlSettings, slo: SamlSloSettings): SamlLogout {
  let client = clients.get(slo);
  if (!client) {
    client = new SamlLogout(settings, slo);
    clients.set(slo, client);
  }
  return client;
}

/** The stored form of a person at the IdP: a hash of "<IdP entity ID> <NameID>" (the NameID itself is not indexed). */
function subjectHash(idpIssuer: string, nameId: string): string {
  return createHash('sha256').update(`${idpIssuer} ${nameId}`).digest('hex');
}

/** Remembers which session a SAML sign-in opened, so an IdP-initiated logout can find it. */
export async function recordSamlSession(sessionId: string, idpIssuer: string, signIn: SamlSignInRecord): Promise<void> {
  await SamlSession.updateOne(
    { _id: sessionId },
    { $set: { subjectHash: subjectHash(idpIssuer, signIn.nameId), sessionIndex: signIn.sessionIndex, expiresAt: new Date(Date.now() + SAML_SESSION_RECORD_MS) } },
    { upsert: true },
  );
}

/** Forgets a session's record (it was signed out here). */
export async function forgetSamlSession(sessionId: string): Promise<void> {
  await SamlSession.deleteOne({ _id: sessionId });
}

/**
 * Ends every one of our sessions that a SAML sign-in of this NameID opened (only those with one of
 * `sessionIndexes`, when the IdP names any): each is destroyed through the app's session store, so it is gone from
 * MongoDB for every instance and from this instance's cache at once; another instance's cache may answer it for at
 * most SESSION_CACHE_MS (as with a sign-out made elsewhere). Returns the ids of the sessions found.
 */
export async function endSamlSessions(store: Store, idpIssuer: string, nameId: string, sessionIndexes: readonly string[]): Promise<string[]> {
  const filter = { subjectHash: subjectHash(idpIssuer, nameId), ...(sessionIndexes.length > 0 ? { sessionIndex: { $in: [...sessionIndexes] } } : {}) };
  const found = await SamlSession.find(filter).select('_id').limit(1000).lean();
  const destroy = promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>;
  for (const { _id } of found) await destroy(_id);
  const ids = found.map((f) => f._id);
  if (ids.length > 0) await SamlSession.deleteMany({ _id: { $in: ids } });
  return ids;
}
