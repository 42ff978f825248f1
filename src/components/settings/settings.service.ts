import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { TtlMemo } from '../../shared/ttl-memo';
import { recordAudit } from '../audit';
import { CONTACT_KEYS, DEFAULT_CONTENT_SETTINGS_BY_LANG, type ContactKey, type DistrictContentSettings, type Lang } from '../content';
import { District } from '../districts';
import { contactFormValues, type ContactInput, type SettingsInput } from './settings.schemas';

/** What the player, certificates and the settings page need of a district. */
export type DistrictContext = Readonly<{
  districtId: string;
  districtName: string;
  timeZone: string;
  jurisdiction: string;
  policyReference: string;
  contacts: Readonly<Partial<Record<ContactKey, Readonly<{ name: string; nameEs?: string; phone: string }>>>>;
  /** Placeholder values per language: the district's own where set, the neutral defaults elsewhere. */
  content: Readonly<Record<Lang, DistrictContentSettings>>;
}>;

/**
 * Every scenario step needs the district's settings; they change a few times a year. A short-lived
 * per-process memo saves a query per step; a save in this process drops it at once (and a read that was
 * already running when it saved is not kept), and other app instances see a change within CACHE_MS.
 */
const CACHE_MS = 5_000;
const memo = new TtlMemo<DistrictContext>(CACHE_MS);

export async function getDistrictContext(districtId: string, options: { isFresh?: boolean } = {}): Promise<DistrictContext> {
  if (options.isFresh) memo.forget([districtId]);
  const value = await memo.get(districtId, () => loadDistrictContext(districtId));
  if (!value) throw notFound();
  return value;
}

async function loadDistrictContext(districtId: string): Promise<DistrictContext | null> {
  const district = await District.findById(districtId, { name: 1, timeZone: 1, jurisdiction: 1, settings: 1 }).lean();
  if (!district) return null;
  // A blank Spanish wording (stored before the form trimmed) is no wording: the English name, never a blank.
  const contacts = storedContacts(district.settings?.contacts as unknown as Record<string, { name?: string; nameEs?: string; phone?: string }> | undefined);
  const base = {
    districtId,
    districtName: district.name,
    timeZone: district.timeZone,
    jurisdiction: district.jurisdiction,
    policyReference: district.settings?.policyReference ?? '',
    contacts,
  };
  return Object.freeze({ ...base, content: Object.freeze({ en: contentSettings(base, 'en'), es: contentSettings(base, 'es') }) });
}

/**
 * The district's context with some contacts replaced (a region's or a school's own, resolved by the caller):
 * the same shape, so everything that renders content takes either. A new frozen object per call: callers memoise it.
 */
export function withContacts(district: DistrictContext, contacts: Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>>): DistrictContext {
  const { content: _content, ...base } = district;
  const ordered: Partial<Record<ContactKey, Readonly<ContactInput>>> = {};
  for (const key of CONTACT_KEYS) if (contacts[key]) ordered[key] = contacts[key];
  const merged = { ...base, contacts: Object.freeze(ordered) };
  return Object.freeze({ ...merged, content: Object.freeze({ en: contentSettings(merged, 'en'), es: contentSettings(merged, 'es') }) });
}

export type ContactFallback = { name: string; phone: string; source: 'region' | 'district' | 'default' };

/**
 * What the content uses for each contact where a level below leaves it empty (the region and school forms show
 * it): the region's own (when there is a region) over the district's, else the neutral wording, named in `lang`.
 */
export function contactFallbacks(district: DistrictContext, region: { contacts: Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>> } | null, lang: Lang): Record<ContactKey, ContactFallback> {
  const inherited = region ? withContacts(district, { ...district.contacts, ...region.contacts }) : district;
  const fallbacks = {} as Record<ContactKey, ContactFallback>;
  for (const key of CONTACT_KEYS) {
    const own = inherited.contacts[key];
    fallbacks[key] = { name: inherited.content[lang].contacts[key].name, phone: own ? own.phone : '', source: region?.contacts[key] ? 'region' : own ? 'district' : 'default' };
  }
  return fallbacks;
}

/** Stored contacts (a mongoose Map as a plain object) → the contacts with a name; a blank Spanish wording is none. */
export function storedContacts(stored: Record<string, { name?: string | null; nameEs?: string | null; phone?: string | null }> | undefined | null): Partial<Record<ContactKey, ContactInput>> {
  const contacts: Partial<Record<ContactKey, ContactInput>> = {};
  for (const key of CONTACT_KEYS) {
    const contact = stored?.[key];
    if (contact?.name) contacts[key] = { name: contact.name, ...(contact.nameEs?.trim() ? { nameEs: contact.nameEs } : {}), phone: contact.phone ?? '' };
  }
  return contacts;
}

function contentSettings(ctx: Omit<DistrictContext, 'content'>, lang: Lang): DistrictContentSettings {
  const defaults = DEFAULT_CONTENT_SETTINGS_BY_LANG[lang];
  const contacts = { ...defaults.contacts };
  for (const key of CONTACT_KEYS) {
    const own = ctx.contacts[key];
    if (own) contacts[key] = { name: (lang === 'es' && own.nameEs) || own.name, phone: own.phone || defaults.contacts[key].phone };
  }
  return Object.freeze({
    districtName: ctx.districtName || defaults.districtName,
    policyReference: ctx.policyReference || defaults.policyReference,
    contacts: Object.freeze(contacts),
  });
}

/** The settings form's values: one field per contact name/phone, as the form posts them. */
export async function getSettingsForm(actor: Actor): Promise<Record<string, string>> {
  const ctx = await getDistrictContext(actor.districtId, { isFresh: true });
  return { policyReference: ctx.policyReference, jurisdiction: ctx.jurisdiction, timeZone: ctx.timeZone, ...contactFormValues(ctx.contacts) };
}

/** The contacts of the admin's district named in English only: Spanish content shows their English name. */
export async function contactsWithoutSpanish(actor: Actor): Promise<ContactKey[]> {
  const ctx = await getDistrictContext(actor.districtId);
  return CONTACT_KEYS.filter((key) => ctx.contacts[key] && !ctx.contacts[key]?.nameEs);
}

/** Saves the district's settings (a district admin's own district only) and records what changed. */
export async function updateSettings(actor: Actor, input: SettingsInput, requestId?: string): Promise<void> {
  const before = await getDistrictContext(actor.districtId, { isFresh: true });
  const result = await District.updateOne(
    { _id: actor.districtId },
    {
      $set: {
        timeZone: input.timeZone,
        jurisdiction: input.jurisdiction,
        'settings.policyReference': input.policyReference,
        'settings.contacts': input.contacts,
      },
    },
    { runValidators: true },
  );
  memo.forget([actor.districtId]);
  if (result.matchedCount === 0) throw notFound();
  const changed = changedFields(before, input);
  await recordAudit(actor, { action: 'settings.updated', target: { kind: 'district', id: actor.districtId }, details: { changed }, requestId });
}

function changedFields(before: DistrictContext, input: SettingsInput): string[] {
  const changed: string[] = [];
  if (before.timeZone !== input.timeZone) changed.push('timeZone');
  if (before.jurisdiction !== input.jurisdiction) changed.push('jurisdiction');
  if (before.policyReference !== input.policyReference) changed.push('policyReference');
  for (const key of CONTACT_KEYS) {
    const old = before.contacts[key];
    const next = input.contacts[key];
    if ((old?.name ?? '') !== (next?.name ?? '') || (old?.nameEs ?? '') !== (next?.nameEs ?? '') || (old?.phone ?? '') !== (next?.phone ?? '')) changed.push(`contacts.${key}`);
  }
  return changed;
}

/** Drops the memo (tests that change a district directly; settings saves do it themselves). */
export function forgetDistrictContext(districtId?: string): void {
  if (districtId) memo.forget([districtId]);
  else memo.clear();
}
