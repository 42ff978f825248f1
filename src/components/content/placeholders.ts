/**
 * District specifics in module text are placeholders filled from the district's settings, so the same
 * published module serves every district and no contact name or number is ever hard-coded in content.
 */

import { deepFreeze } from './deep-freeze';

export const CONTACT_KEYS = [
  'principal',
  'region_operations',
  'counsel_office',
  'rapid_response',
  'school_police',
  'communications_office',
  'family_hotline',
  'records_requests',
] as const;

export type ContactKey = (typeof CONTACT_KEYS)[number];

export interface ContactSetting {
  name: string;
  phone: string;
}

export interface DistrictContentSettings {
  districtName: string;
  policyReference: string;
  contacts: Record<ContactKey, ContactSetting>;
}

export const PLACEHOLDER_KEYS: readonly string[] = Object.freeze([
  'district_name',
  'policy_reference',
  ...CONTACT_KEYS.flatMap((key) => [key, `${key}.phone`]),
]);

const KNOWN_KEYS = new Set(PLACEHOLDER_KEYS);

/** `{{ key }}` with optional inner spaces; the key is lower_snake with an optional `.phone`. */
export const PLACEHOLDER_PATTERN = /\{\{\s*([^{}\s]*)\s*\}\}/g;

export function isKnownPlaceholder(key: string): boolean {
  return KNOWN_KEYS.has(key);
}

/** Every placeholder key used in a text, in order of appearance (duplicates kept). */
export function listPlaceholders(text: string): string[] {
  return Array.from(text.matchAll(PLACEHOLDER_PATTERN), (match) => match[1] ?? '');
}

/** True when the text still holds `{{` or `}}` after removing well-formed placeholders (a typo such as `{{principal}`). */
export function hasMalformedPlaceholder(text: string): boolean {
  const rest = text.replace(PLACEHOLDER_PATTERN, '');
  return rest.includes('{{') || rest.includes('}}');
}

/** The value of one known placeholder, or undefined for an unknown key. */
export function placeholderValue(key: string, settings: DistrictContentSettings): string | undefined {
  if (key === 'district_name') return settings.districtName;
  if (key === 'policy_reference') return settings.policyReference;
  const [contactKey, field] = key.split('.');
  if (!isContactKey(contactKey)) return undefined;
  const contact = settings.contacts[contactKey];
  if (field === undefined) return contact.name;
  if (field === 'phone') return contact.phone;
  return undefined;
}

/** True for a known contact phone placeholder (`principal.phone` …): its value may become a `tel:` link. */
export function isPhonePlaceholder(key: string): boolean {
  return key.endsWith('.phone') && KNOWN_KEYS.has(key);
}

function isContactKey(value: string | undefined): value is ContactKey {
  return (CONTACT_KEYS as readonly (string | undefined)[]).includes(value);
}

/**
 * True when a placeholder at `index` begins a sentence (start of text, of a line or list item, or after
 * . ! ? and an optional closing quote), ignoring Markdown emphasis and opening quotes just before it.
 * Setting values are noun phrases ("your principal or site administrator"), so they are capitalized there.
 */
export function isSentenceStart(text: string, index: number): boolean {
  const before = text.slice(0, index).replace(/[*_"“‘'¿¡(]+$/u, '');
  return /(?:^|\n[ \t]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?|[.!?]["”’)]*[ \t]+)$/u.test(before);
}

function capitalizeFirst(value: string): string {
  return value.charAt(0).toLocaleUpperCase() + value.slice(1);
}

/**
 * The text a placeholder stands for at a given place: the setting value, capitalized at the start of a
 * sentence; undefined for an unknown key.
 */
export function resolvePlaceholder(text: string, index: number, key: string, settings: DistrictContentSettings): string | undefined {
  const raw = placeholderValue(key, settings);
  if (raw === undefined) return undefined;
  const value = isParenthesized(text, index) ? withoutOwnParentheses(raw) : raw;
  return isSentenceStart(text, index) ? capitalizeFirst(value) : value;
}

/** True when the placeholder at `index` stands alone inside parentheses: "… ({{principal.phone}}) …". */
function isParenthesized(text: string, index: number): boolean {
  const end = text.indexOf('}}', index);
  return index > 0 && text[index - 1] === '(' && end !== -1 && text[end + 2] === ')';
}

/**
 * Inside the content's own parentheses a value's parentheses would double up: "((555) 010-1000)".
 * US numbers become "555-010-1000"; a wholly parenthesized value loses its outer pair.
 */
function withoutOwnParentheses(value: string): string {
  const areaCode = /^\((\d{3})\)\s*/.exec(value);
  if (areaCode) return `${areaCode[1]}-${value.slice(areaCode[0].length)}`;
  if (value.startsWith('(') && value.endsWith(')')) return value.slice(1, -1);
  return value;
}

/**
 * Plain-text substitution (for PDFs, emails, plain text). Unknown placeholders are left as written;
 * validated content never has any. Not for HTML: use renderText/renderInline, which escape the values.
 */
export function fillPlaceholders(text: string, settings: DistrictContentSettings): string {
  return text.replace(PLACEHOLDER_PATTERN, (whole: string, key: string, offset: number) => resolvePlaceholder(text, offset, key, settings) ?? whole);
}

const DEFAULT_PHONE_EN = "(see your site's emergency card)";
const DEFAULT_PHONE_ES = '(consulte la tarjeta de emergencia de su plantel)';

function contactsWith(phone: string, names: Record<ContactKey, string>): Record<ContactKey, ContactSetting> {
  const entries = CONTACT_KEYS.map((key) => [key, { name: names[key], phone }] as const);
  return Object.fromEntries(entries) as Record<ContactKey, ContactSetting>;
}

/**
 * Neutral defaults used until a district fills in its contact tree. Written as noun phrases that read
 * correctly after "call …" / "llame a …" (the Spanish ones avoid a leading "el" so "a el" never appears).
 */
export const DEFAULT_CONTENT_SETTINGS_BY_LANG: Readonly<Record<'en' | 'es', DistrictContentSettings>> = deepFreeze({
  en: {
    districtName: 'your school district',
    policyReference: "your district's current policy",
    contacts: contactsWith(DEFAULT_PHONE_EN, {
      principal: 'your principal or site administrator',
      region_operations: "your region's administrator of operations",
      counsel_office: "the district's legal counsel office",
      rapid_response: "the district's rapid-response line",
      school_police: 'school police dispatch',
      communications_office: "the district's communications office",
      family_hotline: "the district's family hotline",
      records_requests: "the district's student-records office",
    }),
  },
  es: {
    districtName: 'su distrito escolar',
    policyReference: 'la política vigente de su distrito',
    contacts: contactsWith(DEFAULT_PHONE_ES, {
      principal: 'la dirección de su plantel',
      region_operations: 'la oficina de operaciones de su región',
      counsel_office: 'la asesoría jurídica del distrito',
      rapid_response: 'la línea de respuesta rápida del distrito',
      school_police: 'la central de la policía escolar',
      communications_office: 'la oficina de comunicaciones del distrito',
      family_hotline: 'la línea de ayuda para familias del distrito',
      records_requests: 'la oficina de expedientes estudiantiles del distrito',
    }),
  },
});

export const DEFAULT_CONTENT_SETTINGS: DistrictContentSettings = DEFAULT_CONTENT_SETTINGS_BY_LANG.en;
