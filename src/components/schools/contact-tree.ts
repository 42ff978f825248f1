/**
 * The contact tree as a learner meets it: each contact the content names is the school's own, else its region's,
 * else the district's, else the neutral wording (settings.service contentSettings). A contact is taken whole
 * (name, Spanish wording, phone) from the first level that names it: a school's own principal with no phone
 * shows the neutral "see your site's emergency card", never the district's number for someone else.
 *
 * Every scenario step renders content, so this is memoised per (district, school) with the same short
 * per-process memo as the district's settings: a save in this process drops it at once, other app instances
 * see a change within CACHE_MS (shared/ttl-memo.ts). In the steady state a step costs map lookups, no query: the
 * district's context, the region's contacts and the school's record are each memoised, and the merged context is kept
 * while all three are the same objects (the content renderer memoises its HTML per context object).
 */
import type { Types } from 'mongoose';
import type { ContactKey } from '../content';
import { getRegionContacts, type RegionEntry } from '../regions';
import { getDistrictContext, storedContacts, withContacts, type ContactInput, type DistrictContext } from '../settings';
import { TtlMemo } from '../../shared/ttl-memo';
import { School } from './school.model';

const CACHE_MS = 5_000;
type Contacts = Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>>;
type SchoolEntry = Readonly<{ id: string; isActive: boolean; regionId: string; contacts: Contacts }>;

const schools = new TtlMemo<SchoolEntry>(CACHE_MS);
const resolved = new Map<string, { district: DistrictContext; region: RegionEntry | null; school: SchoolEntry; value: DistrictContext }>();

type SchoolDoc = { _id: Types.ObjectId; active?: boolean | null; region?: Types.ObjectId | null; contacts?: Record<string, { name?: string; nameEs?: string; phone?: string }> };

/** One school's record as the tree needs it (memoised), or null for an unknown school or another district's. */
function schoolEntry(districtId: string, id: string): Promise<SchoolEntry | null> {
  return schools.get(`${districtId}:${id}`, async () => {
    const doc = await School.findOne({ _id: id, district: districtId }, { active: 1, region: 1, contacts: 1 }).lean<SchoolDoc>();
    return doc ? Object.freeze({ id, isActive: doc.active !== false, regionId: doc.region ? doc.region.toString() : '', contacts: Object.freeze(storedContacts(doc.contacts)) }) : null;
  });
}

function merge(district: DistrictContext, region: RegionEntry | null, school: SchoolEntry): DistrictContext {
  return withContacts(district, { ...district.contacts, ...(region?.contacts ?? {}), ...school.contacts });
}

async function resolve(district: DistrictContext, school: SchoolEntry): Promise<DistrictContext> {
  const region = school.regionId ? await getRegionContacts(district.districtId, school.regionId) : null;
  const key = `${district.districtId}:${school.id}`;
  const memo = resolved.get(key);
  if (memo && memo.district === district && memo.region === region && memo.school === school) return memo.value;
  const value = merge(district, region, school);
  resolved.set(key, { district, region, school, value });
  return value;
}

/**
 * The content's context for one school (a group session's school): its contacts over its region's over the
 * district's. An unknown school (or another district's) gives the district's context.
 */
export async function getSchoolContactContext(districtId: string, schoolId: string): Promise<DistrictContext> {
  const [district, school] = await Promise.all([getDistrictContext(districtId), schoolEntry(districtId, schoolId)]);
  return school ? resolve(district, school) : district;
}

/**
 * The content's context for a person: the contacts of the school they are working at — `workingAt`, when it is
 * one of their own active schools (the "Working at" choice, kept in their session) — else of their first active
 * school (in the order of their account's schools). Someone with no active school — a district admin — gets the
 * district's. The person's schools are all read through the memo, so the choice costs no query.
 */
export async function getPersonContactContext(person: Person, workingAt?: string): Promise<DistrictContext> {
  const [district, school] = await Promise.all([getDistrictContext(person.districtId), workplaceEntry(person, workingAt)]);
  return school ? resolve(district, school) : district;
}

/**
 * The id of the school whose contacts the person's training names (getPersonContactContext): `workingAt` when it is
 * one of their active schools, else their first active school; undefined when they have none. Attempts and
 * completions are recorded there (play.service.ts), so the school a learner was told to call is the school their
 * training counts at. Read through the same memo: no query in the steady state.
 */
export async function getPersonWorkplace(person: Person, workingAt?: string): Promise<string | undefined> {
  return (await workplaceEntry(person, workingAt))?.id;
}

type Person = { districtId: string; schoolIds: readonly string[] };

async function workplaceEntry(person: Person, workingAt: string | undefined): Promise<SchoolEntry | undefined> {
  const entries = await Promise.all(person.schoolIds.map((id) => schoolEntry(person.districtId, id)));
  return (entries.find((entry) => entry?.isActive && entry.id === workingAt) ?? entries.find((entry) => entry?.isActive)) || undefined;
}

/** What a school's own contacts fall back to (its region's, else the district's): the school contacts form shows it. */
export async function getSchoolFallbackContext(districtId: string, regionId: string): Promise<{ district: DistrictContext; region: RegionEntry | null }> {
  const [district, region] = await Promise.all([getDistrictContext(districtId), regionId ? getRegionContacts(districtId, regionId) : Promise.resolve(null)]);
  return { district, region };
}

/** Drops the memo for a school (a save in this process), or all of it (tests that change records directly). */
export function forgetSchoolContacts(districtId?: string, schoolId?: string): void {
  if (districtId && schoolId) {
    schools.forget([`${districtId}:${schoolId}`]);
    resolved.delete(`${districtId}:${schoolId}`);
  } else {
    schools.clear();
    resolved.clear();
  }
}
