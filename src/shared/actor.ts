import type { Role, Language } from '../components/users/user.model';

/** Who is acting, decided on the server from the session — never from the request. */
export type Actor = Readonly<{
  userId: string;
  districtId: string;
  role: Role;
  schoolIds: readonly string[];
  name: string;
  email: string;
  jobTitle?: string;
  language: Language;
  /** The account's session epoch (User.sessionEpoch): a session signed in with an older one is over. */
  sessionEpoch: number;
}>;

/** Whether the actor may see data of the given school (principals: own schools; admins: their district). */
export function canSeeSchool(actor: Actor, schoolId: string, schoolDistrictId: string): boolean {
  if (schoolDistrictId !== actor.districtId) return false;
  if (actor.role === 'district_admin') return true;
  if (actor.role === 'principal') return actor.schoolIds.includes(schoolId);
  return false;
}
