import type { Types } from 'mongoose';
import { canSeeSchool, type Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { recordAudit } from '../audit';
import type { ContactKey, Lang } from '../content';
import { contactChanges, contactFallbacks, storedContacts, type ContactFallback, type ContactInput, type ContactsInput } from '../settings';
import { School } from './school.model';
import { forgetSchoolContacts, getSchoolFallbackContext } from './contact-tree';

export type SchoolContactsView = {
  id: string;
  name: string;
  code: string;
  contacts: Partial<Record<ContactKey, ContactInput>>;
  /** Per contact, what the content uses when the school leaves it empty, in each language. */
  fallbacks: Record<Lang, Record<ContactKey, ContactFallback>>;
};

type SchoolDoc = { _id: Types.ObjectId; code: string; name: string; district: Types.ObjectId; region?: Types.ObjectId | null; contacts?: Record<string, { name?: string; nameEs?: string; phone?: string }> };

/** The school, when the actor may manage its contacts: a district admin any of the district's, a principal their own. Else 404. */
async function findSchool(actor: Actor, schoolId: string): Promise<SchoolDoc> {
  const doc = await School.findOne({ _id: schoolId, district: actor.districtId }, { code: 1, name: 1, district: 1, region: 1, contacts: 1 }).lean<SchoolDoc>();
  if (!doc || !canSeeSchool(actor, schoolId, doc.district.toString(), doc.region ? doc.region.toString() : null)) throw notFound();
  return doc;
}

export async function getSchoolContacts(actor: Actor, schoolId: string): Promise<SchoolContactsView> {
  const doc = await findSchool(actor, schoolId);
  const { district, region } = await getSchoolFallbackContext(actor.districtId, doc.region ? doc.region.toString() : '');
  const fallbacks = { en: contactFallbacks(district, region, 'en'), es: contactFallbacks(district, region, 'es') };
  return { id: schoolId, name: doc.name, code: doc.code, contacts: storedContacts(doc.contacts), fallbacks };
}

/** Saves the school's own contacts (all of them, as the form posts them) and records each change, old → new. */
export async function updateSchoolContacts(actor: Actor, schoolId: string, contacts: ContactsInput, requestId?: string): Promise<void> {
  const before = await findSchool(actor, schoolId);
  const changes = contactChanges(storedContacts(before.contacts), contacts);
  if (changes.length === 0) return;
  await School.updateOne({ _id: schoolId, district: actor.districtId }, { $set: { contacts } }, { runValidators: true });
  forgetSchoolContacts(actor.districtId, schoolId);
  await recordAudit(actor, { action: 'school.contacts_updated', target: { kind: 'school', id: schoolId }, details: { changes }, requestId });
}
