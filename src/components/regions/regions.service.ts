import type { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { TtlMemo } from '../../shared/ttl-memo';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import type { ContactKey } from '../content';
import { contactChanges, storedContacts, type ContactInput } from '../settings';
import { Region } from './region.model';
import type { RegionInput } from './regions.schemas';

export type RegionContacts = Readonly<Partial<Record<ContactKey, Readonly<ContactInput>>>>;
export type RegionView = { id: string; code: string; name: string; contacts: RegionContacts };
export type RegionOption = { id: string; code: string; name: string };
export type Outcome = { ok: true; id: string } | { ok: false; errors: FieldErrors };
export type Context = { requestId?: string };

type RegionDoc = { _id: Types.ObjectId; code: string; name: string; contacts?: Record<string, { name?: string; nameEs?: string; phone?: string }> };

function toView(r: RegionDoc): RegionView {
  return { id: r._id.toString(), code: r.code, name: r.name, contacts: storedContacts(r.contacts) };
}

/** The district's regions by code (a district has a handful; LAUSD six). */
export async function listRegions(actor: Actor): Promise<RegionView[]> {
  const docs = await Region.find({ district: actor.districtId }).sort({ code: 1 }).lean<RegionDoc[]>();
  return docs.map(toView);
}

/** For the school form's select and the schools list. */
export async function listRegionOptions(actor: Actor): Promise<RegionOption[]> {
  const docs = await Region.find({ district: actor.districtId }).select('code name').sort({ code: 1 }).lean<RegionDoc[]>();
  return docs.map((r) => ({ id: r._id.toString(), code: r.code, name: r.name }));
}

export async function getRegion(actor: Actor, id: string): Promise<RegionView> {
  const doc = await Region.findOne({ _id: id, district: actor.districtId }).lean<RegionDoc>();
  if (!doc) throw notFound();
  return toView(doc);
}

const isDuplicate = (err: unknown) => (err as { code?: number })?.code === 11000;
const codeTaken: Outcome = { ok: false, errors: { code: 'regions.errors.codeTaken' } };

export async function createRegion(actor: Actor, input: RegionInput, ctx: Context = {}): Promise<Outcome> {
  if (await Region.exists({ district: actor.districtId, code: input.code })) return codeTaken;
  let created;
  try {
    created = await Region.create({ district: actor.districtId, code: input.code, name: input.name, contacts: input.contacts });
  } catch (err) {
    if (isDuplicate(err)) return codeTaken;
    throw err;
  }
  const id = created._id.toString();
  await recordAudit(actor, { action: 'region.created', target: { kind: 'region', id }, details: { code: input.code, contacts: contactChanges({}, input.contacts) }, requestId: ctx.requestId });
  return { ok: true, id };
}

export async function updateRegion(actor: Actor, id: string, input: RegionInput, ctx: Context = {}): Promise<Outcome> {
  const before = await getRegion(actor, id);
  if (await Region.exists({ district: actor.districtId, code: input.code, _id: { $ne: id } })) return codeTaken;
  try {
    await Region.updateOne({ _id: id, district: actor.districtId }, { $set: { code: input.code, name: input.name, contacts: input.contacts } }, { runValidators: true });
  } catch (err) {
    if (isDuplicate(err)) return codeTaken;
    throw err;
  }
  forgetRegionContacts(actor.districtId, id);
  const contacts = contactChanges(before.contacts, input.contacts);
  if (before.code !== input.code || before.name !== input.name || contacts.length > 0) {
    await recordAudit(actor, {
      action: 'region.updated',
      target: { kind: 'region', id },
      details: { from: { code: before.code, name: before.name }, to: { code: input.code, name: input.name }, contacts },
      requestId: ctx.requestId,
    });
  }
  return { ok: true, id };
}

/**
 * Removes the region record (the schools component detaches its schools first: region-removal.ts) and drops its
 * contacts memo. false when it was already gone (another admin deleted it a moment ago).
 */
export async function removeRegionRecord(actor: Actor, id: string): Promise<boolean> {
  const { deletedCount } = await Region.deleteOne({ _id: id, district: actor.districtId });
  forgetRegionContacts(actor.districtId, id);
  return deletedCount === 1;
}

/**
 * A region's contacts for the content (every scenario step of its schools' staff): the same short per-process
 * memo as the district's settings (settings.service getDistrictContext). A save here drops it at once; other
 * app instances see a change within CACHE_MS. The entry's identity changes only when it is read again, so the
 * caller can memoise what it builds from it.
 */
const CACHE_MS = 5_000;
export type RegionEntry = Readonly<{ id: string; code: string; contacts: RegionContacts }>;
const regionContacts = new TtlMemo<RegionEntry>(CACHE_MS);

export function getRegionContacts(districtId: string, regionId: string): Promise<RegionEntry | null> {
  return regionContacts.get(`${districtId}:${regionId}`, async () => {
    const doc = await Region.findOne({ _id: regionId, district: districtId }, { code: 1, contacts: 1 }).lean<RegionDoc>();
    return doc ? Object.freeze({ id: regionId, code: doc.code, contacts: Object.freeze(storedContacts(doc.contacts)) }) : null;
  });
}

/** Drops the memo (a save in this process; tests that change a region directly). */
export function forgetRegionContacts(districtId?: string, regionId?: string): void {
  if (districtId && regionId) regionContacts.forget([`${districtId}:${regionId}`]);
  else regionContacts.clear();
}
