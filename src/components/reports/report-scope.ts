import type { Actor } from '../../shared/actor';
import { canSeeSchool } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { District } from '../districts';
import { School } from '../schools';

export type VisibleSchool = { id: string; code: string; name: string; /** '' = no region */ region: string };

/**
 * The school if the actor may see it (principal: own school; region administrator: a school of their
 * region(s); district admin: any school of the district). Anything else — another district, another school, a made-up id — is 404, never 403.
 */
export async function visibleSchool(actor: Actor, schoolId: string): Promise<VisibleSchool> {
  const school = await School.findOne({ _id: schoolId, district: actor.districtId }, { code: 1, name: 1, district: 1, region: 1 }).lean();
  if (!school || !canSeeSchool(actor, String(school._id), String(school.district), school.region ? String(school.region) : null)) throw notFound();
  return { id: String(school._id), code: school.code, name: school.name, region: school.region ? String(school.region) : '' };
}

export type DistrictInfo = { id: string; name: string; timeZone: string; smallGroupThreshold: number };

export async function districtOf(actor: Actor): Promise<DistrictInfo> {
  const district = await District.findById(actor.districtId, { name: 1, timeZone: 1, 'settings.smallGroupThreshold': 1 }).lean();
  if (!district) throw notFound();
  return { id: String(district._id), name: district.name, timeZone: district.timeZone, smallGroupThreshold: district.settings?.smallGroupThreshold ?? 0 };
}

export type DirectoryEntry = { code: string; name: string; active: boolean; /** '' = no region */ region: string };

/** code, name and region of every school of the district, by id (about 1,300 small documents; read whole: cheaper than a projection on the embedded server). */
export async function schoolDirectory(districtId: string): Promise<Map<string, DirectoryEntry>> {
  const schools = await School.find({ district: districtId }).lean();
  return new Map(schools.map((s) => [String(s._id), { code: s.code, name: s.name, active: s.active !== false, region: s.region ? String(s.region) : '' }]));
}
