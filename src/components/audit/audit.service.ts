import { isValidObjectId, models, Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AuditEvent } from './audit.model';
import { detailText } from './audit-details';
import type { AuditRefs } from './audit-words';

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
  /**
   * `name`: the person's, school's or LMS registration's name now (never stored in the event), when the target is
   * one and still exists (a removed registration: the name its event stored). `token`: for the district's
   * provisioning token (whose id is the district's), whether the event concerns the current one.
   */
  target: { kind: string; id: string; name?: string; token?: { isCurrent: boolean; createdAt: Date | null } } | null;
  details: readonly (readonly [string, string])[];
  /** The details as stored, for the words (audit-details.ts); display only. */
  rawDetails: unknown;
  seq: number | null;
}>;

/** The district's audit log, newest first, optionally one action; 50 a page. */
export async function pageAuditEvents(actor: Actor, filter: { action?: string; page: number }): Promise<{ rows: AuditRow[]; refs: AuditRefs; total: number; page: number; pages: number }> {
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
  const [names, refs, integrations] = await Promise.all([
    targetNames(actor, events.map((e) => e.target)),
    detailRefs(actor, events.map((e) => e.details)),
    integrationNames(actor, events),
  ]);
  const targetOf = (e: (typeof events)[number]): AuditRow['target'] => {
    if (!e.target?.kind || !e.target.id) return null;
    const { kind, id } = e.target;
    if (kind === 'lti_platform') {
      const stored = (e.details as { name?: unknown } | undefined)?.name;
      return { kind, id, name: integrations.platformsById.get(id) ?? (typeof stored === 'string' && stored ? stored : undefined) };
    }
    if (kind === 'scim_token' && id === actor.districtId) {
      const current = integrations.scimTokenCreatedAt;
      return { kind, id, token: current && e.at >= current ? { isCurrent: true, createdAt: current } : { isCurrent: false, createdAt: null } };
    }
    return { kind, id, name: names.get(`${kind}:${id}`) };
  };
  return {
    rows: events.map((e) => ({
      id: String(e._id),
      at: e.at,
      action: e.action,
      actorName: e.actor?.name ?? null,
      actorEmail: e.actor?.email ?? null,
      target: targetOf(e),
      details: Object.entries((e.details ?? {}) as Record<string, unknown>).map(([k, v]) => [k, detailText(v)] as const),
      rawDetails: e.details,
      seq: typeof e.seq === 'number' ? e.seq : null,
    })),
    refs: { ...refs, ltiPlatformsByIssuer: integrations.platformsByIssuer },
    total,
    page,
    pages,
  };
}

/**
 * The district's LMS (LTI) registrations and provisioning (SCIM) token a page of events concerns, read now: one
 * read of the registrations (by the targets' ids and the issuers of LMS launches together) and one of the token,
 * each only when the page has such events, both filtered by the admin's district. A registration removed since
 * is not found (its events show the name they stored); a token replaced or revoked since is "an earlier token".
 */
async function integrationNames(
  actor: Actor,
  events: readonly { action: string; at: Date; target?: { kind?: string | null; id?: string | null } | null; details?: unknown }[],
): Promise<{ platformsById: Map<string, string>; platformsByIssuer: Map<string, string>; scimTokenCreatedAt: Date | null }> {
  const district = new Types.ObjectId(actor.districtId);
  const platformIds = new Set<string>();
  const issuers = new Set<string>();
  let hasToken = false;
  for (const e of events) {
    if (e.target?.kind === 'lti_platform' && isValidObjectId(e.target.id)) platformIds.add(String(e.target.id));
    if (e.target?.kind === 'scim_token' && e.target.id === actor.districtId) hasToken = true;
    const issuer = (e.details as { issuer?: unknown } | null | undefined)?.issuer;
    if (e.action === 'lti.linked' && typeof issuer === 'string' && issuer.length <= 500) issuers.add(issuer);
  }
  const platformsById = new Map<string, string>();
  const platformsByIssuer = new Map<string, string>();
  const LtiPlatform = models.LtiPlatform;
  const ScimToken = models.ScimToken;
  const [platforms, token] = await Promise.all([
    LtiPlatform && (platformIds.size > 0 || issuers.size > 0)
      ? (LtiPlatform.find(
          { district, $or: [{ _id: { $in: [...platformIds].map((id) => new Types.ObjectId(id)) } }, { issuer: { $in: [...issuers] } }] },
          { name: 1, issuer: 1 },
        ).lean() as unknown as Promise<{ _id: Types.ObjectId; name?: string; issuer?: string }[]>)
      : [],
    ScimToken && hasToken ? (ScimToken.findOne({ district }, { createdAt: 1 }).lean() as unknown as Promise<{ createdAt?: Date } | null>) : null,
  ]);
  const byIssuer = new Map<string, string[]>();
  for (const p of platforms) {
    if (!p.name) continue;
    platformsById.set(String(p._id), p.name);
    if (p.issuer && issuers.has(p.issuer)) byIssuer.set(p.issuer, [...(byIssuer.get(p.issuer) ?? []), p.name]);
  }
  // Two registrations of one issuer (two client ids): the launch event cannot tell which, so neither is named.
  for (const [issuer, found] of byIssuer) if (found.length === 1) platformsByIssuer.set(issuer, found[0]);
  return { platformsById, platformsByIssuer, scimTokenCreatedAt: token?.createdAt instanceof Date ? token.createdAt : null };
}

/**
 * The names of the people and schools a page of events concerns, read now from the district's own records (two
 * indexed `$in` reads a page; a completion is named by its person: two more). Models are looked up by name: the
 * users and schools components record audit events themselves, so importing them here would make a cycle.
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
  // A completion is named by the person who holds it (a group session's completions are recorded by the facilitator).
  const readCompletions = async () => {
    const ids = idsOf('completion');
    if (ids.length === 0 || !models.Completion || !models.User) return;
    const found = (await models.Completion.find({ _id: { $in: ids }, district }, { user: 1 }).lean()) as unknown as { _id: Types.ObjectId; user: Types.ObjectId }[];
    const people = (await models.User.find({ _id: { $in: [...new Set(found.map((c) => String(c.user)))].map((id) => new Types.ObjectId(id)) }, district }, { name: 1 }).lean()) as unknown as { _id: Types.ObjectId; name?: string }[];
    const nameOf = new Map(people.map((p) => [String(p._id), p.name]));
    for (const completion of found) {
      const name = nameOf.get(String(completion.user));
      if (name) names.set(`completion:${String(completion._id)}`, name);
    }
  };
  await Promise.all([read('user', 'User'), read('school', 'School'), read('region', 'Region'), readCompletions()]);
  return names;
}

/** The detail keys that hold a school id, a list of school ids, a school code or a module slug. */
const SCHOOL_ID_KEYS = ['school'];
const SCHOOL_ID_LIST_KEYS = ['schools', 'from', 'to'];
const SCHOOL_CODE_LIST_KEYS = ['schoolCodes'];
const MODULE_KEYS = ['moduleSlug'];

/**
 * The names the details of a page of events refer to, read now (never stored in an event): the district's own
 * schools by id and by code, and module titles — three indexed `$in` reads a page at most. Ids of another
 * district are never resolved. By model name, for the same reason as targetNames.
 */
async function detailRefs(actor: Actor, details: unknown[]): Promise<AuditRefs> {
  const schoolIds = new Set<string>();
  const schoolCodes = new Set<string>();
  const slugs = new Set<string>();
  const addId = (v: unknown) => {
    if (v instanceof Types.ObjectId || (typeof v === 'string' && /^[0-9a-f]{24}$/i.test(v))) schoolIds.add(String(v));
  };
  const addCode = (v: unknown) => {
    if (typeof v === 'string' && v.length > 0 && v.length <= 40) schoolCodes.add(v);
  };
  for (const d of details) {
    if (!d || typeof d !== 'object') continue;
    const obj = d as Record<string, unknown>;
    for (const k of SCHOOL_ID_KEYS) addId(obj[k]);
    for (const k of SCHOOL_ID_LIST_KEYS) if (Array.isArray(obj[k])) (obj[k] as unknown[]).forEach(addId);
    for (const k of SCHOOL_CODE_LIST_KEYS) if (Array.isArray(obj[k])) (obj[k] as unknown[]).forEach(addCode);
    const filters = obj.filters as Record<string, unknown> | undefined;
    if (filters && typeof filters === 'object') {
      addCode(filters.school);
      if (typeof filters.module === 'string') slugs.add(filters.module);
    }
    for (const k of MODULE_KEYS) if (typeof obj[k] === 'string') slugs.add(obj[k] as string);
  }
  const district = new Types.ObjectId(actor.districtId);
  const schoolsById = new Map<string, string>();
  const schoolsByCode = new Map<string, string>();
  const moduleTitles = new Map<string, { en: string; es: string }>();
  const School = models.School;
  const TrainingModule = models.TrainingModule;
  await Promise.all([
    School && schoolIds.size > 0
      ? School.find({ _id: { $in: [...schoolIds].map((id) => new Types.ObjectId(id)) }, district }, { name: 1 })
          .lean()
          .then((found) => {
            for (const s of found as unknown as { _id: Types.ObjectId; name?: string }[]) if (s.name) schoolsById.set(String(s._id), s.name);
          })
      : undefined,
    School && schoolCodes.size > 0
      ? School.find({ district, code: { $in: [...schoolCodes] } }, { code: 1, name: 1 })
          .lean()
          .then((found) => {
            for (const s of found as unknown as { code?: string; name?: string }[]) if (s.code && s.name) schoolsByCode.set(s.code, s.name);
          })
      : undefined,
    // Module titles are not district data: every district plays the same published modules. Latest version wins.
    TrainingModule && slugs.size > 0
      ? TrainingModule.find({ slug: { $in: [...slugs] } }, { slug: 1, version: 1, title: 1 })
          .sort({ slug: 1, version: 1 })
          .lean()
          .then((found) => {
            for (const m of found as unknown as { slug: string; title?: { en?: string; es?: string } }[]) {
              if (m.title?.en && m.title.es) moduleTitles.set(m.slug, { en: m.title.en, es: m.title.es });
            }
          })
      : undefined,
  ]);
  return { schoolsById, schoolsByCode, moduleTitles };
}

/** The actions that occur in the district's log (for the filter). */
export async function auditActions(actor: Actor): Promise<string[]> {
  return ((await AuditEvent.distinct('action', { district: actor.districtId })) as string[]).sort();
}
