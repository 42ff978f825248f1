/**
 * Deleting a region (docs/contacts.md, "Deleting a region"). It lives with the schools because it is mostly
 * about them: schools sit above regions (they read a region's contacts), so regions cannot reach the schools.
 * The region's schools become "no region" — their own contacts stay — and then use the district's contacts
 * where they have none of their own; the region's and the schools' contact memos are dropped at once.
 */
import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { recordAudit } from '../audit';
import { Region, getRegion, removeRegionRecord } from '../regions';
import { forgetSchoolContacts } from './contact-tree';
import { School } from './school.model';

export type RegionRemovalPreview = { id: string; code: string; name: string; schoolCount: number };

/** The confirm page: the region (another district's: 404) and how many schools are in it. */
export async function previewRegionRemoval(actor: Actor, regionId: string): Promise<RegionRemovalPreview> {
  const region = await getRegion(actor, regionId);
  // Index { district, region }.
  const schoolCount = await School.countDocuments({ district: actor.districtId, region: regionId });
  return { id: region.id, code: region.code, name: region.name, schoolCount };
}

/** Detaches the region's schools, deletes it and audits it; returns how many schools it had. */
export async function deleteRegion(actor: Actor, regionId: string, ctx: { requestId?: string } = {}): Promise<{ schools: number }> {
  const region = await getRegion(actor, regionId);
  const inRegion = { district: new Types.ObjectId(actor.districtId), region: new Types.ObjectId(regionId) };
  const detach = async (): Promise<string[]> => {
    const ids = (await School.find(inRegion, { _id: 1 }).lean()).map((s) => String(s._id));
    if (ids.length) await School.updateMany(inRegion, { $unset: { region: 1 } });
    return ids;
  };
  const before = await detach();
  if (!(await removeRegionRecord(actor, regionId))) throw notFound();
  // A school moved into the region while it was being deleted (the school form checked it still existed).
  const late = await detach();
  const schools = [...new Set([...before, ...late])];
  for (const id of schools) forgetSchoolContacts(actor.districtId, id);
  await recordAudit(actor, { action: 'region.deleted', target: { kind: 'region', id: regionId }, details: { code: region.code, name: region.name, schools: schools.length }, requestId: ctx.requestId });
  return { schools: schools.length };
}

/**
 * After a school was written into a region (school form): whether the region still exists. Deleting a region
 * detaches its schools before and after removing its record, but a school form that checked the region just
 * before the deletion can write the school after both detaches — the school would then point at a deleted
 * region. So the writer checks again after its write: if the region is gone, it detaches the school itself
 * (only if it still points there). Either the deletion's second detach sees the write, or this check sees the
 * deletion: no order of the two leaves a school in a deleted region.
 */
export async function settleSchoolRegion(actor: Actor, schoolId: string, regionId: string): Promise<boolean> {
  if (await Region.exists({ _id: regionId, district: actor.districtId })) return true;
  await School.updateOne({ _id: schoolId, district: actor.districtId, region: regionId }, { $unset: { region: 1 } });
  forgetSchoolContacts(actor.districtId, schoolId);
  return false;
}
