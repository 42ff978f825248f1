import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { forgetSessionActors, hashPassword, verifyPassword } from '../auth';
import { countSchoolsInDistrict } from '../schools';
import { Region } from '../regions';
import { User, type JobTitle, type Language, type LeanUser, type Role } from './user.model';
import { PAGE_SIZE, type UserCreateInput, type UserInput, type UserListQuery } from './users.schemas';
import { rosterChanged } from '../../shared/domain-events';

export type UserView = {
  id: string;
  name: string;
  email: string;
  employeeId?: string;
  role: Role;
  jobTitle?: JobTitle;
  schoolIds: string[];
  /** Region administrators: the regions they oversee. */
  regionIds: string[];
  active: boolean;
  preferredLanguage: Language;
  startDate?: Date;
  lastSignInAt?: Date;
};

export type Page<T> = { items: T[]; total: number; page: number; pages: number };
export type Outcome = { ok: true; id: string } | { ok: false; errors: FieldErrors };
/** Who did it, for the audit record. */
export type Context = { requestId?: string };

type UserDoc = LeanUser & { startDate?: Date | null; lastSignInAt?: Date | null };

function toView(u: UserDoc): UserView {
  return {
    id: u._id.toString(),
    name: u.name,
    email: u.email,
    employeeId: u.employeeId ?? undefined,
    role: u.role,
    jobTitle: u.jobTitle ?? undefined,
    schoolIds: (u.schools ?? []).map((s) => s.toString()),
    regionIds: (u.regions ?? []).map((r) => r.toString()),
    active: u.active !== false,
    preferredLanguage: u.preferredLanguage ?? 'en',
    startDate: u.startDate ?? undefined,
    lastSignInAt: u.lastSignInAt ?? undefined,
  };
}

const FIELDS = 'name email employeeId role jobTitle schools regions active preferredLanguage startDate lastSignInAt';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The district's people, a page at a time, searchable by name, email or employee id. */
export async function listUsers(actor: Actor, query: UserListQuery): Promise<Page<UserView>> {
  const filter: Record<string, unknown> = { district: actor.districtId };
  if (query.active !== 'all') filter.active = query.active === 'true';
  if (query.role) filter.role = query.role;
  if (query.school) filter.schools = query.school;
  if (query.q) {
    const pattern = new RegExp(escapeRegex(query.q), 'i');
    filter.$or = [{ name: pattern }, { email: pattern }, { employeeId: pattern }];
  }
  const total = await User.countDocuments(filter);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const page = Math.min(query.page, pages);
  const docs = await User.find(filter)
    .select(FIELDS)
    .sort({ name: 1, _id: 1 })
    .skip((page - 1) * PAGE_SIZE)
    .limit(PAGE_SIZE)
    .lean<UserDoc[]>();
  return { items: docs.map(toView), total, page, pages };
}

/** One person of the actor's district; anyone else is "not found". */
export async function getUser(actor: Actor, id: string): Promise<UserView> {
  const doc = await User.findOne({ _id: id, district: actor.districtId }).select(FIELDS).lean<UserDoc>();
  if (!doc) throw notFound();
  return toView(doc);
}

/** Rules that need the database: schools in the district, email and employee id unused. */
async function checkUnique(actor: Actor, input: UserInput, exceptId?: string): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  const notSelf = exceptId ? { _id: { $ne: exceptId } } : {};
  if (input.schools.length > 0 && (await countSchoolsInDistrict(actor, input.schools)) !== input.schools.length) {
    errors.schools = 'users.errors.schoolsInvalid';
  }
  // Only the district's own regions (another district's, or one deleted meanwhile, is refused).
  if (input.role === 'region_admin' && (await Region.countDocuments({ _id: { $in: input.regions }, district: actor.districtId })) !== input.regions.length) {
    errors.regions = 'users.errors.regionsInvalid';
  }
  if (await User.exists({ district: actor.districtId, email: input.email, ...notSelf })) errors.email = 'users.errors.emailTaken';
  if (input.employeeId && (await User.exists({ district: actor.districtId, employeeId: input.employeeId, ...notSelf }))) {
    errors.employeeId = 'users.errors.employeeIdTaken';
  }
  return errors;
}

/** A concurrent insert can still win the race to the unique index: report it as the same form error. */
function duplicateKeyErrors(err: unknown): FieldErrors | undefined {
  const e = err as { code?: number; keyPattern?: Record<string, unknown> };
  if (e?.code !== 11000) return undefined;
  return e.keyPattern && 'employeeId' in e.keyPattern ? { employeeId: 'users.errors.employeeIdTaken' } : { email: 'users.errors.emailTaken' };
}

function storedFields(input: UserInput) {
  return {
    name: input.name,
    email: input.email,
    role: input.role,
    schools: input.schools,
    ...(input.role === 'region_admin' ? { regions: input.regions } : {}),
    preferredLanguage: input.preferredLanguage,
  };
}

/** The regions a person oversees as stored: a region administrator's, none for anyone else. */
const regionsOf = (input: UserInput) => (input.role === 'region_admin' ? input.regions : []);

function unsetFields(input: UserInput): Record<string, 1> {
  const unset: Record<string, 1> = {};
  if (!input.employeeId) unset.employeeId = 1;
  if (!input.jobTitle || input.role !== 'staff') unset.jobTitle = 1;
  if (!input.startDate) unset.startDate = 1;
  if (input.role !== 'region_admin') unset.regions = 1;
  return unset;
}

export async function createUser(actor: Actor, input: UserCreateInput, ctx: Context = {}): Promise<Outcome> {
  const errors = await checkUnique(actor, input);
  if (Object.keys(errors).length) return { ok: false, errors };
  let created;
  try {
    created = await User.create({
      district: actor.districtId,
      ...storedFields(input),
      employeeId: input.employeeId,
      jobTitle: input.role === 'staff' ? input.jobTitle : undefined,
      startDate: input.startDate,
      active: true,
      passwordHash: input.password ? await hashPassword(input.password) : undefined,
    });
  } catch (err) {
    const dup = duplicateKeyErrors(err);
    if (dup) return { ok: false, errors: dup };
    throw err;
  }
  const id = created._id.toString();
  await recordAudit(actor, {
    action: 'user.created',
    target: { kind: 'user', id },
    details: { role: input.role, schools: input.schools, passwordSet: Boolean(input.password) },
    requestId: ctx.requestId,
  });
  if (input.role === 'region_admin') await auditRegions(actor, id, [], input.regions, ctx);
  await rosterChanged([id]);
  return { ok: true, id };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export async function updateUser(actor: Actor, id: string, input: UserInput, ctx: Context = {}): Promise<Outcome> {
  const before = await getUser(actor, id);
  // An admin who demotes themselves could leave the district with no one able to manage it.
  if (id === actor.userId && input.role !== before.role) return { ok: false, errors: { role: 'users.errors.cannotDemoteSelf' } };
  const errors = await checkUnique(actor, input, id);
  if (Object.keys(errors).length) return { ok: false, errors };
  const set = {
    ...storedFields(input),
    ...(input.employeeId ? { employeeId: input.employeeId } : {}),
    ...(input.role === 'staff' && input.jobTitle ? { jobTitle: input.jobTitle } : {}),
    ...(input.startDate ? { startDate: input.startDate } : {}),
  };
  const unset = unsetFields(input);
  try {
    await User.updateOne({ _id: id, district: actor.districtId }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) });
  } catch (err) {
    const dup = duplicateKeyErrors(err);
    if (dup) return { ok: false, errors: dup };
    throw err;
  }
  const target = { kind: 'user', id };
  if (input.role !== before.role) {
    await recordAudit(actor, { action: 'user.role_changed', target, details: { from: before.role, to: input.role }, requestId: ctx.requestId });
  }
  if (!sameSet(before.regionIds, regionsOf(input))) await auditRegions(actor, id, before.regionIds, regionsOf(input), ctx);
  if (!sameSet(before.schoolIds, input.schools)) {
    await recordAudit(actor, { action: 'user.schools_changed', target, details: { from: before.schoolIds, to: input.schools }, requestId: ctx.requestId });
  }
  await rosterChanged([id]);
  return { ok: true, id };
}

/** A change of the regions someone oversees (their scope): recorded with the regions' codes, as people read them. */
async function auditRegions(actor: Actor, id: string, from: readonly string[], to: readonly string[], ctx: Context): Promise<void> {
  const regions = await Region.find({ _id: { $in: [...from, ...to] }, district: actor.districtId }).select('code').lean();
  const codeOf = new Map(regions.map((r) => [String(r._id), r.code]));
  const codes = (ids: readonly string[]) => ids.map((regionId) => codeOf.get(regionId) ?? '?').sort();
  await recordAudit(actor, { action: 'user.regions_changed', target: { kind: 'user', id }, details: { from: codes(from), to: codes(to) }, requestId: ctx.requestId });
}

/** Deactivated people cannot sign in, and their open sessions end at their next request. */
export async function setUserActive(actor: Actor, id: string, active: boolean, ctx: Context = {}): Promise<Outcome> {
  const before = await getUser(actor, id);
  if (!active && id === actor.userId) return { ok: false, errors: { _form: 'users.errors.cannotDeactivateSelf' } };
  if (before.active === active) return { ok: true, id };
  await User.updateOne({ _id: id, district: actor.districtId }, { $set: { active } });
  await recordAudit(actor, { action: active ? 'user.reactivated' : 'user.deactivated', target: { kind: 'user', id }, requestId: ctx.requestId });
  await rosterChanged([id]);
  return { ok: true, id };
}

/**
 * Sets a password chosen by an admin (initial or reset) and lifts any lockout. The person's open sessions
 * end (at their next request here; within seconds on other app instances): a reset is often done because
 * someone else may know the old password.
 */
export async function setUserPassword(actor: Actor, id: string, password: string, ctx: Context = {}): Promise<Outcome> {
  await getUser(actor, id);
  const passwordHash = await hashPassword(password);
  await User.updateOne({ _id: id, district: actor.districtId }, { $set: { passwordHash, failedSignIns: 0, lockedUntil: null }, $inc: { sessionEpoch: 1 } });
  forgetSessionActors([id]);
  await recordAudit(actor, { action: 'user.password_set', target: { kind: 'user', id }, requestId: ctx.requestId });
  return { ok: true, id };
}

/** The signed-in person's own record (the account page). */
export async function getOwnAccount(actor: Actor): Promise<UserView> {
  return getUser(actor, actor.userId);
}

/**
 * A person changes their own password: the current one must match. Their other sessions end; the route
 * signs this one in again with the new epoch.
 */
export async function changeOwnPassword(actor: Actor, currentPassword: string, newPassword: string, ctx: Context = {}): Promise<Outcome> {
  const doc = await User.findOne({ _id: actor.userId, district: actor.districtId }).select('+passwordHash').lean();
  if (!doc) throw notFound();
  if (!(await verifyPassword(doc.passwordHash, currentPassword))) return { ok: false, errors: { currentPassword: 'account.errors.currentPasswordWrong' } };
  await User.updateOne({ _id: actor.userId }, { $set: { passwordHash: await hashPassword(newPassword) }, $inc: { sessionEpoch: 1 } });
  forgetSessionActors([actor.userId]);
  await recordAudit(actor, { action: 'user.password_changed', target: { kind: 'user', id: actor.userId }, requestId: ctx.requestId });
  return { ok: true, id: actor.userId };
}
