import { isValidObjectId, models, Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AuditEvent } from './audit.model';

export type AuditInput = {
  action: string;
  target?: { kind: string; id: string };
  details?: Record<string, unknown>;
  requestId?: string;
};

/** Writes one audit record. Pass the transaction's session when the audited change is transactional. */
export async function recordAudit(actor: Actor | null, input: AuditInput, session?: ClientSession): Promise<void> {
  await AuditEvent.create(
    [
      {
        district: actor?.districtId,
        actor: actor?.userId,
        action: input.action,
        target: input.target,
        details: input.details,
        requestId: input.requestId,
      },
    ],
    { session },
  );
}

export async function listAuditEvents(actor: Actor, filter: { action?: string; limit?: number } = {}) {
  const query: Record<string, unknown> = { district: actor.districtId };
  if (filter.action) query.action = filter.action;
  return AuditEvent.find(query)
    .sort({ at: -1 })
    .limit(Math.min(filter.limit ?? 100, 500))
    .populate('actor', 'name email')
    .lean();
}

export const AUDIT_PAGE_SIZE = 50;

export type AuditRow = Readonly<{
  id: string;
  at: Date;
  action: string;
  actorName: string | null;
  actorEmail: string | null;
  /** `name`: the person's or school's name now (never stored in the event), when the target is one and still exists. */
  target: { kind: string; id: string; name?: string } | null;
  details: readonly (readonly [string, string])[];
  seq: number | null;
}>;

/** A detail value as short text: nested objects as key=value, lists joined; never more than 200 characters. */
function detailText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(detailText).join(', ');
  if (typeof value === 'object') {
    const hex = (value as { toHexString?: () => string }).toHexString;
    if (typeof hex === 'function') return hex.call(value);
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${detailText(v)}`)
      .join(', ');
  }
  return String(value).slice(0, 200);
}

/** The district's audit log, newest first, optionally one action; 50 a page. */
export async function pageAuditEvents(actor: Actor, filter: { action?: string; page: number }): Promise<{ rows: AuditRow[]; total: number; page: number; pages: number }> {
  const query: Record<string, unknown> = { district: actor.districtId };
  if (filter.action) query.action = filter.action;
  // Indexes { district, at } and { district, action, at }.
  const total = await AuditEvent.countDocuments(query);
  const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
  const page = Math.min(filter.page, pages);
  const events = await AuditEvent.find(query)
    .sort({ at: -1, _id: -1 })
    .skip((page - 1) * AUDIT_PAGE_SIZE)
    .limit(AUDIT_PAGE_SIZE)
    .populate<{ actor: { name: string; email: string } | null }>('actor', 'name email')
    .lean();
  const names = await targetNames(actor, events.map((e) => e.target));
  return {
    rows: events.map((e) => ({
      id: String(e._id),
      at: e.at,
      action: e.action,
      actorName: e.actor?.name ?? null,
      actorEmail: e.actor?.email ?? null,
      target: e.target?.kind && e.target.id ? { kind: e.target.kind, id: e.target.id, name: names.get(`${e.target.kind}:${e.target.id}`) } : null,
      details: Object.entries((e.details ?? {}) as Record<string, unknown>).map(([k, v]) => [k, detailText(v)] as const),
      seq: typeof e.seq === 'number' ? e.seq : null,
    })),
    total,
    page,
    pages,
  };
}

/**
 * The names of the people and schools a page of events concerns, read now from the district's own records (two
 * indexed `$in` reads a page). Models are looked up by name: the users and schools components record audit
 * events themselves, so importing them here would make a cycle.
 */
async function targetNames(actor: Actor, targets: ({ kind?: string | null; id?: string | null } | null | undefined)[]): Promise<Map<string, string>> {
  const idsOf = (kind: string) => [...new Set(targets.filter((t) => t?.kind === kind && isValidObjectId(t.id)).map((t) => String(t!.id)))].map((id) => new Types.ObjectId(id));
  const district = new Types.ObjectId(actor.districtId);
  const names = new Map<string, string>();
  const read = async (kind: string, model: string) => {
    const ids = idsOf(kind);
    if (ids.length === 0 || !models[model]) return;
    const found = (await models[model].find({ _id: { $in: ids }, district }, { name: 1 }).lean()) as unknown as { _id: Types.ObjectId; name?: string }[];
    for (const doc of found) if (doc.name) names.set(`${kind}:${String(doc._id)}`, doc.name);
  };
  await Promise.all([read('user', 'User'), read('school', 'School')]);
  return names;
}

/** The actions that occur in the district's log (for the filter). */
export async function auditActions(actor: Actor): Promise<string[]> {
  return ((await AuditEvent.distinct('action', { district: actor.districtId })) as string[]).sort();
}
