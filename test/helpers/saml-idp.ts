import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as samlify from 'samlify';

/**
 * A real SAML 2.0 identity provider on localhost for the tests, built with samlify: it serves the
 * HTTP-Redirect SSO endpoint, parses the app's AuthnRequest (checking its issuer against the app's own
 * metadata), shows a sign-in screen, and answers with a signed Response in an auto-posting form to the app's
 * ACS, like ADFS or Shibboleth do. Its key pair and self-signed certificate are made at start with openssl
 * in a temporary directory (removed at once); nothing is committed. A second key pair plays an impostor.
 * Like an ADFS or Shibboleth relying-party trust it can require signed AuthnRequests (checked with the signing
 * certificate of the app's metadata) and encrypt assertions and logout NameIDs to the app's encryption certificate.
 */

/** The XML encryption library samlify and node-saml both use (no type declarations of its own). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const xmlenc = require('xml-encryption') as {
  encrypt(content: string, options: { rsa_pub: string; pem: string; encryptionAlgorithm: string; keyEncryptionAlgorithm: string }, callback: (err: Error | null, result: string) => void): void;
};

export const XMLENC = {
  aes256cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  aes256gcm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  tripledes: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc',
  rsaOaep: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  rsa15: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5',
} as const;

/** How the IdP encrypts: to the app's published encryption certificate (default) or to `cert`, with these algorithms. */
export type EncryptOptions = { cert?: string; data?: string; key?: string };

export const NAME_ID = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
} as const;

/** A person at the IdP: their NameID and the attributes the IdP releases (name → values). */
export type SamlPerson = { nameId: string; nameIdFormat?: string; attributes?: Record<string, string | string[]> };

/** How this one response differs from a correct one (each a case the app must refuse, or accept). */
export type ResponseOptions = {
  /** What the IdP signs: the Response (default), the Assertion, nothing, or the Response with a key the app does not trust. */
  sign?: 'response' | 'assertion' | 'none' | 'impostor';
  audience?: string;
  issuer?: string;
  recipient?: string;
  destination?: string | null;
  /** Minutes from now of NotOnOrAfter (Conditions and SubjectConfirmationData); negative: already expired. */
  validForMinutes?: number;
  /** null: an unsolicited response (no InResponseTo); a string: answers that request id instead. */
  inResponseTo?: string | null;
  /** Changes the XML after signing (a tampered response). */
  tamper?: (xml: string) => string;
  relayState?: string;
  /** The IdP refuses (e.g. AuthnFailed): a Response with this second-level status, its message, and no assertion. */
  failure?: { status: string; message: string };
  /**
   * Encrypts the assertion (EncryptedAssertion). With sign "response" the response is signed after encrypting (what
   * Shibboleth does); with "assertion" the assertion is signed, then encrypted, and the response left unsigned (ADFS).
   */
  encrypt?: true | EncryptOptions;
};

/** The form the IdP's page would auto-post to the app; `sessionIndex`: the AuthnStatement's SessionIndex. */
export type AcsPost = { action: string; SAMLResponse: string; RelayState?: string; xml: string; requestId?: string; sessionIndex?: string };

/**
 * A Single Logout message on its way from the IdP to the app: a redirect (the app-relative path with its query)
 * or an auto-posting form (the fields). `xml` is what the IdP built (before any signature).
 */
export type SloDelivery = { binding: 'redirect'; path: string; xml: string; id: string } | { binding: 'post'; path: string; fields: Record<string, string>; xml: string; id: string };

/** How the IdP signs a logout message: correctly (default), not at all, or with a key the app does not trust. */
export type SloSigning = 'signed' | 'none' | 'impostor';

export type LogoutAnswerOptions = {
  binding?: 'redirect' | 'post';
  sign?: SloSigning;
  /** success (default); partial: Success with PartialLogout; failed: Responder. */
  status?: 'success' | 'partial' | 'failed';
  /** null: no InResponseTo (unsolicited); a string: answers that id instead. */
  inResponseTo?: string | null;
  issuer?: string;
  tamper?: (xml: string) => string;
};

export type LogoutRequestOptions = {
  binding?: 'redirect' | 'post';
  sign?: SloSigning;
  /** Minutes ago the request was issued (default 0). */
  issuedMinutesAgo?: number;
  issuer?: string;
  tamper?: (xml: string) => string;
  relayState?: string;
  /** Sends the NameID as an EncryptedID (to the app's encryption certificate, or to `cert`). */
  encryptNameId?: true | EncryptOptions;
};

/** What the IdP read from the app's LogoutRequest (after checking its signature with the app's published certificate). */
export type ReceivedLogoutRequest = { id: string; nameId: string; nameIdFormat?: string; sessionIndex?: string; issuer: string; destination?: string; relayState?: string; sigAlg: string };

export type TestSamlIdp = {
  /** The settings the app needs (SAML_IDP_*). */
  env: { SAML_IDP_ENTRY_POINT: string; SAML_IDP_CERT: string; SAML_IDP_ISSUER: string };
  /** The IdP's certificate as a PEM. */
  certPem: string;
  /** Another certificate (the impostor's): e.g. the "old" one of a certificate rollover. */
  impostorCertPem: string;
  /** Reads the app's SP metadata (what an IdP administrator imports). */
  trustSp(metadataXml: string): void;
  /** Plays the person at the IdP: opens the app's redirect, signs in, and returns the form posted to the ACS. */
  signInAs(authorizationUrl: string, person: SamlPerson, options?: ResponseOptions): Promise<AcsPost>;
  /**
   * Reads an AuthnRequest redirect as the IdP's SSO endpoint does; with `wantAuthnRequestsSigned` samlify requires its
   * signature over the query as sent, checked with the signing certificate of the app's metadata. Throws when refused.
   */
  readAuthnRequest(authorizationUrl: string): Promise<{ id: string; sigAlg: string | null }>;
  /** The IdP's SingleLogoutService (HTTP-Redirect binding): SAML_IDP_SLO_URL. */
  sloUrl: string;
  /**
   * Plays the IdP's SLO endpoint for the app's redirect (its signed LogoutRequest): checks the signature with the
   * certificate in the app's metadata (samlify refuses otherwise), and answers with a LogoutResponse.
   */
  answerLogout(appRedirectUrl: string, options?: LogoutAnswerOptions): Promise<{ request: ReceivedLogoutRequest; answer: SloDelivery }>;
  /** An IdP-initiated logout: a LogoutRequest for this person to the app's SLO endpoint. */
  requestLogout(person: { nameId: string; nameIdFormat?: string; sessionIndex?: string }, options?: LogoutRequestOptions): Promise<SloDelivery>;
  /** Reads the app's LogoutResponse (its redirect to the IdP), checking the signature with the app's certificate. */
  readLogoutResponse(url: string): Promise<{ inResponseTo: string; status: string; subStatus?: string; issuer: string; relayState?: string }>;
  close(): Promise<void>;
};

/** A fresh RSA key and self-signed certificate (PEM), made with openssl in a temporary directory that is removed at once. */
export function makeKeyPair(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sst-saml-idp-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`,
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const escapeHtml = escapeXml;

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return '';
  const attrs = entries.map(([name, values]) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${
    (Array.isArray(values) ? values : [values]).map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`).join('');
  return `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>`;
}

let validatorSet = false;

/** `wantAuthnRequestsSigned`: the IdP refuses an AuthnRequest without a valid signature (ADFS/Shibboleth "require signed requests"). */
export async function startTestSamlIdp(setup: { wantAuthnRequestsSigned?: boolean } = {}): Promise<TestSamlIdp> {
  if (!validatorSet) {
    // samlify asks the caller for XML schema validation of what it parses (here only the app's AuthnRequest).
    samlify.setSchemaValidator({ validate: async (xml: string) => { if (!/AuthnRequest|LogoutRequest|LogoutResponse/.test(xml)) throw new Error('not an AuthnRequest or a logout message'); return 'ok'; } });
    validatorSet = true;
  }
  const real = makeKeyPair('Test SAML IdP');
  const impostor = makeKeyPair('Impostor IdP');
  const pending = new Map<string, { person: SamlPerson; options: ResponseOptions }>();
  let sp: { response: samlify.ServiceProviderInstance; assertion: samlify.ServiceProviderInstance; slo: samlify.ServiceProviderInstance; sloUnsigned: samlify.ServiceProviderInstance } | undefined;
  let spMetadata = '';
  let idps: { real: samlify.IdentityProviderInstance; impostor: samlify.IdentityProviderInstance } | undefined;
  let lastPost: AcsPost | undefined;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    if (req.method === 'GET' && url.pathname === '/sso') {
      if (!sp || !idps) throw new Error('the IdP does not know the app yet (trustSp)');
      // Parses and checks the AuthnRequest as the IdP would (its issuer must be the SP it knows; its signature when required).
      const parsed = await parseAuthnRequest(`${origin}${req.url ?? ''}`);
      const ticket = url.searchParams.get('ticket') ?? '';
      const wanted = pending.get(ticket);
      if (!wanted) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<form method="post"><label>User <input name="username"></label></form>');
        return;
      }
      pending.delete(ticket);
      const { person, options } = wanted;
      const sign = options.sign ?? 'response';
      const encrypt = options.encrypt === true ? {} : options.encrypt;
      const target = encrypt ? encryptingSp(sign === 'assertion' ? 'assertion' : 'response', encrypt.cert) : sign === 'assertion' ? sp.assertion : sp.response;
      const idp = encrypt ? idpFor(sign === 'impostor' ? impostor : real, encrypt) : sign === 'impostor' ? idps.impostor : idps.real;
      const requestId = String(parsed.extract.request?.id ?? '');
      const acs = target.entityMeta.getAssertionConsumerService('post') as string;
      const now = new Date();
      const until = new Date(now.getTime() + (options.validForMinutes ?? 5) * 60_000);
      const notBefore = options.validForMinutes !== undefined && options.validForMinutes < 0 ? new Date(until.getTime() - 10 * 60_000) : now;
      const tags = (id: string) => ({
        ID: id,
        AssertionID: `_a${id.slice(1)}`,
        Destination: options.destination === null ? undefined : (options.destination ?? acs),
        Audience: options.audience ?? target.entityMeta.getEntityID(),
        SubjectRecipient: options.recipient ?? acs,
        Issuer: options.issuer ?? idp.entityMeta.getEntityID(),
        IssueInstant: notBefore.toISOString(),
        StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
        ConditionsNotBefore: notBefore.toISOString(),
        ConditionsNotOnOrAfter: until.toISOString(),
        SubjectConfirmationDataNotOnOrAfter: until.toISOString(),
        NameIDFormat: person.nameIdFormat ?? NAME_ID.persistent,
        NameID: person.nameId,
        InResponseTo: options.inResponseTo === null ? undefined : (options.inResponseTo ?? requestId),
      });
      const fill = (template: string) => {
        const id = `_r${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
        const withStatements = template
          .replace('{AuthnStatement}', `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${id.slice(2)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`)
          .replace('{AttributeStatement}', attributeStatement(person.attributes ?? {}));
        return { id, context: samlify.SamlLib.replaceTagsByValue(withStatements, tags(id)) };
      };
      let xml: string;
      if (options.failure) {
        const t = tags('_f' + Date.now().toString(16));
        xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${t.ID}" Version="2.0" IssueInstant="${t.IssueInstant}" Destination="${escapeXml(acs)}" InResponseTo="${escapeXml(requestId)}"><saml:Issuer>${escapeXml(t.Issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="${escapeXml(options.failure.status)}"/></samlp:StatusCode><samlp:StatusMessage>${escapeXml(options.failure.message)}</samlp:StatusMessage></samlp:Status></samlp:Response>`;
      } else if (sign === 'none') {
        xml = fill(samlify.SamlLib.defaultLoginResponseTemplate.context).context;
      } else {
        const response = await idp.createLoginResponse(target, { extract: parsed.extract }, 'post', {}, { customTagReplacement: fill, encryptThenSign: Boolean(encrypt) && sign !== 'assertion' });
        xml = Buffer.from(response.context, 'base64').toString('utf8');
      }
      if (options.tamper) xml = options.tamper(xml);
      const relayState = options.relayState ?? url.searchParams.get('RelayState') ?? undefined;
      const sessionIndex = /SessionIndex="([^"]+)"/.exec(xml)?.[1];
      lastPost = { action: acs, SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: relayState, xml, requestId, sessionIndex };
      // The page a browser would auto-submit (here the test reads it back through lastPost).
      res.writeHead(200, { 'content-type': 'text/html' }).end(
        `<form method="post" action="${escapeHtml(acs)}"><input type="hidden" name="SAMLResponse" value="${escapeHtml(lastPost.SAMLResponse)}">${
          relayState !== undefined ? `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">` : ''}<button>Continue</button></form>`,
      );
      return;
    }
    res.writeHead(404).end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${origin}/metadata`;
  const sso = [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${origin}/sso` }];
  const slo = [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${origin}/slo` }];
  const idpFor = (pair: { key: string; cert: string }, encrypt?: EncryptOptions) =>
    samlify.IdentityProvider({ entityID: entityId, privateKey: pair.key, signingCert: pair.cert, singleSignOnService: sso, singleLogoutService: slo, nameIDFormat: [NAME_ID.persistent], wantAuthnRequestsSigned: setup.wantAuthnRequestsSigned ?? false, wantLogoutRequestSigned: true, wantLogoutResponseSigned: true, requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      ...(encrypt ? { isAssertionEncrypted: true, dataEncryptionAlgorithm: encrypt.data ?? XMLENC.aes256cbc, keyEncryptionAlgorithm: encrypt.key ?? XMLENC.rsaOaep } : {}) });
  idps = { real: idpFor(real), impostor: idpFor(impostor) };
  let ticketCounter = 0;

  /** The app as the IdP knows it, encrypting to its published encryption certificate or to `cert` instead. */
  function encryptingSp(signs: 'response' | 'assertion', cert?: string): samlify.ServiceProviderInstance {
    const encryptionCert = cert ?? encryptionCertOf(spMetadata);
    if (!encryptionCert) throw new Error("the app's metadata has no encryption certificate");
    const withCert = setEncryptionCert(spMetadata, encryptionCert);
    const metadata = signs === 'assertion' ? withCert.replace(/<(\w+:)?SPSSODescriptor\b/, (m) => `${m} WantAssertionsSigned="true"`) : withCert;
    return samlify.ServiceProvider({ metadata, wantMessageSigned: signs === 'response' });
  }

  async function parseAuthnRequest(url: string) {
    if (!sp || !idps) throw new Error('the IdP does not know the app yet (trustSp)');
    const { query, octetString } = redirectQuery(url, 'SAMLRequest');
    return idps.real.parseLoginRequest(sp.response, 'redirect', { query, octetString });
  }

  /** The NameID element as an EncryptedID, encrypted like the IdP's assertions. */
  async function encryptNameId(nameIdXml: string, encrypt: EncryptOptions): Promise<string> {
    const cert = encrypt.cert ?? pemOf(encryptionCertOf(spMetadata) ?? '');
    const encrypted = await new Promise<string>((resolve, reject) => xmlenc.encrypt(nameIdXml, {
      rsa_pub: createPublicKey(cert).export({ type: 'spki', format: 'pem' }).toString(), pem: cert,
      encryptionAlgorithm: encrypt.data ?? XMLENC.aes256cbc, keyEncryptionAlgorithm: encrypt.key ?? XMLENC.rsaOaep,
    }, (err, result) => (err ? reject(err) : resolve(result))));
    return `<saml:EncryptedID>${encrypted}</saml:EncryptedID>`;
  }

  return {
    env: { SAML_IDP_ENTRY_POINT: `${origin}/sso`, SAML_IDP_CERT: real.cert, SAML_IDP_ISSUER: entityId },
    certPem: real.cert,
    impostorCertPem: impostor.cert,
    trustSp(metadataXml) {
      spMetadata = metadataXml;
      // The app's metadata as published; a copy that asks for signed assertions drives the "assertion" signing case.
      const wantAssertions = metadataXml.replace(/<(\w+:)?SPSSODescriptor\b/, (m) => `${m} WantAssertionsSigned="true"`);
      sp = {
        response: samlify.ServiceProvider({ metadata: metadataXml, wantMessageSigned: true }),
        assertion: samlify.ServiceProvider({ metadata: wantAssertions, wantMessageSigned: false }),
        // Single Logout: what the IdP sends the app is signed (or, to test refusals, not).
        slo: samlify.ServiceProvider({ metadata: metadataXml, wantLogoutRequestSigned: true, wantLogoutResponseSigned: true }),
        sloUnsigned: samlify.ServiceProvider({ metadata: metadataXml, wantLogoutRequestSigned: false, wantLogoutResponseSigned: false }),
      };
    },
    async signInAs(authorizationUrl, person, options = {}) {
      // The person "signs in" at the IdP: the ticket stands for the IdP's own login form.
      const ticket = String(++ticketCounter);
      pending.set(ticket, { person, options });
      // Appended as is: the rest of the query stays byte for byte what the app signed.
      const url = `${authorizationUrl}&ticket=${ticket}`;
      lastPost = undefined;
      const res = await fetch(url);
      if (res.status !== 200 || !lastPost) throw new Error(`test IdP answered ${res.status}: ${await res.text()}`);
      return lastPost;
    },
    async readAuthnRequest(authorizationUrl) {
      const parsed = await parseAuthnRequest(authorizationUrl);
      return { id: String(parsed.extract.request?.id ?? ''), sigAlg: parsed.sigAlg ?? null };
    },
    sloUrl: `${origin}/slo`,
    async answerLogout(appRedirectUrl, options = {}) {
      if (!sp || !idps) throw new Error('the IdP does not know the app yet (trustSp)');
      const { query, octetString } = redirectQuery(appRedirectUrl, 'SAMLRequest');
      // samlify checks the app's signature with the certificate of the app's metadata (wantLogoutRequestSigned).
      const parsed = await idps.real.parseLogoutRequest(sp.slo, 'redirect', { query, octetString });
      const xml = parsed.samlContent as string;
      const request: ReceivedLogoutRequest = {
        id: attrOf(xml, 'LogoutRequest', 'ID')!,
        issuer: textOf(xml, 'Issuer')!,
        destination: attrOf(xml, 'LogoutRequest', 'Destination'),
        nameId: textOf(xml, 'NameID')!,
        nameIdFormat: attrOf(xml, 'NameID', 'Format'),
        sessionIndex: textOf(xml, 'SessionIndex'),
        relayState: query.RelayState,
        sigAlg: query.SigAlg,
      };
      const status = options.status ?? 'success';
      const inResponseTo = options.inResponseTo === null ? undefined : (options.inResponseTo ?? request.id);
      const statusXml = status === 'success'
        ? '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
        : status === 'partial'
          ? '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:PartialLogout"/></samlp:StatusCode>'
          : '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/>';
      const binding = options.binding ?? 'redirect';
      const target = options.sign === 'none' ? sp.sloUnsigned : sp.slo;
      const idp = options.sign === 'impostor' ? idps.impostor : idps.real;
      const destination = target.entityMeta.getSingleLogoutService(binding) as string;
      const id = `_lr${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
      const responseXml = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${escapeXml(destination)}"${
        inResponseTo !== undefined ? ` InResponseTo="${escapeXml(inResponseTo)}"` : ''}><saml:Issuer>${escapeXml(options.issuer ?? entityId)}</saml:Issuer><samlp:Status>${statusXml}</samlp:Status></samlp:LogoutResponse>`;
      const built = idp.createLogoutResponse(target, parsed as unknown as Parameters<typeof idp.createLogoutResponse>[1], binding, request.relayState ?? '', () => ({ id, context: responseXml })) as { context: string; relayState?: string; entityEndpoint?: string };
      return { request, answer: deliver(binding, built, 'SAMLResponse', responseXml, id, options.tamper) };
    },
    async requestLogout(person, options = {}) {
      if (!sp || !idps) throw new Error('the IdP does not know the app yet (trustSp)');
      const binding = options.binding ?? 'redirect';
      const target = options.sign === 'none' ? sp.sloUnsigned : sp.slo;
      const idp = options.sign === 'impostor' ? idps.impostor : idps.real;
      const destination = target.entityMeta.getSingleLogoutService(binding) as string;
      const id = `_lq${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
      const issued = new Date(Date.now() - (options.issuedMinutesAgo ?? 0) * 60_000).toISOString();
      const nameIdXml = `<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Format="${escapeXml(person.nameIdFormat ?? NAME_ID.persistent)}">${escapeXml(person.nameId)}</saml:NameID>`;
      const subject = options.encryptNameId ? await encryptNameId(nameIdXml, options.encryptNameId === true ? {} : options.encryptNameId) : nameIdXml;
      const requestXml = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${issued}" Destination="${escapeXml(destination)}"><saml:Issuer>${escapeXml(options.issuer ?? entityId)}</saml:Issuer>${subject}${
        person.sessionIndex ? `<samlp:SessionIndex>${escapeXml(person.sessionIndex)}</samlp:SessionIndex>` : ''}</samlp:LogoutRequest>`;
      const built = idp.createLogoutRequest(target, binding, { logoutNameID: person.nameId }, options.relayState ?? '', () => ({ id, context: requestXml })) as { context: string; relayState?: string; entityEndpoint?: string };
      return deliver(binding, built, 'SAMLRequest', requestXml, id, options.tamper);
    },
    async readLogoutResponse(url) {
      if (!sp || !idps) throw new Error('the IdP does not know the app yet (trustSp)');
      const { query, octetString } = redirectQuery(url, 'SAMLResponse');
      // Checked with samlify's signature check and the certificate of the app's metadata (its parser refuses any
      // status but Success before that, and the app also answers UnknownPrincipal).
      if (!query.Signature || !query.SigAlg) throw new Error('the LogoutResponse is not signed');
      if (!samlify.SamlLib.verifyMessageSignature(sp.slo.entityMeta, octetString, Buffer.from(query.Signature, 'base64'), query.SigAlg)) {
        throw new Error('the LogoutResponse signature is not valid');
      }
      const xml = inflateRawSync(Buffer.from(query.SAMLResponse, 'base64')).toString('utf8');
      const codes = [...xml.matchAll(/StatusCode Value="([^"]+)"/g)].map((m) => m[1]);
      return { inResponseTo: attrOf(xml, 'LogoutResponse', 'InResponseTo')!, status: codes[0], subStatus: codes[1], issuer: textOf(xml, 'Issuer')!, relayState: query.RelayState };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The query of a redirect-binding URL (decoded) and the octet string its signature covers (as sent, still encoded). */
function redirectQuery(url: string, type: 'SAMLRequest' | 'SAMLResponse'): { query: Record<string, string>; octetString: string } {
  const rawQuery = url.slice(url.indexOf('?') + 1);
  const raw = new Map(rawQuery.split('&').map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] as [string, string]));
  const octetString = [type, 'RelayState', 'SigAlg'].filter((k) => raw.has(k)).map((k) => `${k}=${raw.get(k)}`).join('&');
  return { query: Object.fromEntries(new URL(url).searchParams), octetString };
}

function attrOf(xml: string, element: string, attr: string): string | undefined {
  const start = new RegExp(`<(?:\\w+:)?${element}\\b([^>]*)>`).exec(xml);
  const value = start ? new RegExp(`\\s${attr}="([^"]*)"`).exec(start[1]) : null;
  return value ? value[1] : undefined;
}

function textOf(xml: string, element: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${element}\\b[^>]*>([^<]*)</`).exec(xml)?.[1];
}

/** What the browser brings to the app: the redirect's path and query, or the form's fields; `tamper` changes the XML after signing. */
function deliver(binding: 'redirect' | 'post', built: { context: string; relayState?: string; entityEndpoint?: string }, type: 'SAMLRequest' | 'SAMLResponse', xml: string, id: string, tamper?: (xml: string) => string): SloDelivery {
  if (binding === 'redirect') {
    const url = new URL(built.context);
    if (tamper) {
      const original = inflateRawSync(Buffer.from(url.searchParams.get(type)!, 'base64')).toString('utf8');
      const changed = encodeURIComponent(deflateRawSync(Buffer.from(tamper(original))).toString('base64'));
      const rawQuery = url.search.slice(1).split('&').map((part) => (part.startsWith(`${type}=`) ? `${type}=${changed}` : part)).join('&');
      return { binding, path: `${url.pathname}?${rawQuery}`, xml, id };
    }
    return { binding, path: `${url.pathname}${url.search}`, xml, id };
  }
  let message = built.context;
  if (tamper) message = Buffer.from(tamper(Buffer.from(message, 'base64').toString('utf8'))).toString('base64');
  const fields: Record<string, string> = { [type]: message };
  if (built.relayState) fields.RelayState = built.relayState;
  return { binding, path: new URL(built.entityEndpoint!).pathname, fields, xml, id };
}

/** The base64 body of the KeyDescriptor use="encryption" certificate in SP metadata, if any. */
function encryptionCertOf(metadata: string): string | undefined {
  return /<(?:\w+:)?KeyDescriptor\b[^>]*use="encryption"[^>]*>[\s\S]*?<(?:\w+:)?X509Certificate>([^<]+)</.exec(metadata)?.[1].replace(/\s+/g, '');
}

/** SP metadata with its encryption certificate replaced by `cert` (PEM or base64 body). */
function setEncryptionCert(metadata: string, cert: string): string {
  const body = cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  // An app that publishes none (no decryption key): the IdP was given a certificate by other means.
  if (encryptionCertOf(metadata) === undefined) {
    return metadata.replace(/(<(?:\w+:)?SPSSODescriptor\b[^>]*>)/, `$1<KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`);
  }
  return metadata.replace(/(<(?:\w+:)?KeyDescriptor\b[^>]*use="encryption"[^>]*>[\s\S]*?<(?:\w+:)?X509Certificate>)[^<]+(<)/, `$1${body}$2`);
}

function pemOf(body: string): string {
  return `-----BEGIN CERTIFICATE-----\n${(body.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}
