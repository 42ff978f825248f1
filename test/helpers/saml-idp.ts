import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as samlify from 'samlify';

/**
 * A real SAML 2.0 identity provider on localhost for the tests, built with samlify: it serves the
 * HTTP-Redirect SSO endpoint, parses the app's AuthnRequest (checking its issuer against the app's own
 * metadata), shows a sign-in screen, and answers with a signed Response in an auto-posting form to the app's
 * ACS, like ADFS or Shibboleth do. Its key pair and self-signed certificate are made at start with openssl
 * in a temporary directory (removed at once); nothing is committed. A second key pair plays an impostor.
 */

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
};

/** The form the IdP's page would auto-post to the app. */
export type AcsPost = { action: string; SAMLResponse: string; RelayState?: string; xml: string; requestId?: string };

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

export async function startTestSamlIdp(): Promise<TestSamlIdp> {
  if (!validatorSet) {
    // samlify asks the caller for XML schema validation of what it parses (here only the app's AuthnRequest).
    samlify.setSchemaValidator({ validate: async (xml: string) => { if (!/AuthnRequest/.test(xml)) throw new Error('not an AuthnRequest'); return 'ok'; } });
    validatorSet = true;
  }
  const real = makeKeyPair('Test SAML IdP');
  const impostor = makeKeyPair('Impostor IdP');
  const pending = new Map<string, { person: SamlPerson; options: ResponseOptions }>();
  let sp: { response: samlify.ServiceProviderInstance; assertion: samlify.ServiceProviderInstance } | undefined;
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
      const query = Object.fromEntries(url.searchParams);
      // Parses and checks the AuthnRequest as the IdP would (its issuer must be the SP it knows).
      const parsed = await idps.real.parseLoginRequest(sp.response, 'redirect', { query, octetString: '' });
      const ticket = url.searchParams.get('ticket') ?? '';
      const wanted = pending.get(ticket);
      if (!wanted) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<form method="post"><label>User <input name="username"></label></form>');
        return;
      }
      pending.delete(ticket);
      const { person, options } = wanted;
      const sign = options.sign ?? 'response';
      const target = sign === 'assertion' ? sp.assertion : sp.response;
      const idp = sign === 'impostor' ? idps.impostor : idps.real;
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
        const response = await idp.createLoginResponse(target, { extract: parsed.extract }, 'post', {}, { customTagReplacement: fill });
        xml = Buffer.from(response.context, 'base64').toString('utf8');
      }
      if (options.tamper) xml = options.tamper(xml);
      const relayState = options.relayState ?? url.searchParams.get('RelayState') ?? undefined;
      lastPost = { action: acs, SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: relayState, xml, requestId };
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
  const idpFor = (pair: { key: string; cert: string }) =>
    samlify.IdentityProvider({ entityID: entityId, privateKey: pair.key, signingCert: pair.cert, singleSignOnService: sso, singleLogoutService: slo, nameIDFormat: [NAME_ID.persistent], wantAuthnRequestsSigned: false, requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' });
  idps = { real: idpFor(real), impostor: idpFor(impostor) };
  let ticketCounter = 0;

  return {
    env: { SAML_IDP_ENTRY_POINT: `${origin}/sso`, SAML_IDP_CERT: real.cert, SAML_IDP_ISSUER: entityId },
    certPem: real.cert,
    impostorCertPem: impostor.cert,
    trustSp(metadataXml) {
      // The app's metadata as published; a copy that asks for signed assertions drives the "assertion" signing case.
      const wantAssertions = metadataXml.replace(/<(\w+:)?SPSSODescriptor\b/, (m) => `${m} WantAssertionsSigned="true"`);
      sp = {
        response: samlify.ServiceProvider({ metadata: metadataXml, wantMessageSigned: true }),
        assertion: samlify.ServiceProvider({ metadata: wantAssertions, wantMessageSigned: false }),
      };
    },
    async signInAs(authorizationUrl, person, options = {}) {
      // The person "signs in" at the IdP: the ticket stands for the IdP's own login form.
      const ticket = String(++ticketCounter);
      pending.set(ticket, { person, options });
      const url = new URL(authorizationUrl);
      url.searchParams.set('ticket', ticket);
      lastPost = undefined;
      const res = await fetch(url);
      if (res.status !== 200 || !lastPost) throw new Error(`test IdP answered ${res.status}: ${await res.text()}`);
      return lastPost;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
