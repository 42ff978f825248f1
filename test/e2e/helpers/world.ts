import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { Assignment, syncAssignment } from '../../../src/components/assignments';

/**
 * A small district for the journeys: two schools, a few staff with the job titles that meet officers
 * first, a principal and a district admin. Names are fictional; each call makes a new district so
 * files do not share users.
 */
export async function createWorld(tag = 'w') {
  const district = await createDistrict({ name: 'Riverbend Unified' });
  const lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: `LIN-${tag}` });
  const roosevelt = await createSchool(district, { name: 'Roosevelt Middle', code: `ROO-${tag}` });
  const mk = (name: string, local: string, extra: Parameters<typeof createUser>[1]) =>
    createUser(district, { name, email: `${local}.${tag}@riverbend.example`, ...extra });
  const users = {
    teacher: await mk('Ana Rivera', 'ana.rivera', { role: 'staff', jobTitle: 'teacher', schools: [lincoln] }),
    spanishTeacher: await mk('Beatriz Soto', 'beatriz.soto', { role: 'staff', jobTitle: 'teacher', schools: [lincoln] }),
    frontOffice: await mk('Fatima Haddad', 'fatima.haddad', { role: 'staff', jobTitle: 'front_office', schools: [lincoln] }),
    overdueTeacher: await mk('Omar Price', 'omar.price', { role: 'staff', jobTitle: 'teacher', schools: [lincoln] }),
    custodian: await mk('Carlos Mendez', 'carlos.mendez', { role: 'staff', jobTitle: 'custodian', schools: [lincoln] }),
    noJsTeacher: await mk('Nadia Brooks', 'nadia.brooks', { role: 'staff', jobTitle: 'teacher', schools: [lincoln] }),
    otherSchoolTeacher: await mk('Ravi Shah', 'ravi.shah', { role: 'staff', jobTitle: 'teacher', schools: [roosevelt] }),
    principal: await mk('Patricia Lowe', 'patricia.lowe', { role: 'principal', schools: [lincoln] }),
    admin: await mk('Dana Whitfield', 'dana.whitfield', { role: 'district_admin' }),
  };
  return { district, schools: { lincoln, roosevelt }, users };
}

export type World = Awaited<ReturnType<typeof createWorld>>;

/** 'YYYY-MM-DD' n days from today (negative: in the past). */
export function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Assigns a module to the district (as the admin's assignment form would) and brings the compliance
 * records up to date. Empty audience lists mean everyone on that axis.
 */
export async function assignTraining(
  world: World,
  moduleSlug: string,
  options: { roles?: string[]; jobTitles?: string[]; dueInDays: number; minVersion?: number },
): Promise<string> {
  const created = await Assignment.create({
    district: world.district._id,
    moduleSlug,
    audience: { roles: options.roles ?? ['staff'], jobTitles: options.jobTitles ?? [], schools: [] },
    due: { kind: 'fixed', date: isoDay(options.dueInDays) },
    recurrence: { kind: 'none' },
    minVersion: options.minVersion ?? 1,
    createdBy: world.users.admin._id,
  });
  await syncAssignment(created._id);
  return String(created._id);
}
