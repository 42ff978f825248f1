/**
 * One formatter per audit action recorded in src (the unit test collects them from the source and fails on a
 * missing one). `keys` lists every detail key the action stores — also those left out of the words on purpose:
 * job, attempt and export ids (ObjectIds mean nothing to a reader; the "stored values" disclosure keeps them).
 * The words live in locales/<lang>/audit.json under `describe.<action with _>`.
 */
import { read, type AuditFact, type AuditFormatter, type Details, type Words } from './audit-words';

type Text = { text: string; facts?: AuditFact[] };

const FORMATS = ['csv', 'xlsx', 'pdf'];

/** An action that stores no details: one fixed sentence. */
function plain(key: string): AuditFormatter {
  return { keys: [], describe: (_d, w) => ({ text: w.say(key) }) };
}

/** "5 rows" — a counted noun in the reader's language. */
function counted(w: Words, key: string, count: number): string {
  return w.say(key, { count, n: w.num(count) });
}

/**
 * Assignment rules (as audited by assignments.service auditRules) as a labelled list; null on another shape.
 * Each rule is optional: the demo seed (and any older event) stores only the module, roles and job titles.
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

const ASSIGNMENT_RULE_KEYS = ['moduleSlug', 'roles', 'jobTitles', 'schoolCodes', 'due', 'recurrence', 'minVersion'];

/** "filters: school Lincoln (LIN), module “Foundations”" or "no filters". */
function exportFilters(filters: Record<string, unknown>, w: Words): string | null {
  const known = ['school', 'module', 'status', 'jobTitle'];
  if (Object.keys(filters).some((k) => !known.includes(k))) return null;
  const parts: string[] = [];
  for (const key of known) {
    const value = filters[key];
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') return null;
    const shown = key === 'school' ? w.schoolCode(value) : key === 'module' ? w.module(value) : key === 'status' ? w.status(value) : w.jobTitle(value);
    parts.push(w.say(`compliance_exported.filter.${key}`, { value: shown }));
  }
  return parts.length ? w.say('compliance_exported.filters', { filters: w.list(parts) }) : w.say('compliance_exported.noFilters');
}

/** Linked / refused sign-ins through single sign-on or an LMS launch (sso.service: `${kind}.linked`, `${kind}.refused`). */
function signInFormatters(kind: 'sso' | 'lti'): Record<string, AuditFormatter> {
  return {
    [`${kind}.linked`]: {
      keys: ['issuer'],
      describe: (d, w) => {
        const issuer = read.str(d.issuer);
        return issuer === undefined ? null : { text: w.say(`${kind}_linked`, { issuer }) };
      },
    },
    [`${kind}.refused`]: {
      keys: ['reason'],
      describe: (d, w) => {
        const reason = read.code(d.reason);
        if (!reason) return null;
        return { text: w.say(`${kind}_refused`, { reason: w.t(`audit.describe.refusal.${reason}`, { defaultValue: reason }) }) };
      },
    },
  };
}

/** An LMS registration: its name and issuer, as the admin typed them. */
function ltiPlatform(key: string): AuditFormatter {
  return {
    keys: ['name', 'issuer'],
    describe: (d, w) => {
      const name = read.str(d.name);
      const issuer = read.str(d.issuer);
      return name === undefined || issuer === undefined ? null : { text: w.say(key, { name, issuer }) };
    },
  };
}

/** What provisioning changed: field names only (scim-users.service stores no values). */
function scimFields(d: Details, w: Words): string | null {
  const fields = read.strs(d.fields);
  if (d.via !== 'scim' || !fields) return null;
  return fields.length ? w.list(fields.map((f) => w.t(`audit.describe.field.${f}`, { defaultValue: f }) as string)) : w.say('common.nothing');
}

function groupSession(d: Details, w: Words): { module: string; version: number; school: string } | null {
  const school = read.ids([d.school])?.[0];
  const slug = read.str(d.moduleSlug);
  const version = read.count(d.moduleVersion);
  if (!school || !slug || version === undefined) return null;
  return { module: w.module(slug), version, school: w.school(school) };
}

export const AUDIT_FORMATTERS: Readonly<Record<string, AuditFormatter>> = Object.freeze({
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
    describe: (d, w): Text | null => {
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
  'user.created': {
    keys: ['role', 'schools', 'passwordSet'],
    describe: (d, w) => {
      const role = read.code(d.role);
      const schools = d.schools === undefined ? [] : read.ids(d.schools);
      const password = d.passwordSet === undefined ? false : read.bool(d.passwordSet);
      if (!role || !schools || password === undefined) return null;
      const values = { role: w.role(role), schools: w.schools(schools) };
      const text = w.say(schools.length ? 'user_created.atSchools' : 'user_created.text', values);
      return { text: `${text} ${w.say(password ? 'user_created.password' : 'user_created.noPassword')}` };
    },
  },
  'user.role_changed': {
    keys: ['from', 'to', 'via', 'importId'],
    describe: (d, w) => {
      const from = read.code(d.from);
      const to = read.code(d.to);
      if (!from || !to || (d.via !== undefined && d.via !== 'roster_import')) return null;
      const text = w.say('user_role_changed.text', { from: w.role(from), to: w.role(to) });
      return { text: d.via === 'roster_import' ? `${text} ${w.say('user_role_changed.byImport')}` : text };
    },
  },
  'user.schools_changed': {
    keys: ['from', 'to'],
    describe: (d, w) => {
      const from = read.ids(d.from);
      const to = read.ids(d.to);
      return from && to ? { text: w.say('user_schools_changed', { from: w.schools(from), to: w.schools(to) }) } : null;
    },
  },
  'user.deactivated': plain('user_deactivated'),
  'user.reactivated': plain('user_reactivated'),
  'user.password_set': plain('user_password_set'),
  'user.password_changed': plain('user_password_changed'),
  'user.password_reset_by_email': plain('user_password_reset_by_email'),
  'school.created': {
    keys: ['code'],
    describe: (d, w) => {
      const code = read.str(d.code);
      return code ? { text: w.say('school_created', { code }) } : null;
    },
  },
  'school.updated': {
    keys: ['from', 'to'],
    describe: (d, w) => {
      const from = read.obj(d.from);
      const to = read.obj(d.to);
      const names = from && to ? [from.name, from.code, to.name, to.code].map(read.str) : [];
      if (names.length !== 4 || names.some((n) => n === undefined)) return null;
      const [fromName, fromCode, toName, toCode] = names as string[];
      return { text: w.say('school_updated', { fromName, fromCode, toName, toCode }) };
    },
  },
  'school.deactivated': plain('school_deactivated'),
  'school.reactivated': plain('school_reactivated'),
  'settings.updated': {
    keys: ['changed'],
    describe: (d, w) => {
      const changed = read.strs(d.changed);
      if (!changed) return null;
      if (changed.length === 0) return { text: w.say('settings_updated.nothing') };
      const parts = changed.map((field) => {
        const contact = /^contacts\.([a-z_]+)$/.exec(field);
        if (contact) return w.say('settings_updated.contact', { label: w.t(`settings.contacts.${contact[1]}.label`, { defaultValue: contact[1] }) });
        return w.t(`audit.describe.settings_updated.field.${field}`, { defaultValue: field }) as string;
      });
      return { text: w.say('settings_updated.text', { fields: w.list(parts) }) };
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
  'scim.token_created': {
    keys: ['replaced'],
    describe: (d, w) => {
      const replaced = d.replaced === undefined ? false : read.bool(d.replaced);
      return replaced === undefined ? null : { text: w.say(replaced ? 'scim_token_created.replaced' : 'scim_token_created.text') };
    },
  },
  'scim.token_revoked': plain('scim_token_revoked'),
  'scim.user_created': {
    keys: ['via', 'fields'],
    describe: (d, w) => {
      const fields = scimFields(d, w);
      return fields ? { text: w.say('scim_user_created', { fields }) } : null;
    },
  },
  'scim.user_updated': {
    keys: ['via', 'fields'],
    describe: (d, w) => {
      const fields = scimFields(d, w);
      return fields ? { text: w.say('scim_user_updated', { fields }) } : null;
    },
  },
  'scim.user_deactivated': {
    keys: ['via', 'fields'],
    describe: (d, w) => {
      const fields = scimFields(d, w);
      return fields ? { text: w.say('scim_user_deactivated', { fields }) } : null;
    },
  },
  'scim.deactivations_allowed': {
    keys: ['extra'],
    describe: (d, w) => {
      const extra = read.count(d.extra);
      return extra === undefined ? null : { text: w.say('scim_deactivations_allowed', { count: extra, n: w.num(extra) }) };
    },
  },
  'xapi.settings_updated': {
    // authKey is the LRS's key id (a user name), never the secret; it is still left out of the words.
    keys: ['endpoint', 'authKey', 'actorId', 'enabled', 'secretChanged', 'previous'],
    describe: (d, w) => {
      const endpoint = read.str(d.endpoint);
      const enabled = read.bool(d.enabled);
      const actorId = read.code(d.actorId);
      const secretChanged = read.bool(d.secretChanged);
      const previous = d.previous === undefined ? {} : read.obj(d.previous);
      const shown = endpoint === undefined ? null : w.url(endpoint);
      if (!shown || enabled === undefined || !actorId || secretChanged === undefined || !previous) return null;
      const changes: string[] = [];
      if (previous.endpoint !== undefined && previous.endpoint !== endpoint) changes.push(w.say('xapi_settings_updated.endpointChanged'));
      if (previous.authKey !== undefined && previous.authKey !== d.authKey) changes.push(w.say('xapi_settings_updated.keyChanged'));
      if (secretChanged) changes.push(w.say('xapi_settings_updated.secretChanged'));
      if (previous.actorId !== undefined && previous.actorId !== actorId) changes.push(w.say('xapi_settings_updated.actorIdChanged'));
      const text = w.say(enabled ? 'xapi_settings_updated.on' : 'xapi_settings_updated.off', { endpoint: shown });
      const facts = [
        { label: w.say('xapi_settings_updated.actorId'), value: w.t(`audit.describe.xapi_settings_updated.actor.${actorId}`, { defaultValue: actorId }) as string },
        { label: w.say('xapi_settings_updated.changes'), value: changes.length ? w.list(changes) : w.say('common.nothing') },
      ];
      return { text, facts };
    },
  },
  'xapi.test_sent': {
    keys: ['endpoint', 'status', 'ok'],
    describe: (d, w) => {
      const endpoint = read.str(d.endpoint);
      const shown = endpoint === undefined ? null : w.url(endpoint);
      const ok = read.bool(d.ok);
      const status = d.status === null ? null : read.count(d.status);
      if (!shown || ok === undefined || status === undefined) return null;
      const key = ok ? 'accepted' : status === null ? 'noAnswer' : 'refused';
      return { text: w.say(`xapi_test_sent.${key}`, { endpoint: shown, status }) };
    },
  },
  'xapi.resumed': plain('xapi_resumed'),
  'xapi.backfill_requested': plain('xapi_backfill_requested'),
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
  ...signInFormatters('sso'),
  ...signInFormatters('lti'),
  'sso.unlinked': plain('sso_unlinked'),
  'lti.platform_created': ltiPlatform('lti_platform_created'),
  'lti.platform_updated': ltiPlatform('lti_platform_updated'),
  'lti.platform_removed': ltiPlatform('lti_platform_removed'),
  'audit.anchor_recipients_changed': {
    keys: ['recipients'],
    describe: (d, w) => {
      const recipients = read.count(d.recipients);
      return recipients === undefined ? null : { text: w.say('audit_anchor_recipients_changed', { count: recipients, n: w.num(recipients) }) };
    },
  },
} satisfies Record<string, AuditFormatter>);
