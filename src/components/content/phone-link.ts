/**
 * A district phone number as typed in its settings → a `tel:` URI (RFC 3966) that a phone dials in one
 * tap, or undefined when the text is not a number that can be dialled with confidence (it is then shown
 * as plain text). The URI is built only from "+", digits and ";ext=", so no setting value can change the
 * scheme or carry markup into the page.
 */

// The separators the settings form accepts ("(213) 555-0100", "+1 213.555.0100"); "+" only first.
const NUMBER = /^\+?[\d\s().\-/]+$/;
// "x12", "ext 12", "ext. 12" at the end (the forms the settings form accepts).
const EXTENSION = /\s*(?:ext\.?|x)\s*(\d{1,6})$/i;

export function toTelHref(phone: string): string | undefined {
  const text = phone.trim();
  const extension = EXTENSION.exec(text);
  const number = extension ? text.slice(0, extension.index) : text;
  if (!NUMBER.test(number)) return undefined;
  const digits = internationalDigits(number.replace(/\D/g, ''), number.startsWith('+'));
  if (digits === undefined) return undefined;
  return extension ? `tel:+${digits};ext=${extension[1]}` : `tel:+${digits}`;
}

/**
 * With a leading "+" the number is already international (E.164: no leading 0, at most 15 digits).
 * Without one it must be a complete North American number: 10 digits whose area code starts with 2–9,
 * optionally after the trunk prefix 1. Anything shorter (a 7-digit local number) has no area code to dial.
 */
function internationalDigits(digits: string, isInternational: boolean): string | undefined {
  if (isInternational) return /^[1-9]\d{6,14}$/.test(digits) ? digits : undefined;
  if (/^[2-9]\d{9}$/.test(digits)) return `1${digits}`;
  if (/^1[2-9]\d{9}$/.test(digits)) return digits;
  return undefined;
}
