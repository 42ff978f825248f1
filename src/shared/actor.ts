import type { Role, Language } from '../components/users/user.model';

/** Who is acting, decided on the server from the session — never from the request. */
export type Actor = Readonly<{
  userId: string;
  districtId: string;
  role: Role;
  schoolIds: readonly string[];
  /** Region administrators: the regions they oversee (empty or absent for every other role). */
  regionIds?: readonly string[];
  name: string;
  email: string;
  jobTitle?: string;
  language: Language;
  /** The account's session epoch (User.sessionEpoch): a session signed in with an older one is over. */
  sessionEpoch: number;
}>;

/**
 * Whether the actor may see data of the given school (principals: own schools; region administrators: the
 * schools of their region(s); district admins: their district). schoolRegionId: the school's region, '' or
 * null for none — every caller reads it with the school, so a region administrator is never let through by
 * a school whose region was not looked at.
 */
export function canSeeSchool(actor: Actor, schoolId: string, schoolDistrictId: string, schoolRegionId: string | null): boolean {
  if (schoolDistrictId !== actor.districtId) return false;
  if (actor.role === 'district_admin') return true;
  if (actor.role === 'principal') return actor.schoolIds.includes(schoolId);
  if (actor.role === 'region_admin') return Boolean(schoolRegionId) && regionIdsOf(actor).includes(schoolRegionId!);
  return false;
}

/** Leaders who see compliance for schools: principals, region administrators and district admins. */
export const SCHOOL_LEADERS = ['principal', 'region_admin', 'district_admin'] as const;

/** The regions a region administrator oversees; none for anyone else. */
export function regionIdsOf(actor: Actor): readonly string[] {
  return actor.role === 'region_admin' ? (actor.regionIds ?? []) : [];
}
