/**
 * Provisioning of people through SCIM (docs/scim.md). The caller is a ScimClient (the district its token
 * belongs to), never a person: every query is scoped to that district. SCIM makes staff, and principals of
 * their schools only when the district allows it (scim-settings.service.ts); it never grants or changes a
 * district administrator, never deletes (DELETE deactivates: completion history is legal proof). Changes
 * reach compliance and open sessions through the same roster-changed notification as the Staff pages.
 */
import { Types } from 'mongoose';
import { rosterChanged } from '../../shared/domain-events';
import { translator } from '../../shared/i18n';
import { AuditEvent } from '../audit';
import { jobTitleLookup } from '../roster';
import { School } from '../schools';
import { JOB_TITLES, ROLES, User, type JobTitle, type LeanUser, type Role } from '../users';
import { ScimError, invalidValue, scimNotFound } from './scim-errors';
import type { ScimClient } from './scim-tokens.service';
import { guardDeactivation } from './scim-deactivations';
import { countIgnoredPrincipal, principalSetting } from './scim-settings.service';
import { readPatch, readResource, resolveDraft, type Draft, type PersonChanges, type PersonForScim, type UserFilter } from './scim-user';

export const MAX_RESULTS = 100;
const FIELDS = 'email name employeeId role jobTitle schools active preferredLanguage createdAt updatedAt';

type UserDoc = LeanUser & { createdAt?: Date | null; updatedAt?: Date | null };

export type Context = { requestId?: string };
export type ListQuery = { filter?: UserFilter; startIndex: number; count: number };
export type ListResult = { total: number; startIndex: number; people: PersonForScim[] };

let titles: Map<string, JobTitle> | undefined;
/** Job-title words the roster accepts (stored values, English and Spanish labels), built once. */
function jobTitles(): Map<string, JobTitle> {
  titles ??= jobTitleLookup((['en', 'es'] as const).map((lang) => {
    const t = translator(lang);
    return Object.fromEntries(JOB_TITLES.map((title) => [title, String(t(`jobTitles.${title}`))]));
  }));
  return titles;
}

let roleNames: Map<string, Role> | undefined;
/** The roles' English and Spanish labels ("Principal", "Director(a)", also without the "(a)"), lower-cased, built once. */
function rolesByName(): Map<string, Role> {
  if (!roleNames) {
    roleNames = new Map();
    for (const lang of ['en', 'es'] as const) {
      const t = translator(lang);
      for (const role of ROLES) {
        const label = String(t(`roles.${role}`)).trim().toLowerCase();
        for (const form of [label, label.replace(/\(a\)/g, ''), label.replace(/\(a\)/g, 'a')]) roleNames.set(form.trim(), role);
      }
    }
  }
  return roleNames;
}

function mapping() {
  return { jobTitlesByName: jobTitles(), rolesByName: rolesByName() };
}

const idPattern = /^[0-9a-f]{24}$/i;

async function findPerson(client: ScimClient, id: string): Promise<UserDoc> {
  if (!idPattern.test(id)) throw scimNotFound();
  const doc = await User.findOne({ _id: id, district: client.districtId }).select(FIELDS).lean<UserDoc>();
  if (!doc) throw scimNotFound();
  return doc;
}

/** School ids → codes for the answers (one query for a whole page of people). */
async function schoolCodes(client: ScimClient, docs: readonly UserDoc[]): Promise<Map<string, string>> {
  const ids = [...new Set(docs.flatMap((d) => (d.schools ?? []).map(String)))];
  if (ids.length === 0) return new Map();
  const schools = await School.find({ district: client.districtId, _id: { $in: ids } }).select('code').lean();
  return new Map(schools.map((s) => [String(s._id), s.code]));
}

function forScim(doc: UserDoc, codes: ReadonlyMap<string, string>): PersonForScim {
  return {
    id: String(doc._id),
    email: doc.email,
    name: doc.name,
    employeeId: doc.employeeId,
    active: doc.active !== false,
    jobTitle: doc.role === 'staff' ? doc.jobTitle : null,
    preferredLanguage: doc.preferredLanguage,
    role: doc.role,
    schoolCodes: (doc.schools ?? []).map((s) => codes.get(String(s))).filter((c): c is string => Boolean(c)),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

async function present(client: ScimClient, doc: UserDoc): Promise<PersonForScim> {
  return forScim(doc, await schoolCodes(client, [doc]));
}

export async function getPerson(client: ScimClient, id: string): Promise<PersonForScim> {
  return present(client, await findPerson(client, id));
}

/** The district's people (all roles, active or not: a client must find someone to reactivate them), by id order. */
export async function listPeople(client: ScimClient, query: ListQuery): Promise<ListResult> {
  const filter: Record<string, unknown> = { district: client.districtId };
  if (query.filter) filter[query.filter.attribute === 'userName' ? 'email' : 'employeeId'] = query.filter.value;
  const total = await User.countDocuments(filter);
  const docs = query.count === 0 ? [] : await User.find(filter).select(FIELDS).sort({ _id: 1 }).skip(query.startIndex - 1).limit(query.count).lean<UserDoc[]>();
  const codes = await schoolCodes(client, docs);
  return { total, startIndex: query.startIndex, people: docs.map((d) => forScim(d, codes)) };
}

/** School codes → ids of the district's active schools; an unknown or inactive code is refused by name. */
async function schoolIdsFor(client: ScimClient, codes: readonly string[]): Promise<Types.ObjectId[]> {
  // School codes are stored upper-case (the Schools form); codes sent in any case match. One indexed read ({ district, code }).
  const asSent = [...new Set(codes.flatMap((c) => [c, c.toUpperCase()]))];
  const schools = await School.find({ district: client.districtId, code: { $in: asSent } }).select('code active').lean();
  const byCode = new Map(schools.map((s) => [s.code.toUpperCase(), s]));
  const ids: Types.ObjectId[] = [];
  for (const code of codes) {
    const school = byCode.get(code.toUpperCase());
    if (!school) throw invalidValue(`Unknown school code "${code.slice(0, 40)}" (the department attribute must hold school codes)`);
    if (school.active === false) throw invalidValue(`The school with code "${code.slice(0, 40)}" is inactive`);
    if (!ids.some((id) => id.equals(school._id))) ids.push(school._id);
  }
  return ids;
}

/** Email and employee id are unique in the district: a clash is SCIM's 409 uniqueness. */
async function checkUnique(client: ScimClient, changes: PersonChanges, exceptId?: Types.ObjectId): Promise<void> {
  const notSelf = exceptId ? { _id: { $ne: exceptId } } : {};
  if (changes.email !== undefined && (await User.exists({ district: client.districtId, email: changes.email, ...notSelf }))) {
    throw new ScimError(409, 'A person with this userName (email) already exists in the district', 'uniqueness');
  }
  if (changes.employeeId !== undefined && (await User.exists({ district: client.districtId, employeeId: changes.employeeId, ...notSelf }))) {
    throw new ScimError(409, 'A person with this employee id already exists in the district', 'uniqueness');
  }
}

function uniquenessRace(err: unknown): never {
  if ((err as { code?: unknown })?.code === 11000) throw new ScimError(409, 'A person with this userName or employee id already exists in the district', 'uniqueness');
  throw err;
}

async function audit(client: ScimClient, action: string, userId: string, fields: string[], ctx: Context, extra: Record<string, unknown> = {}): Promise<void> {
  // No person acts: the event names the channel (and the token), and only the names of the fields changed.
  await AuditEvent.create({
    district: client.districtId,
    action,
    target: { kind: 'user', id: userId },
    details: { via: 'scim', fields, ...extra },
    requestId: ctx.requestId,
  });
}

/** A promotion or demotion, recorded like the roster import's and the Staff page's (`user.role_changed`), with no actor. */
async function auditRoleChange(client: ScimClient, userId: string, from: Role, to: Role, ctx: Context): Promise<void> {
  await AuditEvent.create({ district: client.districtId, action: 'user.role_changed', target: { kind: 'user', id: userId }, details: { from, to, via: 'scim' }, requestId: ctx.requestId });
}

/**
 * The role provisioning may apply: while the district has not allowed principals, `roles` is read (and an
 * administrator still refused) but not applied; a request that would have made someone a principal is counted.
 * Returns the changes to apply and whether to count the request once it has succeeded.
 */
async function withRoleSetting(client: ScimClient, changes: PersonChanges, currentRole: Role | undefined): Promise<{ changes: PersonChanges; ignoredPrincipal: boolean }> {
  if (changes.role === undefined) return { changes, ignoredPrincipal: false };
  const { principalsAllowed } = await principalSetting(client.districtId);
  if (principalsAllowed) return { changes, ignoredPrincipal: false };
  const { role, ...rest } = changes;
  return { changes: rest, ignoredPrincipal: role === 'principal' && currentRole !== 'principal' };
}

/** Region administrators are made in the app (the role needs the region they oversee): provisioning never grants it. */
function refuseRegionAdmin(): never {
  throw new ScimError(400, 'Region administrators are made in the app only (a district admin sets the role and the region on the Staff page); nothing was changed', 'mutability');
}

export async function createPerson(client: ScimClient, body: unknown, ctx: Context = {}): Promise<PersonForScim> {
  const resolved = resolveDraft(readResource(body), undefined, mapping());
  // Refused whatever the principals setting (which only decides whether principal values are applied).
  if (resolved.role === 'region_admin') refuseRegionAdmin();
  const { changes, ignoredPrincipal } = await withRoleSetting(client, resolved, undefined);
  const role = changes.role ?? 'staff';
  await checkUnique(client, changes);
  const schools = await schoolIdsFor(client, changes.schoolCodes ?? []);
  let created;
  try {
    // No password: the person signs in with single sign-on (or an admin sets a password). Principals have
    // no job title (as in the roster import); they are principals of the schools sent (department).
    created = await User.create({
      district: new Types.ObjectId(client.districtId),
      email: changes.email,
      name: changes.name,
      employeeId: changes.employeeId,
      role,
      ...(role === 'staff' ? { jobTitle: changes.jobTitle } : {}),
      schools,
      active: changes.active,
      preferredLanguage: changes.preferredLanguage,
    });
  } catch (err) {
    uniquenessRace(err);
  }
  const id = String(created._id);
  const fields = role === 'staff' ? ['email', 'name', 'employeeId', 'jobTitle', 'schools', 'active', 'preferredLanguage'] : ['email', 'name', 'employeeId', 'role', 'schools', 'active', 'preferredLanguage'];
  await audit(client, 'scim.user_created', id, fields, ctx, role === 'staff' ? {} : { role });
  if (ignoredPrincipal) await countIgnoredPrincipal(client.districtId);
  await rosterChanged([id]);
  return getPerson(client, id);
}

function sameIds(a: readonly Types.ObjectId[], b: readonly Types.ObjectId[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => y.equals(x)));
}

/** Applies validated changes to one person; only what differs is written and audited. */
async function applyChanges(client: ScimClient, doc: UserDoc, changes: PersonChanges, ctx: Context): Promise<PersonForScim> {
  const set: Record<string, unknown> = {};
  if (changes.email !== undefined && changes.email !== doc.email) set.email = changes.email;
  if (changes.name !== undefined && changes.name !== doc.name) set.name = changes.name;
  if (changes.employeeId !== undefined && changes.employeeId !== doc.employeeId) set.employeeId = changes.employeeId;
  if (changes.active !== undefined && changes.active !== (doc.active !== false)) set.active = changes.active;
  if (changes.preferredLanguage !== undefined && changes.preferredLanguage !== (doc.preferredLanguage ?? 'en')) set.preferredLanguage = changes.preferredLanguage;
  const unset: Record<string, 1> = {};
  // A region administrator's role (and region) are the app's: provisioning updates their other fields only, and
  // sending `region_admin` back for them changes nothing; for anyone else it is refused.
  if (changes.role === 'region_admin' && doc.role !== 'region_admin') refuseRegionAdmin();
  const keepsRole = doc.role === 'region_admin';
  const role = doc.role === 'district_admin' || keepsRole ? doc.role : changes.role ?? doc.role;
  if (!keepsRole && changes.role !== undefined && changes.role !== doc.role) set.role = changes.role;
  // Principals have no job title (as on the Staff page and in the roster import); the title sent for them is
  // ignored. Made staff again, they keep the title sent, else "other" (as a new person).
  if (role === 'staff') {
    const jobTitle = changes.jobTitle ?? (doc.role === 'staff' ? undefined : 'other');
    if (jobTitle !== undefined && jobTitle !== doc.jobTitle) set.jobTitle = jobTitle;
  } else if (set.role && doc.jobTitle) unset.jobTitle = 1;
  if (changes.schoolCodes !== undefined) {
    const schools = await schoolIdsFor(client, changes.schoolCodes);
    if (!sameIds(schools, doc.schools ?? [])) set.schools = schools;
  }
  const fields = [...Object.keys(set), ...Object.keys(unset)];
  if (fields.length === 0) return present(client, doc);
  // District administrators are managed in the app: a token must never be able to lock the district out.
  if (doc.role === 'district_admin') {
    throw new ScimError(400, 'District administrators are managed in the app, not by provisioning; nothing was changed', 'mutability');
  }
  if (set.active === false) await guardDeactivation(client);
  await checkUnique(client, { email: set.email as string | undefined, employeeId: set.employeeId as string | undefined }, doc._id);
  try {
    await User.updateOne({ _id: doc._id, district: client.districtId }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) });
  } catch (err) {
    uniquenessRace(err);
  }
  const id = String(doc._id);
  if (set.role) await auditRoleChange(client, id, doc.role, set.role as Role, ctx);
  await audit(client, set.active === false ? 'scim.user_deactivated' : 'scim.user_updated', id, fields, ctx);
  // Compliance rows and summaries follow; a deactivated person's open sessions end at their next request.
  await rosterChanged([id]);
  return getPerson(client, id);
}

async function update(client: ScimClient, id: string, draft: Draft, ctx: Context): Promise<PersonForScim> {
  const doc = await findPerson(client, id);
  const resolved = resolveDraft(draft, doc, mapping());
  if (resolved.role === 'region_admin' && doc.role !== 'region_admin') refuseRegionAdmin();
  const { changes, ignoredPrincipal } = await withRoleSetting(client, resolved, doc.role);
  const person = await applyChanges(client, doc, changes, ctx);
  if (ignoredPrincipal) await countIgnoredPrincipal(client.districtId);
  return person;
}

/**
 * PUT (Okta's style): the attributes the resource carries replace the stored ones. Attributes it leaves out
 * are kept, not cleared — we never clear a person's school or employee id through provisioning.
 */
export async function replacePerson(client: ScimClient, id: string, body: unknown, ctx: Context = {}): Promise<PersonForScim> {
  return update(client, id, readResource(body), ctx);
}

export async function patchPerson(client: ScimClient, id: string, body: unknown, ctx: Context = {}): Promise<PersonForScim> {
  return update(client, id, readPatch(body), ctx);
}

/** DELETE deactivates (the person's completions are kept as proof of training). */
export async function deactivatePerson(client: ScimClient, id: string, ctx: Context = {}): Promise<void> {
  const doc = await findPerson(client, id);
  await applyChanges(client, doc, { active: false }, ctx);
}
