import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import {
  compliancePercent,
  complianceUpdatesUnderway,
  emptyCounts,
  findPersonRows,
  findSchoolRows,
  listModuleOptions,
  localDateOf,
  statusAt,
  type ComplianceRowDoc,
  type ComplianceStatus,
  type ComplianceUpdatesUnderway,
  type ModuleOption,
  type StatusCounts,
} from '../assignments';
import { Attempt, Completion } from '../completions';
import { User } from '../users';
import { districtOf, visibleSchool, type VisibleSchool } from './report-scope';
import { sortedPage } from './report-page';
// From its file: the reminders component's index loads its routes, which import this feature.
import { reminderGroupOf } from '../reminders/reminder-groups';
import type { SchoolQuery } from './reports.schemas';

export const SCHOOL_PAGE_SIZE = 50;

/** Most urgent first: what a principal acts on. */
const URGENCY: Record<ComplianceStatus, number> = { overdue: 0, expired: 1, outdated: 2, not_started: 3, in_progress: 4, completed: 5 };

export type StatusRow = {
  userId: string;
  name: string;
  email: string;
  employeeId?: string;
  jobTitle?: string;
  /** staff, principal …: shown where a person has no job title (principals have none). */
  role: string;
  moduleSlug: string;
  minVersion: number;
  status: ComplianceStatus;
  dueDate: string;
  completedOn?: string;
  completedVersion?: number;
  score?: number;
  /** Completed in a facilitated group session: no individual score. */
  isFacilitated?: boolean;
  /** An update completion: the version it updated from (its score is over the changed scenarios). */
  updatedFrom?: number;
};

function toStatusRow(row: ComplianceRowDoc, now: Date, timeZone: string): StatusRow {
  return {
    userId: String(row.user),
    name: row.name,
    email: row.email,
    employeeId: row.employeeId,
    jobTitle: row.jobTitle,
    role: row.role,
    moduleSlug: row.moduleSlug,
    minVersion: row.minVersion,
    status: statusAt(row, now),
    dueDate: row.dueDate,
    completedOn: row.completion ? localDateOf(row.completion.completedAt, timeZone) : undefined,
    completedVersion: row.completion?.moduleVersion,
    score: row.completion?.score ?? undefined,
    isFacilitated: row.completion?.method === 'facilitated' || undefined,
    updatedFrom: row.completion?.method === 'update' ? (row.completion.updatedFrom ?? undefined) : undefined,
  };
}

function compareRows(sort: SchoolQuery['sort']): (a: StatusRow, b: StatusRow) => number {
  const byName = (a: StatusRow, b: StatusRow) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId) || a.moduleSlug.localeCompare(b.moduleSlug);
  switch (sort) {
    case 'status':
      return (a, b) => URGENCY[a.status] - URGENCY[b.status] || byName(a, b);
    case 'due':
      return (a, b) => a.dueDate.localeCompare(b.dueDate) || byName(a, b);
    case 'completed':
      return (a, b) => (a.completedOn ?? '').localeCompare(b.completedOn ?? '') || byName(a, b);
    case 'module':
      return (a, b) => a.moduleSlug.localeCompare(b.moduleSlug) || byName(a, b);
    default:
      return byName;
  }
}

export type SchoolReport = {
  school: VisibleSchool;
  totals: StatusCounts;
  percent: number | null;
  people: number;
  fullyCompliant: number;
  rows: StatusRow[];
  matching: number;
  page: number;
  pages: number;
  modules: ModuleOption[];
  /** Compliance jobs queued or running in the district: figures may be a minute out of date. */
  updating: ComplianceUpdatesUnderway | null;
};

/**
 * Every active person × assigned module at one school: one indexed read of the school's compliance
 * rows (a few thousand at most), statuses derived at `now`, then filtered, sorted and paged in memory.
 */
export async function getSchoolReport(actor: Actor, schoolId: string, query: SchoolQuery, now = new Date()): Promise<SchoolReport> {
  const school = await visibleSchool(actor, schoolId);
  const [district, docs, modules, updating] = await Promise.all([
    districtOf(actor),
    findSchoolRows(actor.districtId, school.id, { moduleSlug: query.module, jobTitle: query.jobTitle }),
    listModuleOptions(),
    complianceUpdatesUnderway(actor.districtId),
  ]);
  const rows = docs.map((doc) => toStatusRow(doc, now, district.timeZone));
  const totals = emptyCounts();
  const openByPerson = new Map<string, boolean>();
  for (const row of rows) {
    totals[row.status] += 1;
    totals.total += 1;
    openByPerson.set(row.userId, (openByPerson.get(row.userId) ?? false) || row.status !== 'completed');
  }
  const matching = query.status ? rows.filter((row) => row.status === query.status) : rows;
  const { items, page, pages } = sortedPage(matching, compareRows(query.sort), query.dir, query.page, SCHOOL_PAGE_SIZE);
  return {
    school,
    totals,
    percent: compliancePercent(totals),
    people: openByPerson.size,
    fullyCompliant: [...openByPerson.values()].filter((open) => !open).length,
    rows: items,
    matching: matching.length,
    page,
    pages,
    modules,
    updating,
  };
}

export type ReminderList = { school: VisibleSchool; urgent: StatusRow[]; pending: StatusRow[]; urgentEmails: string[]; pendingEmails: string[] };

/** Who to remind: overdue/expired first (urgent), then not started, in progress or outdated. */
export async function getReminderList(actor: Actor, schoolId: string, moduleSlug?: string, now = new Date()): Promise<ReminderList> {
  const school = await visibleSchool(actor, schoolId);
  const [district, docs] = await Promise.all([districtOf(actor), findSchoolRows(actor.districtId, school.id, { moduleSlug })]);
  const rows = docs.map((doc) => toStatusRow(doc, now, district.timeZone)).sort(compareRows('status'));
  const urgent = rows.filter((r) => reminderGroupOf(r.status) === 'urgent');
  const urgentEmails = [...new Set(urgent.map((r) => r.email))];
  const urgentSet = new Set(urgentEmails);
  const pending = rows.filter((r) => reminderGroupOf(r.status) === 'pending' && !urgentSet.has(r.email));
  return { school, urgent, pending, urgentEmails, pendingEmails: [...new Set(pending.map((r) => r.email))] };
}

export type PersonRecord = {
  school: VisibleSchool;
  person: { id: string; name: string; email: string; employeeId?: string; jobTitle?: string; active: boolean };
  assignments: StatusRow[];
  completions: { moduleSlug: string; moduleVersion: number; score?: number; isFacilitated: boolean; updatedFrom?: number; completedOn: string; certificateCode: string; revoked: boolean }[];
  attempts: { moduleSlug: string; moduleVersion: number; status: string; score?: number; startedOn: string; finishedOn?: string }[];
  moduleTitles: Record<string, { en: string; es: string }>;
};

/** One person's assignments at a school they belong to (those that apply there) and their results — pass/fail and scores only, never their choices. */
export async function getPersonRecord(actor: Actor, schoolId: string, userId: string, now = new Date()): Promise<PersonRecord> {
  const school = await visibleSchool(actor, schoolId);
  const user = await User.findOne({ _id: userId, district: actor.districtId, schools: school.id }, { name: 1, email: 1, employeeId: 1, jobTitle: 1, active: 1 }).lean();
  if (!user) throw notFound();
  const [district, modules, rows, completions, attempts] = await Promise.all([
    districtOf(actor),
    listModuleOptions(),
    findPersonRows(actor.districtId, userId),
    // Index { user, moduleSlug, moduleVersion }: a person has a handful of completions.
    Completion.find({ user: user._id }, { moduleSlug: 1, moduleVersion: 1, score: 1, method: 1, updatedFrom: 1, completedAt: 1, certificateCode: 1, revokedAt: 1 }).sort({ completedAt: -1 }).lean(),
    // Index { user, moduleSlug, startedAt }; the decisions are deliberately not read.
    Attempt.find({ user: user._id }, { moduleSlug: 1, moduleVersion: 1, status: 1, score: 1, startedAt: 1, finishedAt: 1 }).sort({ startedAt: -1 }).limit(100).lean(),
  ]);
  const day = (d: Date) => localDateOf(d, district.timeZone);
  return {
    school,
    person: { id: String(user._id), name: user.name, email: user.email, employeeId: user.employeeId ?? undefined, jobTitle: user.jobTitle ?? undefined, active: user.active !== false },
    // The assignments that apply at this school (one for another of their schools only is that school's to show).
    assignments: rows
      .filter((row) => row.schools.some((s) => String(s) === school.id))
      .map((row) => toStatusRow(row, now, district.timeZone))
      .sort(compareRows('module')),
    completions: completions.map((c) => ({
      moduleSlug: c.moduleSlug,
      moduleVersion: c.moduleVersion,
      score: c.score ?? undefined,
      isFacilitated: c.method === 'facilitated',
      updatedFrom: c.method === 'update' ? (c.updatedFrom ?? undefined) : undefined,
      completedOn: day(c.completedAt),
      certificateCode: c.certificateCode,
      revoked: Boolean(c.revokedAt),
    })),
    attempts: attempts.map((a) => ({
      moduleSlug: a.moduleSlug,
      moduleVersion: a.moduleVersion,
      status: a.status,
      score: a.score ?? undefined,
      startedOn: day(a.startedAt),
      finishedOn: a.finishedAt ? day(a.finishedAt) : undefined,
    })),
    moduleTitles: Object.fromEntries(modules.map((m) => [m.slug, m.title])),
  };
}
