import { z } from 'zod';
import { CONTACT_KEYS, type ContactKey } from '../content';

/** IANA zone names this runtime knows (plus UTC, which some ICU builds list only as an alias). */
const TIME_ZONES: ReadonlySet<string> = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

export function isTimeZone(value: string): boolean {
  return TIME_ZONES.has(value);
}

export function listTimeZones(): string[] {
  return [...TIME_ZONES].sort();
}

/** United States zones, offered first (a district picks one of these); the full list follows. */
const US_TIME_ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Anchorage', 'Pacific/Honolulu', 'America/Puerto_Rico'] as const;

/** The US zones with their names in the reader's language ("Pacific Time — America/Los_Angeles", "hora del Pacífico — …"). */
export function commonTimeZones(lang: string): { zone: string; label: string }[] {
  return US_TIME_ZONES.filter((zone) => TIME_ZONES.has(zone)).map((zone) => {
    const name = new Intl.DateTimeFormat(lang, { timeZone: zone, timeZoneName: 'longGeneric' }).formatToParts(new Date(0)).find((part) => part.type === 'timeZoneName')?.value;
    return { zone, label: name && name !== zone ? `${name} — ${zone}` : zone };
  });
}

// Digits with the usual separators and an optional extension: "(213) 555-0100 ext. 12", "+1 213 555 0100".
const PHONE = /^\+?[\d\s().\-/]*\d[\d\s().\-/]*(?:\s*(?:ext\.?|x)\s*\d{1,6})?$/i;

export const contactNameField = (key: ContactKey) => `contact_${key}_name`;
export const contactPhoneField = (key: ContactKey) => `contact_${key}_phone`;
export const contactNameEsField = (key: ContactKey) => `contact_${key}_name_es`;

/**
 * The contacts that have an English name but no Spanish wording (form values, as shown or as posted): Spanish
 * content names them in English. A person's name can be right in both languages, so this is a note, not an error.
 */
export function contactsMissingSpanish(values: Record<string, unknown>): ContactKey[] {
  const filled = (field: string) => typeof values[field] === 'string' && (values[field] as string).trim() !== '';
  return CONTACT_KEYS.filter((key) => filled(contactNameField(key)) && !filled(contactNameEsField(key)));
}

// Strings only (an array from a repeated key or anything else is a validation error, never stored).
const text = (max: number, tooLong: string) => z.string({ error: 'settings.errors.text' }).trim().max(max, tooLong);

/** The contact fields (name, Spanish name, phone per CONTACT_KEYS): the district settings, regions and schools all post these. */
export const contactShape = Object.fromEntries(
  CONTACT_KEYS.flatMap((key) => [
    [contactNameField(key), text(200, 'settings.errors.nameTooLong').default('')],
    [contactNameEsField(key), text(200, 'settings.errors.nameTooLong').default('')],
    [
      contactPhoneField(key),
      text(60, 'settings.errors.phoneTooLong')
        .refine((value) => value === '' || PHONE.test(value), 'settings.errors.phoneInvalid')
        .default(''),
    ],
  ]),
) as Record<string, z.ZodDefault<z.ZodString>>;

/** A phone number needs a name or title to call it by. */
export function requireContactNames(form: object, ctx: z.RefinementCtx): void {
  const values = form as Record<string, string>;
  for (const key of CONTACT_KEYS) {
    if (values[contactPhoneField(key)] && !values[contactNameField(key)]) {
      ctx.addIssue({ code: 'custom', path: [contactNameField(key)], message: 'settings.errors.contactNameRequired' });
    }
  }
}

/** The contacts alone (a region's or a school's own contacts). */
export const contactsFormSchema = z.object(contactShape).superRefine(requireContactNames);

export const settingsFormSchema = z
  .object({
    policyReference: text(200, 'settings.errors.policyTooLong').default(''),
    jurisdiction: text(100, 'settings.errors.jurisdictionTooLong').min(1, 'settings.errors.jurisdictionRequired'),
    timeZone: z.string({ error: 'settings.errors.timeZoneInvalid' }).trim().refine(isTimeZone, 'settings.errors.timeZoneInvalid'),
    ...contactShape,
  })
  .superRefine(requireContactNames);

export type ContactInput = { name: string; nameEs?: string; phone: string };
export type ContactsInput = Partial<Record<ContactKey, ContactInput>>;

export type SettingsInput = {
  policyReference: string;
  jurisdiction: string;
  timeZone: string;
  contacts: ContactsInput;
};

/** The flat form (one field per contact name/phone) → the contacts; empty contacts are left unset. */
export function toContactsInput(form: object): ContactsInput {
  const values = form as Record<string, string>;
  const contacts: ContactsInput = {};
  for (const key of CONTACT_KEYS) {
    const name = values[contactNameField(key)] ?? '';
    const nameEs = values[contactNameEsField(key)] ?? '';
    if (name) contacts[key] = { name, ...(nameEs ? { nameEs } : {}), phone: values[contactPhoneField(key)] ?? '' };
  }
  return contacts;
}

/** Stored contacts → the form's values (one field per contact name/phone). */
export function contactFormValues(contacts: Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of CONTACT_KEYS) {
    values[contactNameField(key)] = contacts[key]?.name ?? '';
    values[contactNameEsField(key)] = contacts[key]?.nameEs ?? '';
    values[contactPhoneField(key)] = contacts[key]?.phone ?? '';
  }
  return values;
}

/** What the contact fields partial (views/settings/_contacts.ejs) lists: one fieldset per contact. */
export function contactFields(): { key: ContactKey; nameField: string; nameEsField: string; phoneField: string }[] {
  return CONTACT_KEYS.map((key) => ({ key, nameField: contactNameField(key), nameEsField: contactNameEsField(key), phoneField: contactPhoneField(key) }));
}

/** The flat form (one field per contact name/phone) → the settings shape; empty contacts are left unset. */
export function toSettingsInput(form: z.infer<typeof settingsFormSchema>): SettingsInput {
  return { policyReference: form.policyReference, jurisdiction: form.jurisdiction, timeZone: form.timeZone, contacts: toContactsInput(form) };
}
