import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeAuditDetails, hasAuditFormatter } from '../../../src/components/audit/audit-details';
import { AUDIT_FORMATTERS } from '../../../src/components/audit/audit-details.actions';
import type { AuditRefs } from '../../../src/components/audit/audit-words';
import { translator } from '../../../src/shared/i18n';

const SRC = path.join(__dirname, '..', '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'embedded-mongo' ? [] : sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every audit action the source records: string literals on lines that set an `action` or call an `audit(`
 * helper, plus `${kind}.linked` / `${kind}.refused` of sso.service.ts expanded with its SignInLink kinds.
 */
function recordedActions(): string[] {
  const kinds = /export type SignInLink = \{ kind: ([^;]+);/.exec(readFileSync(path.join(SRC, 'components/sso/sso.service.ts'), 'utf8'))?.[1];
  const linkKinds = [...(kinds ?? '').matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
  const found = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!/\baction\b|\baudit\(/.test(line)) continue;
      for (const m of line.matchAll(/'([a-z]+\.[a-z_]+)'/g)) found.add(m[1]);
      for (const m of line.matchAll(/`\$\{kind\}\.([a-z_]+)`/g)) for (const kind of linkKinds) found.add(`${kind}.${m[1]}`);
    }
  }
  return [...found].sort();
}

const SCHOOL = '64b000000000000000000001';
const GONE = '64b000000000000000000009';
const refs: AuditRefs = {
  schoolsById: new Map([[SCHOOL, 'Lincoln Elementary']]),
  schoolsByCode: new Map([['LIN', 'Lincoln Elementary']]),
  moduleTitles: new Map([['foundations', { en: 'Foundations', es: 'Fundamentos' }]]),
};

/** One event per action, with details of the shape its call site stores. */
const SAMPLES: Record<string, Record<string, unknown> | undefined> = {
  'assignment.created': { moduleSlug: 'foundations', roles: ['staff'], jobTitles: ['teacher', 'front_office'], schoolCodes: ['LIN'], due: { kind: 'relative', days: 30 }, recurrence: { kind: 'annual' }, minVersion: 1 },
  'assignment.updated': { moduleSlug: 'foundations', fromMinVersion: 1, roles: [], jobTitles: [], schoolCodes: [], due: { kind: 'fixed', date: '2026-12-01' }, recurrence: { kind: 'school_year', cycleEnd: '06-30' }, minVersion: 2 },
  'assignment.archived': { moduleSlug: 'foundations' },
  'compliance.rebuilt': { jobId: '64b0000000000000000000aa' },
  'compliance.retried': { jobId: '64b0000000000000000000aa', moduleSlug: 'foundations' },
  'compliance.exported': { format: 'pdf', filters: { school: 'LIN', module: 'foundations', status: null, jobTitle: null }, rowCount: 5, complete: true },
  'compliance.export_downloaded': { exportJob: '64b0000000000000000000ab', format: 'xlsx', rowCount: 74000 },
  'completion.recorded': { moduleSlug: 'foundations', moduleVersion: 2, score: 87.5, attempt: '64b0000000000000000000ac', isRenewal: false, method: 'update', updatedFrom: 1 },
  'user.created': { role: 'staff', schools: [SCHOOL], passwordSet: true },
  'user.role_changed': { from: 'staff', to: 'principal', via: 'roster_import', importId: '64b0000000000000000000ad' },
  'user.schools_changed': { from: [SCHOOL], to: [SCHOOL, GONE] },
  'user.regions_changed': { from: [], to: ['N', 'S'] },
  'user.deactivated': undefined,
  'user.reactivated': undefined,
  'user.password_set': undefined,
  'user.password_changed': undefined,
  'user.password_reset_by_email': undefined,
  'school.created': { code: 'LIN' },
  'school.updated': { from: { code: 'LIN', name: 'Lincoln' }, to: { code: 'LIN', name: 'Lincoln Elementary' } },
  'school.deactivated': undefined,
  'school.reactivated': undefined,
  'school.region_changed': { from: null, to: 'WEST' },
  'school.contacts_updated': { changes: [{ key: 'principal', from: null, to: { name: 'Ana Ruiz', phone: '(213) 555-0100' } }, { key: 'school_police', from: { name: 'Dispatch', nameEs: 'Central', phone: '' }, to: null }] },
  'region.created': { code: 'WEST', contacts: [{ key: 'region_operations', from: null, to: { name: 'West operations desk', nameEs: 'Operaciones del Oeste', phone: '(213) 555-0150' } }] },
  'region.updated': { from: { code: 'WEST', name: 'West' }, to: { code: 'WEST', name: 'Region West' }, contacts: [] },
  'region.deleted': { code: 'WEST', name: 'Region West', schools: 3 },
  'settings.updated': { changed: ['timeZone', 'contacts.region_operations'] },
  'content.review_recorded': { moduleSlug: 'foundations', version: 1, reviewedOn: '2026-12-01', reviewer: 'Office of the General Counsel', previous: { reviewedOn: '2026-11-30', reviewer: 'General Counsel' } },
  'content.review_withdrawn': { moduleSlug: 'foundations', version: 1, reviewedOn: '2026-12-01', reviewer: 'Office of the General Counsel' },
  'roster.imported': { fileName: 'staff.csv', completeRoster: false, rows: 120, created: 3, updated: 4, unchanged: 110, reactivated: 1, deactivated: 0, roleChanges: 2, jobId: 'j1', attempts: 1 },
  'roster.problems_exported': { format: 'csv', fileName: 'staff.csv', lines: 2, problems: 3, complete: true },
  'scim.token_created': { replaced: true },
  'scim.token_revoked': undefined,
  'scim.user_created': { via: 'scim', fields: ['email', 'name', 'employeeId', 'jobTitle', 'schools', 'active', 'preferredLanguage'] },
  'scim.user_updated': { via: 'scim', fields: ['name', 'jobTitle'] },
  'scim.user_deactivated': { via: 'scim', fields: ['active'] },
  'scim.deactivations_allowed': { extra: 25 },
  'scim.principals_setting_changed': { enabled: true, ignored: 3 },
  'xapi.settings_updated': { endpoint: 'https://lrs.example.org/xapi/', authKey: 'district-key', actorId: 'internal_id', enabled: true, secretChanged: true, previous: { endpoint: 'https://old.example.org/xapi/', authKey: 'district-key', actorId: 'internal_id', enabled: false } },
  'xapi.test_sent': { endpoint: 'https://lrs.example.org/xapi/', status: 401, ok: false },
  'xapi.resumed': undefined,
  'xapi.backfill_requested': undefined,
  'xapi.iri_base_changed': { from: 'https://training.example.org', to: 'https://training.district.example/lrs' },
  'session.created': { school: SCHOOL, moduleSlug: 'foundations', moduleVersion: 1, sessionDate: '2026-11-20' },
  'session.attendance_saved': { present: 12 },
  'session.finished': { school: SCHOOL, moduleSlug: 'foundations', moduleVersion: 1, sessionDate: '2026-11-20', present: 12, recorded: 10, alreadyTrained: 1, notEligible: 1 },
  'session.discarded': { school: SCHOOL, moduleSlug: 'foundations', moduleVersion: 1, attendees: 4 },
  'reminders.queued': { group: 'urgent', queued: 7, skippedRecent: 1, skippedNoEmail: 2, alreadyQueued: 0 },
  'reminders.settings_updated': { enabled: true, daysBefore: [7, 1], onDueDate: true, afterEveryDays: 7, afterTimes: 3, principalDigest: true, digestWeekday: 1, sendHour: 8 },
  'sso.linked': { issuer: 'https://accounts.google.com' },
  'sso.refused': { reason: 'inactive' },
  'sso.unlinked': undefined,
  'lti.linked': { issuer: 'https://canvas.instructure.com' },
  'lti.refused': { reason: 'linked_elsewhere' },
  'lti.platform_created': { name: 'Canvas', issuer: 'https://canvas.instructure.com', requireBrowserBinding: true, gradePassback: false },
  'lti.platform_updated': { name: 'Canvas', issuer: 'https://canvas.instructure.com', requireBrowserBinding: false, gradePassback: true },
  'lti.scores_resumed': { links: 3 },
  'lti.platform_removed': { name: 'Canvas', issuer: 'https://canvas.instructure.com' },
  'audit.anchor_recipients_changed': { recipients: 2 },
};

const en = translator('en');
const es = translator('es');
const words = (action: string, details: unknown, lang: 'en' | 'es' = 'en') => describeAuditDetails({ action, details }, lang === 'en' ? en : es, lang, refs);
const all = (d: { text: string; facts: readonly { label: string; value: string }[] }) => [d.text, ...d.facts.flatMap((f) => [f.label, f.value])].join(' | ');

describe('audit details in words', () => {
  const actions = recordedActions();

  test('when the source is scanned, then it finds the audit actions it records (the scan itself works)', () => {
    expect(actions.length).toBeGreaterThanOrEqual(48);
    expect(actions).toEqual(expect.arrayContaining(['compliance.exported', 'user.role_changed', 'scim.user_deactivated', 'user.deactivated', 'sso.linked', 'lti.refused']));
  });

  test('when an action is recorded anywhere in src, then it has a formatter and a sample here', () => {
    expect(actions.filter((a) => !hasAuditFormatter(a))).toEqual([]);
    expect(actions.filter((a) => !(a in SAMPLES))).toEqual([]);
    // No formatter for an action nothing records any more (a renamed action would leave one behind).
    expect(Object.keys(AUDIT_FORMATTERS).filter((a) => !actions.includes(a))).toEqual([]);
  });

  test.each(Object.keys(SAMPLES))('when a %s event has the details its call site stores, then it reads as words in English and in Spanish', (action) => {
    const english = words(action, SAMPLES[action], 'en');
    const spanish = words(action, SAMPLES[action], 'es');
    for (const d of [english, spanish]) {
      expect(d.isRaw).toBe(false);
      expect(d.text.length).toBeGreaterThan(10);
      const text = all(d);
      expect(text).not.toMatch(/undefined|\[object|NaN|audit\.|\{\{|[0-9a-f]{24}/);
    }
    expect(spanish.text).not.toBe(english.text);
  });

  test('when the compliance report is exported, then format, rows and filters are named in each language', () => {
    const details = SAMPLES['compliance.exported'];
    expect(words('compliance.exported', details).text).toBe('Exported the compliance report as PDF — 5 rows, filters: school Lincoln Elementary (LIN) and module “Foundations”.');
    expect(words('compliance.exported', details, 'es').text).toBe('Exportó el informe de cumplimiento en PDF — 5 filas, filtros: escuela Lincoln Elementary (LIN) y módulo “Fundamentos”.');
    expect(words('compliance.exported', { format: 'csv', filters: { school: null, module: null, status: 'overdue', jobTitle: 'front_office' }, rowCount: 1, complete: false }).text).toBe(
      'Exported the compliance report as CSV — 1 row, filters: status Overdue and job title Front office. The download stopped before the end.',
    );
    expect(words('compliance.exported', { format: 'xlsx', filters: { school: null, module: null, status: null, jobTitle: null }, rowCount: 74000, complete: true }, 'es').text).toBe(
      'Exportó el informe de cumplimiento en XLSX — 74,000 filas, sin filtros (todo el personal a su alcance).',
    );
  });

  test('when a role or schools change, then roles are named and school ids become names (an unknown one is counted, never shown)', () => {
    expect(words('user.role_changed', { from: 'staff', to: 'district_admin' }).text).toBe('Changed the role from Staff to District administrator.');
    expect(words('user.role_changed', SAMPLES['user.role_changed'], 'es').text).toBe(`Cambió el rol de ${es('roles.staff')} a ${es('roles.principal')}. Mediante una importación de la lista de personal.`);
    const moved = words('user.schools_changed', SAMPLES['user.schools_changed']);
    expect(moved.text).toBe('Changed the schools from Lincoln Elementary to Lincoln Elementary and 1 school not found in the district.');
    expect(moved.text).not.toContain(GONE);
    expect(words('user.schools_changed', { from: [], to: [SCHOOL] }, 'es').text).toBe('Cambió las escuelas de ninguna escuela a Lincoln Elementary.');
  });

  test('when settings change, then the fields and contacts are named with the settings page labels', () => {
    expect(words('settings.updated', SAMPLES['settings.updated']).text).toBe('Changed the time zone and the contact “Region operations”.');
    expect(words('settings.updated', SAMPLES['settings.updated'], 'es').text).toBe(`Cambió la zona horaria y el contacto “${es('settings.contacts.region_operations.label')}”.`);
    expect(words('settings.updated', { changed: [] }).text).toBe('Saved the district settings without changing anything.');
  });

  test('when an assignment is created, then its rules are a labelled list with translated roles, job titles, schools and dates', () => {
    const d = words('assignment.created', SAMPLES['assignment.created']);
    expect(d.text).toBe('Assigned the module “Foundations”:');
    expect(d.facts).toEqual([
      { label: 'Roles', value: 'Staff' },
      { label: 'Job titles', value: 'Teacher and Front office' },
      { label: 'Schools', value: 'Lincoln Elementary (LIN)' },
      { label: 'Due', value: "30 days after each person's start date" },
      { label: 'Repeats', value: 'every year' },
      { label: 'Versions that count', value: 'version 1 or later' },
    ]);
    const changed = words('assignment.updated', SAMPLES['assignment.updated'], 'es');
    expect(changed.facts).toEqual(
      expect.arrayContaining([
        { label: 'Fecha límite', value: 'a más tardar el 1 de diciembre de 2026' },
        { label: 'Se repite', value: 'cada año escolar, que termina el 30 de junio' },
        { label: 'Versiones que contaban antes', value: 'versión 1 o posterior' },
      ]),
    );
  });

  test('when an assignment event holds only some rules (module, roles and job titles: demo databases seeded before every rule was recorded), then the list has those', () => {
    const d = words('assignment.created', { moduleSlug: 'foundations', roles: ['staff', 'principal'], jobTitles: [] }, 'es');
    expect(d.isRaw).toBe(false);
    expect(d.facts).toEqual([
      { label: 'Roles', value: `${es('roles.staff')} y ${es('roles.principal')}` },
      { label: 'Puestos', value: 'todos los puestos' },
    ]);
    expect(words('assignment.created', { moduleSlug: 'foundations', due: { kind: 'weekly' } }).isRaw).toBe(true);
  });

  test('when counts are singular or zero, then the plural forms follow', () => {
    expect(words('audit.anchor_recipients_changed', { recipients: 0 }).text).toBe("Stopped emailing the audit log's fingerprint.");
    expect(words('audit.anchor_recipients_changed', { recipients: 1 }).text).toContain('to 1 address ');
    expect(words('session.attendance_saved', { present: 1 }, 'es').text).toBe('Guardó la asistencia: 1 persona presente.');
    expect(words('reminders.settings_updated', { ...SAMPLES['reminders.settings_updated'], afterEveryDays: 1, afterTimes: 1 }).facts).toContainEqual({ label: 'After the due date', value: 'every 1 day, up to 1 time' });
  });

  test('when details hold a key the action does not store, another shape, or the action is unknown, then the stored key=value text is shown', () => {
    // The events of the old chain test: an extra `at` key.
    const old = words('compliance.exported', { format: 'csv', rowCount: 3, filters: { school: null, module: 'foundations' }, at: new Date('2026-01-01T00:00:00Z') });
    expect(old).toEqual({ text: '', isRaw: true, facts: [
      { label: 'format', value: 'csv' },
      { label: 'rowCount', value: '3' },
      { label: 'filters', value: 'module=foundations' },
      { label: 'at', value: '2026-01-01T00:00:00.000Z' },
    ] });
    // compliance.rebuilt once stored the counts of the rebuild itself.
    expect(words('compliance.rebuilt', { people: 10, rows: 30 }).isRaw).toBe(true);
    expect(words('user.role_changed', { from: 'staff', to: 42 }).isRaw).toBe(true);
    expect(words('user.updated', { name: 'x' })).toEqual({ text: '', isRaw: true, facts: [{ label: 'name', value: 'x' }] });
    expect(words('future.action', undefined)).toEqual({ text: '', isRaw: true, facts: [] });
    expect(words('user.deactivated', { reason: 'left' }).isRaw).toBe(true);
    expect(words('user.created', 'a string')).toEqual({ text: '', isRaw: true, facts: [{ label: 'details', value: 'a string' }] });
    expect(words('compliance.exported', { ...SAMPLES['compliance.exported'], format: 'docx' }).isRaw).toBe(true);
    expect(words('reminders.settings_updated', { ...SAMPLES['reminders.settings_updated'], digestWeekday: 9 }).isRaw).toBe(true);
  });

  test('when any detail of any action holds an odd value, then nothing throws and nothing reads "undefined" or "[object Object]"', () => {
    const odd: unknown[] = [null, undefined, '', 'x'.repeat(500), -1, 1.5, NaN, Infinity, true, [], [null], [{}], {}, { a: { b: 1 } }, new Date(NaN), new Date(0)];
    for (const action of Object.keys(SAMPLES)) {
      const keys = [...AUDIT_FORMATTERS[action].keys, 'extra_key'];
      for (const key of keys) {
        for (const value of odd) {
          for (const lang of ['en', 'es'] as const) {
            const d = words(action, { ...(SAMPLES[action] ?? {}), [key]: value }, lang);
            const text = all(d);
            expect(text).not.toMatch(/undefined|\[object /);
          }
        }
      }
    }
  });

  test('when LRS settings are shown, then neither key nor secret appears and the endpoint loses any credentials or query', () => {
    const d = words('xapi.settings_updated', { ...SAMPLES['xapi.settings_updated'], endpoint: 'https://user:pass@lrs.example.org/xapi/?token=abc#x', authKey: 'key-123' });
    const text = all(d);
    expect(d.text).toBe('Sending to the learning record store is on, to https://lrs.example.org/xapi/.');
    expect(text).not.toMatch(/user|pass|token|abc|key-123|district-key/);
    expect(d.facts).toContainEqual({ label: 'Changed', value: 'the endpoint, the key, and the secret (never shown)' });
    expect(words('xapi.settings_updated', { ...SAMPLES['xapi.settings_updated'], endpoint: 'javascript:alert(1)' }).isRaw).toBe(true);
  });

  test('when the formatters are read, then none of them knows a key that could hold a credential', () => {
    const risky = Object.entries(AUDIT_FORMATTERS).flatMap(([action, f]) => f.keys.filter((k) => /token|secret|password|assertion|jwt|bearer|cookie/i.test(k) && !/^(secretChanged|passwordSet)$/.test(k)).map((k) => `${action}:${k}`));
    expect(risky).toEqual([]);
  });

  test('when the words are looked up, then English and Spanish have the same keys under audit.describe', () => {
    const keysOf = (value: unknown, prefix = ''): string[] =>
      value && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => keysOf(v, `${prefix}.${k}`)) : [prefix];
    const load = (lang: string) => JSON.parse(readFileSync(path.join(SRC, 'locales', lang, 'audit.json'), 'utf8')).describe;
    expect(keysOf(load('es')).sort()).toEqual(keysOf(load('en')).sort());
    // Every action also has a label for the Action column and the filter.
    for (const action of actions) {
      const key = `audit.actions.${action.replace('.', '_')}`;
      expect([action, en(key)]).not.toEqual([action, key]);
      expect([action, es(key)]).not.toEqual([action, key]);
    }
  });
});

describe('contact tree changes in words', () => {
  test('when a school contact is set and another cleared, then each reads old → new with its label, in English and Spanish', () => {
    const english = words('school.contacts_updated', SAMPLES['school.contacts_updated'], 'en');
    expect(english.text).toBe("Changed 2 of the school's own contacts (old → new):");
    expect(english.facts).toEqual([
      { label: 'Site administrator', value: 'not set → “Ana Ruiz”, (213) 555-0100' },
      { label: 'School police dispatch', value: '“Dispatch” / “Central” → not set' },
    ]);
    const spanish = words('school.contacts_updated', SAMPLES['school.contacts_updated'], 'es');
    expect(spanish.text).toBe('Cambió 2 de los contactos propios de la escuela (antes → ahora):');
    expect(spanish.facts[0].value).toBe('sin definir → “Ana Ruiz”, (213) 555-0100');
  });

  test('when a region is renamed and a school moved into it, then both read as sentences', () => {
    expect(words('region.updated', SAMPLES['region.updated']).text).toBe('Changed the region from “West” (WEST) to “Region West” (WEST).');
    expect(words('region.deleted', SAMPLES['region.deleted']).text).toBe('Deleted the region “Region West” (WEST); its 3 schools now have no region.');
    expect(words('region.deleted', { code: 'WEST', name: 'Region West', schools: 1 }, 'es').text).toBe('Eliminó la región “Region West” (WEST); su 1 escuela queda sin región.');
    expect(words('school.region_changed', SAMPLES['school.region_changed']).text).toBe('Moved the school from no region to WEST.');
    expect(words('school.region_changed', SAMPLES['school.region_changed'], 'es').text).toBe('Pasó la escuela de ninguna región a WEST.');
  });

  test('when counsel review is recorded, corrected or withdrawn, then it reads as a sentence with what it replaced', () => {
    const corrected = words('content.review_recorded', SAMPLES['content.review_recorded']);
    expect(corrected.text).toMatch(/^Recorded that Office of the General Counsel reviewed .+, version 1, on Dec(ember)? 1, 2026\.$/);
    expect(corrected.facts).toEqual([{ label: 'Replaces', value: expect.stringMatching(/^General Counsel, Nov(ember)? 30, 2026$/) }]);
    const first = words('content.review_recorded', { ...SAMPLES['content.review_recorded'], previous: undefined });
    expect(first.facts).toEqual([]);
    expect(words('content.review_withdrawn', SAMPLES['content.review_withdrawn'], 'es').text).toMatch(/^Retiró el registro de que Office of the General Counsel revisó .+, versión 1, el 1 de dic(iembre|\.) de 2026: /);
    expect(words('content.review_recorded', { ...SAMPLES['content.review_recorded'], previous: { reviewer: 'x' } }).isRaw).toBe(true);
  });

  test('when a change has another shape, then the raw values are shown', () => {
    expect(words('school.contacts_updated', { changes: [{ key: 'principal', from: 'x', to: null }] }).isRaw).toBe(true);
  });
});
