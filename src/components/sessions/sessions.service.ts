import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { canSeeSchool } from '../../shared/actor';
import { conflict, notFound } from '../../shared/errors';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { localDateOf } from '../assignments';
import type { BilingualText, LoadedModuleVersion } from '../content';
import { School } from '../schools';
import { getDistrictContext } from '../settings';
import { getCatalog } from '../training';
import { User } from '../users';
import { FacilitatedSession, type SessionStatus } from './session.model';
import { checkSessionDate } from './session-dates';
import type { AttendanceInput, NewSessionInput } from './sessions.schemas';

export type SchoolRef = Readonly<{ id: string; code: string; name: string }>;

/** The school if the actor may run sessions there (principal: own school; admin: any of the district), else 404. */
export async function sessionSchool(actor: Actor, schoolId: string): Promise<SchoolRef> {
  const school = await School.findOne({ _id: schoolId, district: actor.districtId }, { code: 1, name: 1, district: 1, region: 1 }).lean();
  if (!school || !canSeeSchool(actor, String(school._id), String(school.district), school.region ? String(school.region) : null)) throw notFound();
  return { id: String(school._id), code: school.code, name: school.name };
}

export type ModuleChoice = Readonly<{ slug: string; version: number; title: BilingualText; estimatedMinutes: number }>;

/** The modules a session can present: the current version of each in the catalog. */
export function listSessionModules(): ModuleChoice[] {
  return getCatalog()
    .listLatest()
    .map((m) => ({ slug: m.slug, version: m.version, title: m.content.title, estimatedMinutes: m.content.estimatedMinutes }));
}

/** Today in the district's time zone: the default session date. */
export async function districtToday(actor: Actor, now = new Date()): Promise<{ today: string; timeZone: string }> {
  const { timeZone } = await getDistrictContext(actor.districtId);
  return { today: localDateOf(now, timeZone), timeZone };
}

export type Outcome = { ok: true; id: string } | { ok: false; errors: FieldErrors };

export async function createSession(actor: Actor, schoolId: string, input: NewSessionInput, requestId?: string): Promise<Outcome> {
  const school = await sessionSchool(actor, schoolId);
  const module = getCatalog().getLatest(input.module);
  const errors: FieldErrors = {};
  if (!module) errors.module = 'sessions.errors.module';
  const { today } = await districtToday(actor);
  const check = checkSessionDate(input.sessionDate, today);
  if (check !== 'ok') errors.sessionDate = check === 'too_early' ? 'sessions.errors.dateTooEarly' : 'sessions.errors.dateTooLate';
  if (!module || Object.keys(errors).length > 0) return { ok: false, errors };
  const [session] = await FacilitatedSession.create([
    { district: actor.districtId, school: school.id, moduleSlug: module.slug, moduleVersion: module.version, sessionDate: input.sessionDate, facilitator: actor.userId },
  ]);
  await recordAudit(actor, {
    action: 'session.created',
    target: { kind: 'facilitated_session', id: String(session._id) },
    details: { school: school.id, moduleSlug: module.slug, moduleVersion: module.version, sessionDate: input.sessionDate },
    requestId,
  });
  return { ok: true, id: String(session._id) };
}

export type SessionView = Readonly<{
  id: string;
  school: SchoolRef;
  moduleSlug: string;
  moduleVersion: number;
  moduleTitle: BilingualText;
  sessionDate: string;
  facilitatorName: string;
  status: SessionStatus;
  attendeeIds: readonly string[];
  finishedAt?: Date;
  results?: Readonly<{ recorded: number; alreadyTrained: number; notEligible: number }>;
}>;

type SessionDoc = {
  _id: Types.ObjectId;
  moduleSlug: string;
  moduleVersion: number;
  sessionDate: string;
  facilitator: Types.ObjectId;
  status: SessionStatus;
  attendees?: Types.ObjectId[];
  attendanceRev?: number;
  finishedAt?: Date | null;
  results?: { recorded?: number | null; alreadyTrained?: number | null; notEligible?: number | null } | null;
};

function titleOf(slug: string, version: number): BilingualText {
  return getCatalog().get(slug, version)?.content.title ?? { en: slug, es: slug };
}

async function namesOf(ids: readonly Types.ObjectId[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const users = await User.find({ _id: { $in: ids } }, { name: 1 }).lean();
  return new Map(users.map((u) => [String(u._id), u.name]));
}

function toView(doc: SessionDoc, school: SchoolRef, names: Map<string, string>): SessionView {
  return {
    id: String(doc._id),
    school,
    moduleSlug: doc.moduleSlug,
    moduleVersion: doc.moduleVersion,
    moduleTitle: titleOf(doc.moduleSlug, doc.moduleVersion),
    sessionDate: doc.sessionDate,
    facilitatorName: names.get(String(doc.facilitator)) ?? '',
    status: doc.status,
    attendeeIds: (doc.attendees ?? []).map(String),
    finishedAt: doc.finishedAt ?? undefined,
    results:
      doc.status === 'finished'
        ? { recorded: doc.results?.recorded ?? 0, alreadyTrained: doc.results?.alreadyTrained ?? 0, notEligible: doc.results?.notEligible ?? 0 }
        : undefined,
  };
}

/** The school's sessions, newest first (a school holds a few a year). */
export async function listSessions(actor: Actor, schoolId: string): Promise<{ school: SchoolRef; sessions: SessionView[] }> {
  const school = await sessionSchool(actor, schoolId);
  // Index { school, createdAt }.
  const docs = (await FacilitatedSession.find({ school: school.id, district: actor.districtId }).sort({ createdAt: -1 }).limit(500).lean()) as SessionDoc[];
  const names = await namesOf([...new Set(docs.map((d) => String(d.facilitator)))].map((id) => new Types.ObjectId(id)));
  return { school, sessions: docs.map((doc) => toView(doc, school, names)) };
}

async function loadSession(actor: Actor, schoolId: string, id: string): Promise<{ school: SchoolRef; doc: SessionDoc }> {
  const school = await sessionSchool(actor, schoolId);
  const doc = (await FacilitatedSession.findOne({ _id: id, school: school.id, district: actor.districtId }).lean()) as SessionDoc | null;
  if (!doc) throw notFound();
  return { school, doc };
}

export async function getSession(actor: Actor, schoolId: string, id: string): Promise<SessionView> {
  const { school, doc } = await loadSession(actor, schoolId, id);
  return toView(doc, school, await namesOf([doc.facilitator]));
}

/** The module version the session presents (it stays the version chosen at the start). */
export function sessionModule(session: Pick<SessionView, 'moduleSlug' | 'moduleVersion'>): LoadedModuleVersion {
  const module = getCatalog().get(session.moduleSlug, session.moduleVersion);
  if (!module) throw notFound();
  return module;
}

export type StaffMember = Readonly<{ id: string; name: string; jobTitle?: string; role: string }>;

/** Active people of the school, by name. Index { schools, active, name }. */
export async function listSchoolStaff(actor: Actor, schoolId: string, jobTitle?: string): Promise<StaffMember[]> {
  const filter: Record<string, unknown> = { schools: new Types.ObjectId(schoolId), active: true, district: new Types.ObjectId(actor.districtId) };
  if (jobTitle) filter.jobTitle = jobTitle;
  const people = await User.find(filter, { name: 1, jobTitle: 1, role: 1 }).sort({ name: 1 }).lean();
  return people.map((p) => ({ id: String(p._id), name: p.name, jobTitle: p.jobTitle ?? undefined, role: p.role }));
}

export type AttendancePage = Readonly<{ session: SessionView; staff: StaffMember[]; people: number }>;

/** The checklist: the school's active staff (filtered by job title), and who is marked present. */
export async function getAttendance(actor: Actor, schoolId: string, id: string, jobTitle?: string): Promise<AttendancePage> {
  const session = await getSession(actor, schoolId, id);
  const staff = await listSchoolStaff(actor, session.school.id, jobTitle);
  return { session, staff, people: staff.length };
}

const SAVE_TRIES = 5;

/**
 * Saves the checks of the people shown on the page. Every id must be an active person of this school
 * (anything else — another school, another district, an inactive person, a made-up id — answers 422 and
 * changes nothing). A finished session is read-only (409). Concurrent saves by two facilitators are
 * applied one after the other (compare-and-set on attendanceRev), so neither loses the other's checks.
 */
export async function saveAttendance(actor: Actor, schoolId: string, id: string, input: AttendanceInput, requestId?: string): Promise<{ ok: true; present: number } | { ok: false; errors: FieldErrors }> {
  const { school, doc } = await loadSession(actor, schoolId, id);
  if (doc.status !== 'open') throw conflict('This session is finished; its attendance cannot change');
  const asked = [...new Set([...input.attendees, ...input.shown])];
  const valid = new Set(
    asked.length === 0
      ? []
      : (await User.find({ _id: { $in: asked.map((v) => new Types.ObjectId(v)) }, district: actor.districtId, schools: new Types.ObjectId(school.id), active: true }, { _id: 1 }).lean()).map((u) => String(u._id)),
  );
  if (asked.some((v) => !valid.has(v))) return { ok: false, errors: { attendees: 'sessions.errors.notAtSchool' } };
  const shown = new Set(input.shown);
  const checked = input.intent === 'all_shown' ? new Set([...shown, ...input.attendees]) : input.intent === 'none_shown' ? new Set<string>() : new Set(input.attendees);
  let current = doc;
  for (let attempt = 0; attempt < SAVE_TRIES; attempt++) {
    const next = new Set((current.attendees ?? []).map(String).filter((person) => !shown.has(person)));
    for (const person of checked) next.add(person);
    const rev = current.attendanceRev ?? 0;
    const updated = await FacilitatedSession.updateOne(
      { _id: current._id, status: 'open', attendanceRev: rev },
      { $set: { attendees: [...next].map((v) => new Types.ObjectId(v)), attendanceRev: rev + 1 } },
    );
    if (updated.modifiedCount === 1) {
      await recordAudit(actor, { action: 'session.attendance_saved', target: { kind: 'facilitated_session', id }, details: { present: next.size }, requestId });
      return { ok: true, present: next.size };
    }
    const reread = (await FacilitatedSession.findById(current._id).lean()) as SessionDoc | null;
    if (!reread) throw notFound();
    if (reread.status !== 'open') throw conflict('This session is finished; its attendance cannot change');
    current = reread;
  }
  throw conflict('Attendance is being changed by someone else; try again');
}

/** The people marked present, by name (for the session page; a finished session lists who was recorded). */
export async function attendeeList(actor: Actor, session: SessionView): Promise<StaffMember[]> {
  if (session.attendeeIds.length === 0) return [];
  const people = await User.find({ _id: { $in: session.attendeeIds.map((id) => new Types.ObjectId(id)) }, district: actor.districtId }, { name: 1, jobTitle: 1, role: 1 })
    .sort({ name: 1 })
    .lean();
  return people.map((p) => ({ id: String(p._id), name: p.name, jobTitle: p.jobTitle ?? undefined, role: p.role }));
}
