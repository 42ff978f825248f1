import type { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { listRegionOptions } from '../regions';
import { forgetSchoolContacts } from './contact-tree';
import { settleSchoolRegion } from './region-removal';
import { School } from './school.model';
import { PAGE_SIZE, type SchoolInput, type SchoolListQuery } from './schools.schemas';

export type SchoolView = { id: string; code: string; name: string; active: boolean; regionId: string };
export type Page<T> = { items: T[]; total: number; page: number; pages: number };
export type Outcome = { ok: true; id: string } | { ok: false; errors: FieldErrors };
export type Context = { requestId?: string };

type SchoolDoc = { _id: Types.ObjectId; code: string; name: string; active?: boolean | null; region?: Types.ObjectId | null };

function toView(s: SchoolDoc): SchoolView {
  return { id: s._id.toString(), code: s.code, name: s.name, active: s.active !== false, regionId: s.region ? s.region.toString() : '' };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function listSchools(actor: Actor, query: SchoolListQuery): Promise<Page<SchoolView & { regionName: string }>> {
  const filter: Record<string, unknown> = { district: actor.districtId };
  if (query.region) filter.region = query.region;
  if (query.active !== 'all') filter.active = query.active === 'true' ? { $ne: false } : false;
  if (query.q) {
    const pattern = new RegExp(escapeRegex(query.q), 'i');
    filter.$or = [{ name: pattern }, { code: pattern }];
  }
  const total = await School.countDocuments(filter);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const page = Math.min(query.page, pages);
  const [docs, regions] = await Promise.all([
    School.find(filter).select('code name active region').sort({ name: 1, _id: 1 }).skip((page - 1) * PAGE_SIZE).limit(PAGE_SIZE).lean<SchoolDoc[]>(),
    listRegionOptions(actor),
  ]);
  const regionNames = new Map(regions.map((r) => [r.id, r.name]));
  return { items: docs.map((d) => ({ ...toView(d), regionName: regionNames.get(d.region?.toString() ?? '') ?? '' })), total, page, pages };
}

/** Every school of the actor's district (for pickers and filters), by name. ~1,300 small rows at most. */
export async function listSchoolOptions(actor: Actor): Promise<SchoolView[]> {
  const docs = await School.find({ district: actor.districtId }).select('code name active').sort({ name: 1 }).lean<SchoolDoc[]>();
  return docs.map(toView);
}

/** How many of the given school ids belong to the actor's district (to validate a submitted list). */
export async function countSchoolsInDistrict(actor: Actor, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return School.countDocuments({ _id: { $in: ids }, district: actor.districtId });
}

/** Names of the actor's own schools, for the page header. */
export async function ownSchoolNames(actor: Actor): Promise<string[]> {
  if (actor.schoolIds.length === 0) return [];
  const docs = await School.find({ _id: { $in: actor.schoolIds }, district: actor.districtId }).select('name').sort({ name: 1 }).lean<SchoolDoc[]>();
  return docs.map((d) => d.name);
}

export type Workplace = { id: string; name: string };

/**
 * The schools a person works at, as the "Working at" choice lists them: their own active schools of their
 * district, in the order of their account (the first is where they work unless they choose another).
 */
export async function ownWorkplaces(actor: Actor): Promise<Workplace[]> {
  if (actor.schoolIds.length === 0) return [];
  const docs = await School.find({ _id: { $in: actor.schoolIds }, district: actor.districtId, active: { $ne: false } }).select('name').lean<SchoolDoc[]>();
  const names = new Map(docs.map((d) => [d._id.toString(), d.name]));
  return actor.schoolIds.filter((id) => names.has(id)).map((id) => ({ id, name: names.get(id)! }));
}

export async function getSchool(actor: Actor, id: string): Promise<SchoolView> {
  const doc = await School.findOne({ _id: id, district: actor.districtId }).select('code name active region').lean<SchoolDoc>();
  if (!doc) throw notFound();
  return toView(doc);
}

function duplicateCode(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/** The region's code when it is the actor's district's; null for none; undefined for a region not found here. */
async function regionCode(actor: Actor, regionId: string): Promise<string | null | undefined> {
  if (!regionId) return null;
  return (await listRegionOptions(actor)).find((r) => r.id === regionId)?.code;
}

const regionInvalid: Outcome = { ok: false, errors: { region: 'schools.errors.regionInvalid' } };

export async function createSchool(actor: Actor, input: SchoolInput, ctx: Context = {}): Promise<Outcome> {
  if (await School.exists({ district: actor.districtId, code: input.code })) return { ok: false, errors: { code: 'schools.errors.codeTaken' } };
  const region = await regionCode(actor, input.region);
  if (region === undefined) return regionInvalid;
  let created;
  try {
    created = await School.create({ district: actor.districtId, code: input.code, name: input.name, active: true, ...(input.region ? { region: input.region } : {}) });
  } catch (err) {
    if (duplicateCode(err)) return { ok: false, errors: { code: 'schools.errors.codeTaken' } };
    throw err;
  }
  const id = created._id.toString();
  // The region deleted meanwhile: the school stays, with no region (as the region's other schools).
  const kept = input.region ? await settleSchoolRegion(actor, id, input.region) : true;
  await recordAudit(actor, { action: 'school.created', target: { kind: 'school', id }, details: { code: input.code, ...(region && kept ? { region } : {}) }, requestId: ctx.requestId });
  return { ok: true, id };
}

export async function updateSchool(actor: Actor, id: string, input: SchoolInput, ctx: Context = {}): Promise<Outcome> {
  const before = await getSchool(actor, id);
  if (await School.exists({ district: actor.districtId, code: input.code, _id: { $ne: id } })) return { ok: false, errors: { code: 'schools.errors.codeTaken' } };
  const region = await regionCode(actor, input.region);
  if (region === undefined) return regionInvalid;
  try {
    await School.updateOne({ _id: id, district: actor.districtId }, input.region ? { $set: { code: input.code, name: input.name, region: input.region } } : { $set: { code: input.code, name: input.name }, $unset: { region: 1 } });
  } catch (err) {
    if (duplicateCode(err)) return { ok: false, errors: { code: 'schools.errors.codeTaken' } };
    throw err;
  }
  if (before.code !== input.code || before.name !== input.name) {
    await recordAudit(actor, {
      action: 'school.updated',
      target: { kind: 'school', id },
      details: { from: { code: before.code, name: before.name }, to: { code: input.code, name: input.name } },
      requestId: ctx.requestId,
    });
  }
  // The region deleted meanwhile: the school ends with no region, and the audit says so.
  const regionNow = input.region && !(await settleSchoolRegion(actor, id, input.region)) ? '' : input.region;
  if (before.regionId !== regionNow) {
    forgetSchoolContacts(actor.districtId, id);
    const from = before.regionId ? ((await listRegionOptions(actor)).find((r) => r.id === before.regionId)?.code ?? null) : null;
    await recordAudit(actor, { action: 'school.region_changed', target: { kind: 'school', id }, details: { from, to: regionNow ? region : null }, requestId: ctx.requestId });
  }
  return { ok: true, id };
}

/** A deactivated school keeps its records and people; it leaves pickers and dashboards' active lists. */
export async function setSchoolActive(actor: Actor, id: string, active: boolean, ctx: Context = {}): Promise<Outcome> {
  const before = await getSchool(actor, id);
  if (before.active === active) return { ok: true, id };
  await School.updateOne({ _id: id, district: actor.districtId }, { $set: { active } });
  forgetSchoolContacts(actor.districtId, id);
  await recordAudit(actor, { action: active ? 'school.reactivated' : 'school.deactivated', target: { kind: 'school', id }, requestId: ctx.requestId });
  return { ok: true, id };
}
