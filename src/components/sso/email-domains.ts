/**
 * OIDC_EMAIL_DOMAINS: the district's own mail domains, whose addresses its identity provider's tenant
 * controls. Microsoft Entra ID often sends no `email_verified`; an email at one of these domains is then
 * trusted for the first link (docs/sso.md, "Microsoft Entra ID"). Pure: config.ts imports this file.
 */

/**
 * Mail domains where anyone can get an address: listing one would let a stranger who gives their
 * provider account such an address take over a rostered account with it. Refused by config.
 */
export const PUBLIC_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'passport.com', 'yahoo.com',
  'ymail.com', 'rocketmail.com', 'aol.com', 'aim.com', 'icloud.com', 'me.com', 'mac.com', 'proton.me', 'protonmail.com', 'pm.me', 'gmx.com', 'gmx.net', 'gmx.de', 'web.de', 'mail.com',
  'email.com', 'zoho.com', 'zohomail.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'fastmail.com', 'hey.com',
  'tutanota.com', 'tuta.io', 'comcast.net', 'att.net', 'sbcglobal.net', 'verizon.net', 'cox.net',
  'charter.net', 'spectrum.net', 'earthlink.net', 'qq.com', '163.com', '126.com',
]);

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The listed domains, lower-cased and de-duplicated, or every problem (each naming the variable: OIDC_ or SAML_EMAIL_DOMAINS). */
export function parseEmailDomains(value: string | undefined, name = 'OIDC_EMAIL_DOMAINS'): { domains: readonly string[]; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined || value.trim() === '') return { domains: [], problems };
  const domains = new Set<string>();
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    const shown = JSON.stringify(raw.trim());
    if (entry === '') problems.push(`${name}: has an empty entry (check the commas); list domains like lausd.net,lausd.org`);
    else if (entry.includes('*')) problems.push(`${name}: ${shown} — wildcards are not allowed; list each domain exactly (e.g. lausd.net,mail.lausd.net)`);
    else if (entry.includes('@')) problems.push(`${name}: ${shown} — list domains without "@" (e.g. lausd.net)`);
    else if (!DOMAIN.test(entry)) problems.push(`${name}: ${shown} is not a domain name (like lausd.net)`);
    else if (PUBLIC_MAIL_DOMAINS.has(entry)) {
      problems.push(`${name}: ${shown} is a public mail domain (anyone can get an address there); list only your district's own domains`);
    } else domains.add(entry);
  }
  return { domains: [...domains], problems };
}

/** The part after the last "@", lower-cased; undefined for something that is not an address. */
export function emailDomainOf(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return undefined;
  return email.slice(at + 1).trim().toLowerCase();
}

/**
 * Whether an email may link an account the first time: the provider says it is verified, or it says
 * nothing and the domain is exactly one of the district's (never a subdomain). An explicit "not verified"
 * is always refused.
 */
export function isEmailTrusted(email: string, emailVerified: boolean | undefined, trustedDomains: readonly string[]): boolean {
  if (emailVerified === true) return true;
  if (emailVerified === false) return false;
  const domain = emailDomainOf(email);
  return domain !== undefined && trustedDomains.includes(domain);
}
