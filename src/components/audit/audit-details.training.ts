/** The words of training and compliance events: assignments, exports, completions, group sessions, reminders, roster imports. */
import { counted, read, type AuditFact, type AuditFormatter, type Details, type Words } from './audit-words';

const FORMATS = ['csv', 'xlsx', 'pdf'];

/**
 * Assignment rules (as audited by assignments.service auditRules) as a labelled list; null on another shape.
 * Each rule is optional: events written before every rule was recorded (demo databases seeded before the seed
 * recorded them as the service does — it has since, test/integration/app/demo-seed.test.ts) hold only the module,
 * roles and job titles; such databases exist, so that shape is read (test/integration/audit/audit-details.test.ts).
 */
function assignmentFacts(d: Details, w: Words): AuditFact[] | null {
  const facts: AuditFact[] = [];
  const has = (key: string) => d[key] !== undefined;
  const roles = has('roles') ? read.strs(d.roles) : [];
  const jobTitles = has('jobTitles') ? read.strs(d.jobTitles) : [];
  const schoolCodes = has('schoolCodes') ? read.strs(d.schoolCodes) : [];
  if (!roles || !jobTitles || !schoolCodes) return null;
  if (has('roles')) facts.push({ label: w.say('assignment.roles'), value: roles.length ? w.list(roles.map((r) => w.role(r))) : w.say('assignment.allRoles') });
  if (has('jobTitles')) facts.push({ label: w.say('assignment.jobTitles'), value: jobTitles.length ? w.list(jobTitles.map((j) => w.jobTitle(j))) : w.say('assignment.allJobTitles') });
  if (has('schoolCodes')) facts.push({ label: w.say('assignment.schools'), value: schoolCodes.length ? w.list(schoolCodes.map((c) => w.schoolCode(c))) : w.say('assignment.allSchools') });
  if (has('due')) {
    const due = read.obj(d.due);
    let text: string | null = null;
    if (due?.kind === 'fixed' && read.str(due.date)) text = w.say('assignment.dueFixed', { date: w.date(due.date as string) });
    if (due?.kind === 'relative' && read.count(due.days) !== undefined) text = counted(w, 'assignment.dueRelative', due.days as number);
    if (!text) return null;
    facts.push({ label: w.say('assignment.due'), value: text });
  }
  if (has('recurrence')) {
    const recurrence = read.obj(d.recurrence);
    let text: string | null = null;
    if (recurrence?.kind === 'none' || recurrence?.kind === 'annual') text = w.say(`assignment.recurrence.${recurrence.kind}`);
    if (recurrence?.kind === 'school_year' && read.str(recurrence.cycleEnd)) text = w.say('assignment.recurrence.school_year', { date: w.monthDay(recurrence.cycleEnd as string) });
    if (!text) return null;
    facts.push({ label: w.say('assignment.repeats'), value: text });
  }
  if (has('minVersion')) {
    const minVersion = read.count(d.minVersion);
    if (minVersion === undefined) return null;
    facts.push({ label: w.say('assignment.versions'), value: w.say('assignment.versionOrLater', { version: minVersion }) });
  }
  return facts;
}

/** The module version, reviewer and date of a counsel-review event, as the sentence names them; null on another shape. */
function reviewWords(d: Details, w: Words): { module: string; version: number; reviewer: string; date: string } | null {
  const slug = read.str(d.moduleSlug);
  const version = read.count(d.version);
  const reviewedOn = read.str(d.reviewedOn);
  const reviewer = read.str(d.reviewer);
  if (!slug || version === undefined || !reviewedOn || !reviewer) return null;
  return { module: w.module(slug), version, reviewer, date: w.date(reviewedOn) };
}

const ASSIGNMENT_RULE_KEYS = ['moduleSlug', 'roles', 'jobTitles', 'schoolCodes', 'due', 'recurrence', 'minVersion'];

/** "filters: school Lincoln (LIN), module “Foundations”" or "no filters". */
function exportFilters(filters: Record<string, unknown>, w: Words): string | null {
  const known = ['school', 'region', 'module', 'status', 'jobTitle'];
  if (Object.keys(filters).some((k) => !known.includes(k))) return null;
  const parts: string[] = [];
  for (const key of known) {
    const value = filters[key];
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') return null;
    if (key === 'region' && value === 'none') {
      parts.push(w.say('compliance_exported.filter.noRegion'));
      continue;
    }
    const shown = key === 'school' ? w.schoolCode(value) : key === 'region' ? value : key === 'module' ? w.module(value) : key === 'status' ? w.status(value) : w.jobTitle(value);
    parts.push(w.say(`compliance_exported.filter.${key}`, { value: shown }));
  }
  return parts.length ? w.say('compliance_exported.filters', { filters: w.list(parts) }) : w.say('compliance_exported.noFilters');
}

function groupSession(d: Details, w: Words): { module: string; version: number; school: string } | null {
  const school = read.ids([d.school])?.[0];
  const slug = read.str(d.moduleSlug);
  const version = read.count(d.moduleVersion);
  if (!school || !slug || version === undefined) return null;
  return { module: w.module(slug), version, school: w.school(school) };
}

export const TRAINING_FORMATTERS: Readonly<Record<string, AuditFormatter>> = {
  'assignment.created': {
    keys: ASSIGNMENT_RULE_KEYS,
    describe: (d, w) => {
      const slug = read.str(d.moduleSlug);
      const facts = assignmentFacts(d, w);
      return slug && facts ? { text: w.say('assignment_created', { module: w.module(slug) }), facts } : null;
    },
  },
  'assignment.updated': {
    keys: [...ASSIGNMENT_RULE_KEYS, 'fromMinVersion'],
    describe: (d, w) => {
      const slug = read.str(d.moduleSlug);
      const facts = assignmentFacts(d, w);
      const from = read.count(d.fromMinVersion);
      if (!slug || !facts) return null;
      if (from !== undefined && from !== d.minVersion) facts.push({ label: w.say('assignment.versionsBefore'), value: w.say('assignment.versionOrLater', { version: from }) });
      return { text: w.say('assignment_updated', { module: w.module(slug) }), facts };
    },
  },
  'assignment.archived': {
    keys: ['moduleSlug'],
    describe: (d, w) => {
      const slug = read.str(d.moduleSlug);
      return slug ? { text: w.say('assignment_archived', { module: w.module(slug) }) } : null;
    },
  },
  'compliance.rebuilt': { keys: ['jobId'], describe: (_d, w) => ({ text: w.say('compliance_rebuilt') }) },
  'compliance.retried': {
    keys: ['jobId', 'moduleSlug'],
    describe: (d, w) => {
      const slug = read.str(d.moduleSlug);
      return slug ? { text: w.say('compliance_retried', { module: w.module(slug) }) } : null;
    },
  },
  'compliance.exported': {
    keys: ['format', 'filters', 'rowCount', 'complete'],
    describe: (d, w) => {
      const format = read.code(d.format);
      const rows = read.count(d.rowCount);
      const filters = d.filters === undefined ? {} : read.obj(d.filters);
      const complete = d.complete === undefined ? true : read.bool(d.complete);
      if (!format || !FORMATS.includes(format) || rows === undefined || !filters || complete === undefined) return null;
      const filterText = exportFilters(filters, w);
      if (!filterText) return null;
      const text = w.say('compliance_exported.text', { format: w.format(format), rows: counted(w, 'common.rows', rows), filters: filterText });
      return { text: complete ? text : `${text} ${w.say('common.interrupted')}` };
    },
  },
  'compliance.export_downloaded': {
    keys: ['exportJob', 'format', 'rowCount'],
    describe: (d, w) => {
      const format = read.code(d.format);
      const rows = read.count(d.rowCount);
      if (!format || !FORMATS.includes(format) || rows === undefined) return null;
      return { text: w.say('compliance_export_downloaded', { format: w.format(format), rows: counted(w, 'common.rows', rows) }) };
    },
  },
  'content.review_recorded': {
    keys: ['moduleSlug', 'version', 'reviewedOn', 'reviewer', 'previous'],
    describe: (d, w) => {
      const review = reviewWords(d, w);
      if (!review) return null;
      const text = w.say('content_review_recorded', review);
      if (d.previous === undefined) return { text };
      const previous = read.obj(d.previous);
      const before = previous ? [read.str(previous.reviewer), read.str(previous.reviewedOn)] : [];
      if (!before[0] || !before[1]) return null;
      return { text, facts: [{ label: w.say('content_review_replaced'), value: w.say('content_review_by', { reviewer: before[0], date: w.date(before[1]) }) }] };
    },
  },
  'content.review_withdrawn': {
    keys: ['moduleSlug', 'version', 'reviewedOn', 'reviewer'],
    describe: (d, w) => {
      const review = reviewWords(d, w);
      return review ? { text: w.say('content_review_withdrawn', review) } : null;
    },
  },
  'completion.recorded': {
    keys: ['moduleSlug', 'moduleVersion', 'score', 'attempt', 'isRenewal', 'method', 'updatedFrom'],
    describe: (d, w) => {
      const slug = read.str(d.moduleSlug);
      const version = read.count(d.moduleVersion);
      const score = read.num(d.score);
      const renewal = d.isRenewal === undefined ? false : read.bool(d.isRenewal);
      if (!slug || version === undefined || score === undefined || renewal === undefined) return null;
      const from = read.count(d.updatedFrom);
      if (d.method !== undefined && (d.method !== 'update' || from === undefined)) return null;
      const values = { module: w.module(slug), version, score: w.num(Math.round(score)) };
      let text = w.say(renewal ? 'completion_recorded.renewed' : 'completion_recorded.text', values);
      if (d.method === 'update') text = `${text} ${w.say('completion_recorded.update', { from })}`;
      return { text };
    },
  },
  'roster.imported': {
    keys: ['fileName', 'completeRoster', 'rows', 'created', 'updated', 'unchanged', 'reactivated', 'deactivated', 'roleChanges', 'jobId', 'attempts'],
    describe: (d, w) => {
      const fileName = read.str(d.fileName);
      const complete = read.bool(d.completeRoster);
      const counts = ['rows', 'created', 'updated', 'unchanged', 'reactivated', 'deactivated', 'roleChanges'].map((k) => read.count(d[k]));
      if (fileName === undefined || complete === undefined || counts.some((c) => c === undefined)) return null;
      const [rows, created, updated, unchanged, reactivated, deactivated, roleChanges] = counts as number[];
      const text = w.say(complete ? 'roster_imported.complete' : 'roster_imported.partial', { fileName, rows: counted(w, 'common.rows', rows) });
      const facts = (
        [
          ['created', created],
          ['updated', updated],
          ['unchanged', unchanged],
          ['reactivated', reactivated],
          ['deactivated', deactivated],
          ['roleChanges', roleChanges],
        ] as const
      ).map(([key, n]) => ({ label: w.say(`roster_imported.${key}`), value: w.num(n) }));
      return { text, facts };
    },
  },
  'roster.problems_exported': {
    keys: ['format', 'fileName', 'lines', 'problems', 'complete'],
    describe: (d, w) => {
      const format = read.code(d.format);
      const fileName = read.str(d.fileName);
      const lines = read.count(d.lines);
      const problems = read.count(d.problems);
      const complete = read.bool(d.complete);
      if (!format || !FORMATS.includes(format) || fileName === undefined || lines === undefined || problems === undefined || complete === undefined) return null;
      const text = w.say('roster_problems_exported', { format: w.format(format), fileName, problems: counted(w, 'common.problems', problems), lines: counted(w, 'common.lines', lines) });
      return { text: complete ? text : `${text} ${w.say('common.interrupted')}` };
    },
  },
  'session.created': {
    keys: ['school', 'moduleSlug', 'moduleVersion', 'sessionDate'],
    describe: (d, w) => {
      const session = groupSession(d, w);
      const date = read.str(d.sessionDate);
      return session && date ? { text: w.say('session_created', { ...session, date: w.date(date) }) } : null;
    },
  },
  'session.attendance_saved': {
    keys: ['present'],
    describe: (d, w) => {
      const present = read.count(d.present);
      return present === undefined ? null : { text: w.say('session_attendance_saved', { count: present, n: w.num(present) }) };
    },
  },
  'session.finished': {
    keys: ['school', 'moduleSlug', 'moduleVersion', 'sessionDate', 'present', 'recorded', 'alreadyTrained', 'notEligible'],
    describe: (d, w) => {
      const session = groupSession(d, w);
      const date = read.str(d.sessionDate);
      const counts = ['present', 'recorded', 'alreadyTrained', 'notEligible'].map((k) => read.count(d[k]));
      if (!session || !date || counts.some((c) => c === undefined)) return null;
      const [present, recorded, alreadyTrained, notEligible] = counts as number[];
      const facts = (
        [
          ['present', present],
          ['recorded', recorded],
          ['alreadyTrained', alreadyTrained],
          ['notEligible', notEligible],
        ] as const
      ).map(([key, n]) => ({ label: w.say(`session_finished.${key}`), value: w.num(n) }));
      return { text: w.say('session_finished.text', { ...session, date: w.date(date) }), facts };
    },
  },
  'session.discarded': {
    keys: ['school', 'moduleSlug', 'moduleVersion', 'attendees'],
    describe: (d, w) => {
      const session = groupSession(d, w);
      const attendees = read.count(d.attendees);
      return session && attendees !== undefined ? { text: w.say('session_discarded', { ...session, people: counted(w, 'common.people', attendees) }) } : null;
    },
  },
  'reminders.queued': {
    keys: ['group', 'queued', 'skippedRecent', 'skippedNoEmail', 'alreadyQueued'],
    describe: (d, w) => {
      const group = read.code(d.group);
      const counts = ['queued', 'skippedRecent', 'skippedNoEmail', 'alreadyQueued'].map((k) => read.count(d[k]));
      if (!group || !['urgent', 'pending', 'all'].includes(group) || counts.some((c) => c === undefined)) return null;
      const [queued, skippedRecent, skippedNoEmail, alreadyQueued] = counts as number[];
      const text = w.say(`reminders_queued.${group}`, { count: queued, n: w.num(queued) });
      const facts = (
        [
          ['skippedRecent', skippedRecent],
          ['skippedNoEmail', skippedNoEmail],
          ['alreadyQueued', alreadyQueued],
        ] as const
      ).map(([key, n]) => ({ label: w.say(`reminders_queued.${key}`), value: w.num(n) }));
      return { text, facts };
    },
  },
  'reminders.settings_updated': {
    keys: ['enabled', 'daysBefore', 'onDueDate', 'afterEveryDays', 'afterTimes', 'principalDigest', 'digestWeekday', 'sendHour'],
    describe: (d, w) => {
      const enabled = read.bool(d.enabled);
      const daysBefore = Array.isArray(d.daysBefore) && d.daysBefore.every((n) => read.count(n) !== undefined) ? (d.daysBefore as number[]) : undefined;
      const onDueDate = read.bool(d.onDueDate);
      const every = read.count(d.afterEveryDays);
      const times = read.count(d.afterTimes);
      const digest = read.bool(d.principalDigest);
      const weekday = read.count(d.digestWeekday);
      // Records from before the send hour existed have none.
      const hour = d.sendHour === undefined ? 0 : read.count(d.sendHour);
      if (enabled === undefined || !daysBefore || onDueDate === undefined || every === undefined || times === undefined || digest === undefined || weekday === undefined || weekday < 1 || weekday > 7 || hour === undefined || hour > 23) return null;
      const no = w.say('common.no');
      const facts = [
        { label: w.say('reminders_settings_updated.before'), value: daysBefore.length ? w.say('reminders_settings_updated.daysBefore', { days: w.list(daysBefore.map((n) => w.num(n))) }) : no },
        { label: w.say('reminders_settings_updated.onDueDate'), value: onDueDate ? w.say('common.yes') : no },
        { label: w.say('reminders_settings_updated.after'), value: times > 0 ? w.say('reminders_settings_updated.every', { days: counted(w, 'common.days', every), times: counted(w, 'common.times', times) }) : no },
        { label: w.say('reminders_settings_updated.digest'), value: digest ? w.say('reminders_settings_updated.weekly', { day: w.weekday(weekday) }) : no },
      ];
      if (d.sendHour !== undefined) facts.push({ label: w.say('reminders_settings_updated.sendHour'), value: `${String(hour).padStart(2, '0')}:00` });
      return { text: w.say(enabled ? 'reminders_settings_updated.on' : 'reminders_settings_updated.off'), facts };
    },
  },
};
