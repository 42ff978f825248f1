/** The words of events about people, schools, settings and sign-in: accounts, provisioning (SCIM), SSO and LTI, xAPI, the audit log's own. */
import { plain, read, type AuditFormatter, type Details, type Words } from './audit-words';

/** A contact as the audit log stores it ({ name, nameEs?, phone } or null) in words: "“Ana Ruiz” / “Ana Ruiz”, (213) 555-0100". */
function contactText(value: unknown, w: Words): string | undefined {
  if (value === null) return w.say('contacts.notSet');
  const c = read.obj(value);
  const name = read.str(c?.name);
  const nameEs = c?.nameEs === undefined ? '' : read.str(c.nameEs);
  const phone = c?.phone === undefined ? '' : read.str(c.phone);
  if (!name || nameEs === undefined || phone === undefined) return undefined;
  const named = w.say('common.quoted', { text: name }) + (nameEs ? ` / ${w.say('common.quoted', { text: nameEs })}` : '');
  return phone ? `${named}, ${phone}` : named;
}

/** Contact changes ([{ key, from, to }], settings contact-changes.ts) as facts: the contact's label, then old → new. Null for another shape. */
function contactFacts(value: unknown, w: Words): { label: string; value: string }[] | null {
  if (!Array.isArray(value)) return null;
  const facts: { label: string; value: string }[] = [];
  for (const item of value) {
    const change = read.obj(item);
    const key = read.code(change?.key);
    const from = change ? contactText(change.from, w) : undefined;
    const to = change ? contactText(change.to, w) : undefined;
    if (!key || from === undefined || to === undefined) return null;
    facts.push({ label: w.label(`settings.contacts.${key}.label`, key), value: w.say('contacts.change', { from, to }) });
  }
  return facts;
}

/** Linked / refused sign-ins through single sign-on or an LMS launch (sso.service: `${kind}.linked`, `${kind}.refused`). */
function signInFormatters(kind: 'sso' | 'lti'): Record<string, AuditFormatter> {
  return {
    [`${kind}.linked`]: {
      keys: ['issuer'],
      describe: (d, w) => {
        const issuer = read.str(d.issuer);
        if (issuer === undefined) return null;
        // An LMS launch names the district's registration of that issuer (read now: audit.service detailRefs).
        const name = kind === 'lti' ? w.ltiPlatform(issuer) : null;
        return { text: name ? w.say('lti_linked_named', { name, issuer }) : w.say(`${kind}_linked`, { issuer }) };
      },
    },
    [`${kind}.refused`]: {
      keys: ['reason'],
      describe: (d, w) => {
        const reason = read.code(d.reason);
        if (!reason) return null;
        return { text: w.say(`${kind}_refused`, { reason: w.label(`audit.describe.refusal.${reason}`, reason) }) };
      },
    },
  };
}

/**
 * An LMS registration: its name and issuer as the admin typed them (the name when the event was written; the
 * "concerns" column shows its name now), and, when added or changed, whether launches need the browser check.
 */
function ltiPlatform(key: string): AuditFormatter {
  return {
    // gradePassback is stored too (lti-platforms.service): known, not worded.
    keys: ['name', 'issuer', 'requireBrowserBinding', 'gradePassback'],
    describe: (d, w) => {
      const name = read.str(d.name);
      const issuer = read.str(d.issuer);
      const binding = d.requireBrowserBinding === undefined ? undefined : read.bool(d.requireBrowserBinding);
      if (name === undefined || issuer === undefined || (d.requireBrowserBinding !== undefined && binding === undefined)) return null;
      const text = w.say(key, { name, issuer });
      return { text: binding === undefined ? text : `${text} ${w.say(binding ? 'lti_platform_binding.on' : 'lti_platform_binding.off')}` };
    },
  };
}

/** What provisioning changed: field names only (scim-users.service stores no values). */
function scimFields(d: Details, w: Words): string | null {
  const fields = read.strs(d.fields);
  if (d.via !== 'scim' || !fields) return null;
  return fields.length ? w.list(fields.map((f) => w.label(`audit.describe.field.${f}`, f))) : w.say('common.nothing');
}

export const PEOPLE_FORMATTERS: Readonly<Record<string, AuditFormatter>> = {
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
      if (!from || !to || (d.via !== undefined && d.via !== 'roster_import' && d.via !== 'scim')) return null;
      const text = w.say('user_role_changed.text', { from: w.role(from), to: w.role(to) });
      if (d.via === undefined) return { text };
      return { text: `${text} ${w.say(d.via === 'scim' ? 'user_role_changed.byScim' : 'user_role_changed.byImport')}` };
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
  'user.regions_changed': {
    keys: ['from', 'to'],
    describe: (d, w) => {
      const from = read.strs(d.from);
      const to = read.strs(d.to);
      const regions = (codes: string[]) => (codes.length ? w.list(codes) : w.say('common.noRegions'));
      return from && to ? { text: w.say('user_regions_changed', { from: regions(from), to: regions(to) }) } : null;
    },
  },
  'user.deactivated': plain('user_deactivated'),
  'user.reactivated': plain('user_reactivated'),
  'user.password_set': plain('user_password_set'),
  'user.password_changed': plain('user_password_changed'),
  'user.password_reset_by_email': plain('user_password_reset_by_email'),
  'school.created': {
    keys: ['code', 'region'],
    describe: (d, w) => {
      const code = read.str(d.code);
      const region = d.region === undefined ? null : read.str(d.region);
      if (!code || region === undefined) return null;
      return { text: region ? w.say('school_created_in_region', { code, region }) : w.say('school_created', { code }) };
    },
  },
  'school.region_changed': {
    keys: ['from', 'to'],
    describe: (d, w) => {
      const [from, to] = [d.from, d.to].map((v) => (v === null ? w.say('contacts.noRegion') : read.str(v)));
      if (from === undefined || to === undefined) return null;
      return { text: w.say('school_region_changed', { from, to }) };
    },
  },
  'school.contacts_updated': {
    keys: ['changes'],
    describe: (d, w) => {
      const facts = contactFacts(d.changes, w);
      return facts ? { text: w.say('school_contacts_updated', { count: facts.length, n: w.num(facts.length) }), facts } : null;
    },
  },
  'region.created': {
    keys: ['code', 'contacts'],
    describe: (d, w) => {
      const code = read.str(d.code);
      const facts = d.contacts === undefined ? [] : contactFacts(d.contacts, w);
      return code && facts ? { text: w.say('region_created', { code }), facts } : null;
    },
  },
  'region.updated': {
    keys: ['from', 'to', 'contacts'],
    describe: (d, w) => {
      const from = read.obj(d.from);
      const to = read.obj(d.to);
      const names = from && to ? [from.name, from.code, to.name, to.code].map(read.str) : [];
      const facts = d.contacts === undefined ? [] : contactFacts(d.contacts, w);
      if (names.length !== 4 || names.some((n) => n === undefined) || !facts) return null;
      const [fromName, fromCode, toName, toCode] = names as string[];
      const renamed = fromName !== toName || fromCode !== toCode;
      const parts = [renamed ? w.say('region_updated.renamed', { fromName, fromCode, toName, toCode }) : '', facts.length ? w.say('region_updated.contacts', { count: facts.length, n: w.num(facts.length) }) : ''].filter(Boolean);
      return { text: parts.length ? parts.join(' ') : w.say('region_updated.nothing'), facts };
    },
  },
  'region.deleted': {
    keys: ['code', 'name', 'schools'],
    describe: (d, w) => {
      const code = read.str(d.code);
      const name = read.str(d.name);
      const schools = read.count(d.schools);
      if (!code || name === undefined || schools === undefined) return null;
      return { text: w.say('region_deleted', { name, code, count: schools, n: w.num(schools) }) };
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
        if (contact) return w.say('settings_updated.contact', { label: w.label(`settings.contacts.${contact[1]}.label`, contact[1]) });
        return w.label(`audit.describe.settings_updated.field.${field}`, field);
      });
      return { text: w.say('settings_updated.text', { fields: w.list(parts) }) };
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
    // role: only for a person created as principal (scim-users.service); staff have none.
    keys: ['via', 'fields', 'role'],
    describe: (d, w) => {
      const fields = scimFields(d, w);
      const role = d.role === undefined ? undefined : read.code(d.role);
      if (!fields || (d.role !== undefined && !role)) return null;
      return { text: role ? w.say('scim_user_created_as', { role: w.role(role), fields }) : w.say('scim_user_created', { fields }) };
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
  'scim.principals_setting_changed': {
    keys: ['enabled', 'ignored'],
    describe: (d, w) => {
      const enabled = read.bool(d.enabled);
      const ignored = d.ignored === undefined ? 0 : read.count(d.ignored);
      if (enabled === undefined || ignored === undefined) return null;
      const text = w.say(enabled ? 'scim_principals_setting_changed.on' : 'scim_principals_setting_changed.off');
      return { text: enabled && ignored > 0 ? `${text} ${w.say('scim_principals_setting_changed.ignored', { count: ignored, n: w.num(ignored) })}` : text };
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
        { label: w.say('xapi_settings_updated.actorId'), value: w.label(`audit.describe.xapi_settings_updated.actor.${actorId}`, actorId) },
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
  'xapi.iri_base_changed': {
    keys: ['from', 'to'],
    describe: (d, w) => {
      const [from, to] = [read.str(d.from), read.str(d.to)].map((v) => (v === undefined ? null : w.url(v)));
      return from && to ? { text: w.say('xapi_iri_base_changed', { from, to }) } : null;
    },
  },
  ...signInFormatters('sso'),
  ...signInFormatters('lti'),
  'sso.unlinked': plain('sso_unlinked'),
  'lti.platform_created': ltiPlatform('lti_platform_created'),
  'lti.platform_updated': ltiPlatform('lti_platform_updated'),
  'lti.platform_removed': ltiPlatform('lti_platform_removed'),
  'lti.scores_resumed': {
    keys: ['links'],
    describe: (d, w) => {
      const links = read.count(d.links);
      return links === undefined ? null : { text: w.say('lti_scores_resumed', { count: links, n: w.num(links) }) };
    },
  },
  'audit.anchor_recipients_changed': {
    keys: ['recipients'],
    describe: (d, w) => {
      const recipients = read.count(d.recipients);
      return recipients === undefined ? null : { text: w.say('audit_anchor_recipients_changed', { count: recipients, n: w.num(recipients) }) };
    },
  },

};
