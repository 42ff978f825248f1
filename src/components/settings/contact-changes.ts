import { CONTACT_KEYS, type ContactKey } from '../content';
import type { ContactInput } from './settings.schemas';

type Contacts = Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>>;

/** One contact's change as the audit log stores it: old → new (null: not set at that level). */
export type ContactChange = { key: ContactKey; from: ContactInput | null; to: ContactInput | null };

const same = (a?: Readonly<ContactInput>, b?: Readonly<ContactInput>) => (a?.name ?? '') === (b?.name ?? '') && (a?.nameEs ?? '') === (b?.nameEs ?? '') && (a?.phone ?? '') === (b?.phone ?? '');
const copy = (c?: Readonly<ContactInput>): ContactInput | null => (c ? { name: c.name, ...(c.nameEs ? { nameEs: c.nameEs } : {}), phone: c.phone } : null);

/** The contacts that differ between two saves, in CONTACT_KEYS order. */
export function contactChanges(before: Contacts, after: Contacts): ContactChange[] {
  return CONTACT_KEYS.filter((key) => !same(before[key], after[key])).map((key) => ({ key, from: copy(before[key]), to: copy(after[key]) }));
}
