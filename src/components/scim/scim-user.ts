/**
 * Pure SCIM ↔ person mapping (docs/scim.md "Attribute mapping"), no database: reading a SCIM User resource
 * (POST, PUT) or a PatchOp into a draft of the few attributes we keep, validating that draft into the
 * changes to store, the list filter, and the User resource we answer with. Everything not listed in
 * ATTRIBUTES (phone numbers, addresses, manager, groups …) is ignored, never stored.
 */
import { z } from 'zod';
import { EMPLOYEE_ID_PATTERN, roleKindOf, rosterRoleOf, type ImportRole } from '../roster';
import type { JobTitle, Language, Role } from '../users';
import { invalidSyntax, invalidValue, ScimError } from './scim-errors';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** The attributes we read, by lower-cased SCIM path (core URN prefix stripped). */
const ATTRIBUTES = {
  username: 'userName',
  displayname: 'displayName',
  'name.formatted': 'name.formatted',
  'name.givenname': 'name.givenName',
  'name.familyname': 'name.familyName',
  active: 'active',
  title: 'title',
  externalid: 'externalId',
  preferredlanguage: 'preferredLanguage',
  [`${ENTERPRISE_SCHEMA.toLowerCase()}:employeenumber`]: 'employeeNumber',
  [`${ENTERPRISE_SCHEMA.toLowerCase()}:department`]: 'department',
  roles: 'roles',
} as const;
type Attribute = (typeof ATTRIBUTES)[keyof typeof ATTRIBUTES];
/** Complex attributes whose sub-attributes we read when a value arrives as an object. */
const COMPLEX = new Set(['name', ENTERPRISE_SCHEMA.toLowerCase()]);

/** Per attribute: the value sent, or REMOVED (a PATCH remove, or null). Later operations win. */
export const REMOVED = Symbol('removed');
export type Draft = Map<Attribute, unknown>;

/**
 * Entra's mapping `SingleAppRoleAssignment([appRoleAssignments]) → roles[primary eq "True"].value` patches this
 * path with the role's value as a string (lower-cased here, like every path).
 */
const PRIMARY_ROLE_PATH = /^roles\[\s*primary\s+eq\s+"?true"?\s*\]\.value$/;

const MAX_PATH = 300;
const MAX_OPERATIONS = 100;
const CORE_PREFIX = `${USER_SCHEMA.toLowerCase()}:`;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Puts one attribute (or, for an object value of a complex attribute, each known sub-attribute) in the draft. */
function put(draft: Draft, rawPath: string, value: unknown): void {
  if (rawPath.length > MAX_PATH) throw new ScimError(400, 'The path is too long', 'invalidPath');
  let path = rawPath.trim().toLowerCase();
  if (path.startsWith(CORE_PREFIX)) path = path.slice(CORE_PREFIX.length);
  if (path.startsWith('roles[')) {
    if (!PRIMARY_ROLE_PATH.test(path)) throw new ScimError(400, 'For roles, only the paths roles and roles[primary eq "True"].value are supported', 'invalidPath');
    if (value !== null && typeof value !== 'string') throw invalidValue('roles[primary eq "True"].value must be a string');
    draft.set('roles', value === null ? REMOVED : [{ value, primary: true }]);
    return;
  }
  if (COMPLEX.has(path) && isPlainObject(value)) {
    const separator = path === 'name' ? '.' : ':';
    for (const key of Object.keys(value)) put(draft, `${path}${separator}${key}`, value[key]);
    return;
  }
  const attribute = (ATTRIBUTES as Record<string, Attribute>)[path];
  if (!attribute || !Object.hasOwn(ATTRIBUTES, path)) return;
  draft.set(attribute, value === null ? REMOVED : value);
}

/** A full User resource (POST, PUT): its known attributes, whatever their case. */
export function readResource(body: unknown): Draft {
  if (!isPlainObject(body)) throw invalidSyntax('The request body must be a JSON object');
  const draft: Draft = new Map();
  for (const key of Object.keys(body)) put(draft, key, body[key]);
  return draft;
}

/** A PatchOp: add/replace/remove in any case (Entra sends "Replace"), with a path or with an object value. */
export function readPatch(body: unknown): Draft {
  if (!isPlainObject(body)) throw invalidSyntax('The request body must be a JSON object');
  const opsKey = Object.keys(body).find((k) => k.toLowerCase() === 'operations');
  const operations = opsKey ? body[opsKey] : undefined;
  if (!Array.isArray(operations) || operations.length === 0) throw invalidSyntax('A PatchOp needs a non-empty Operations list');
  if (operations.length > MAX_OPERATIONS) throw new ScimError(400, `At most ${MAX_OPERATIONS} operations per request`, 'tooMany');
  const draft: Draft = new Map();
  for (const operation of operations) {
    if (!isPlainObject(operation)) throw invalidSyntax('Each operation must be an object');
    const field = (name: string) => {
      const key = Object.keys(operation).find((k) => k.toLowerCase() === name);
      return key === undefined ? undefined : operation[key];
    };
    const op = field('op');
    const path = field('path');
    const value = field('value');
    const kind = typeof op === 'string' ? op.toLowerCase() : '';
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove') throw invalidSyntax('op must be add, replace or remove');
    if (path !== undefined && typeof path !== 'string') throw new ScimError(400, 'path must be a string', 'invalidPath');
    if (kind === 'remove') {
      if (!path) throw new ScimError(400, 'remove needs a path', 'noTarget');
      put(draft, path, null);
    } else if (path) {
      put(draft, path, value);
    } else {
      if (!isPlainObject(value)) throw invalidSyntax(`${kind} without a path needs an object value`);
      for (const key of Object.keys(value)) put(draft, key, value[key]);
    }
  }
  return draft;
}

/** The stored fields a draft sets (undefined: keep). */
export type PersonChanges = {
  email?: string;
  name?: string;
  active?: boolean;
  employeeId?: string;
  jobTitle?: JobTitle;
  schoolCodes?: string[];
  preferredLanguage?: Language;
  /** From `roles`: what the identity provider asks for (the service decides whether it is applied). */
  role?: ImportRole | 'region_admin';
};
export type StoredPerson = { name: string };
export type MappingContext = {
  jobTitlesByName: ReadonlyMap<string, JobTitle>;
  /** Lower-cased English and Spanish role labels ("principal", "director(a)") → role. */
  rolesByName?: ReadonlyMap<string, Role>;
};

const emailSchema = z.email();
const MAX_TEXT = 400;

function text(draft: Draft, attribute: Attribute): string | typeof REMOVED | undefined {
  if (!draft.has(attribute)) return undefined;
  const value = draft.get(attribute);
  if (value === REMOVED) return REMOVED;
  if (typeof value === 'number' && Number.isSafeInteger(value) && (attribute === 'employeeNumber' || attribute === 'externalId')) return String(value);
  if (typeof value !== 'string') throw invalidValue(`${attribute} must be a string`);
  if (value.length > MAX_TEXT) throw invalidValue(`${attribute} is too long`);
  const trimmed = value.trim();
  return trimmed === '' ? REMOVED : trimmed;
}

/** Entra sends "active": "False" as a string; booleans and "true"/"false" in any case are accepted. */
export function parseActive(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw invalidValue('active must be true or false');
}

/** "es", "es-MX", "es_US" → Spanish; any other language → English. */
export function languageOf(tag: string): Language {
  return /^es([-_]|$)/i.test(tag) ? 'es' : 'en';
}

/** Job title text → stored job title; a title we do not know is stored as `other` (docs/scim.md). */
export function jobTitleOf(title: string, lookup: ReadonlyMap<string, JobTitle>): JobTitle {
  const lower = title.toLowerCase();
  return lookup.get(lower.replace(/\s+/g, ' ')) ?? lookup.get(lower.replace(/[\s-]+/g, '_')) ?? 'other';
}

/** Entra's default app role ("User", "msiam_access", "Default Access"): assigned without one of ours → staff. */
const DEFAULT_APP_ROLES = new Set(['user', 'msiam_access', 'default access', 'default_access']);
const MAX_ROLES = 20;
const MAX_ROLE_TEXT = 100;

/**
 * One role value → our role, by the roster's rules (its role column, then the OneRoster vocabulary:
 * principal / siteAdministrator), then the English and Spanish labels. "admin" names a district
 * administrator (to be refused). Anything else is refused: a mistyped role must not demote a principal.
 */
export function roleOfValue(text: string, ctx: Pick<MappingContext, 'rolesByName'>): ImportRole | 'district_admin' | 'region_admin' {
  const key = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (key === '' || DEFAULT_APP_ROLES.has(key)) return 'staff';
  const fromRoster = rosterRoleOf(key);
  if (fromRoster) return fromRoster;
  const kind = roleKindOf(key.replace(/[\s_-]+/g, ''))?.kind;
  if (kind === 'principal' || kind === 'staff') return kind;
  if (kind === 'admin' || key === 'admin') return 'district_admin';
  const labelled = ctx.rolesByName?.get(key);
  if (labelled) return labelled;
  throw invalidValue(`Unknown role "${key.slice(0, 40)}": use principal or staff`);
}

function isTrue(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  return parseActive(value);
}

/**
 * The `roles` attribute (RFC 7643 §4.1.2: [{ value, primary }]) → staff or principal. Only the primary
 * entries count when one is marked; a principal value among them makes a principal; none (or []) is staff.
 * A district administrator is never granted by provisioning: refused, whatever else was sent.
 */
function roleOf(draft: Draft, ctx: MappingContext): ImportRole | 'region_admin' | undefined {
  if (!draft.has('roles')) return undefined;
  const value = draft.get('roles');
  if (value === REMOVED) return 'staff';
  if (!Array.isArray(value)) throw invalidValue('roles must be a list of { "value": "…" } objects');
  if (value.length > MAX_ROLES) throw invalidValue(`At most ${MAX_ROLES} roles`);
  const entries = value.map((entry) => {
    if (!isPlainObject(entry)) throw invalidValue('Each role must be an object with a string value');
    const field = (name: string) => entry[Object.keys(entry).find((k) => k.toLowerCase() === name) ?? ''];
    const text = field('value');
    if (typeof text !== 'string' || text.length > MAX_ROLE_TEXT) throw invalidValue('Each role must have a string value');
    let primary: boolean;
    try {
      primary = isTrue(field('primary'));
    } catch {
      throw invalidValue('primary must be true or false');
    }
    return { role: roleOfValue(text, ctx), primary };
  });
  if (entries.some((e) => e.role === 'district_admin')) {
    throw new ScimError(400, 'District administrators are made in the app only: provisioning never grants that role (a leaked token must not be able to take over the district). Nothing was changed', 'mutability');
  }
  const counted = entries.some((e) => e.primary) ? entries.filter((e) => e.primary) : entries;
  // Only accepted for someone who already is one (a client sending back what it read): the service refuses it otherwise.
  if (counted.some((e) => e.role === 'region_admin')) return 'region_admin';
  return counted.some((e) => e.role === 'principal') ? 'principal' : 'staff';
}

function splitName(name: string): [string, string] {
  const at = name.indexOf(' ');
  return at < 0 ? [name, ''] : [name.slice(0, at), name.slice(at + 1)];
}

function nameOf(draft: Draft, stored: StoredPerson | undefined): string | typeof REMOVED | undefined {
  const display = text(draft, 'displayName');
  const formatted = text(draft, 'name.formatted');
  for (const candidate of [display, formatted]) if (typeof candidate === 'string') return candidate;
  const given = text(draft, 'name.givenName');
  const family = text(draft, 'name.familyName');
  if (given === undefined && family === undefined) return display ?? formatted;
  // Only a given or family name changed: the other part is taken from the stored name (split at its first space).
  const [storedGiven, storedFamily] = stored ? splitName(stored.name) : ['', ''];
  const parts = [given === undefined ? storedGiven : given === REMOVED ? '' : given, family === undefined ? storedFamily : family === REMOVED ? '' : family];
  const joined = parts.filter(Boolean).join(' ').trim();
  return joined === '' ? REMOVED : joined;
}

/**
 * Validates a draft into the changes to store. `stored` is undefined for a new person: then userName, a
 * name, an employee id (employeeNumber or externalId) and a school code (department) are required.
 */
export function resolveDraft(draft: Draft, stored: StoredPerson | undefined, ctx: MappingContext): PersonChanges {
  const changes: PersonChanges = {};
  const isNew = stored === undefined;

  const userName = text(draft, 'userName');
  if (userName === REMOVED || (isNew && userName === undefined)) throw invalidValue('userName (the email address) is required');
  if (userName !== undefined) {
    const email = userName.toLowerCase();
    if (email.length > 254 || !emailSchema.safeParse(email).success) throw invalidValue('userName must be an email address');
    changes.email = email;
  }

  const name = nameOf(draft, stored);
  if (name === REMOVED || (isNew && name === undefined)) throw invalidValue('displayName (or name.givenName and name.familyName) is required');
  if (name !== undefined) {
    if (name.length > 200) throw invalidValue('The name is longer than 200 characters');
    changes.name = name;
  }

  if (draft.has('active')) {
    const value = draft.get('active');
    if (value === REMOVED) throw new ScimError(400, 'active cannot be removed', 'mutability');
    changes.active = parseActive(value);
  } else if (isNew) changes.active = true;

  const employeeNumber = text(draft, 'employeeNumber');
  const externalId = text(draft, 'externalId');
  const employeeId = typeof employeeNumber === 'string' ? employeeNumber : externalId;
  if (typeof employeeId === 'string') {
    if (!EMPLOYEE_ID_PATTERN.test(employeeId)) throw invalidValue('The employee id (employeeNumber or externalId) may hold only letters, digits, dot, dash and underscore, at most 40');
    changes.employeeId = employeeId;
  } else if (isNew) {
    throw invalidValue('An employee id is required (externalId or the enterprise employeeNumber)');
  } else if (employeeNumber === REMOVED || externalId === REMOVED) {
    // The employee id is how the roster import finds the person: provisioning may change it, never clear it.
    throw new ScimError(400, 'The employee id cannot be removed', 'mutability');
  }

  const title = text(draft, 'title');
  if (title !== undefined) changes.jobTitle = title === REMOVED ? 'other' : jobTitleOf(title, ctx.jobTitlesByName);
  else if (isNew) changes.jobTitle = 'other';

  const department = text(draft, 'department');
  if (department === REMOVED || (isNew && department === undefined)) throw invalidValue('A school code is required (the enterprise department attribute)');
  if (department !== undefined) {
    const codes = [...new Set(department.split(';').map((c) => c.trim()).filter(Boolean))];
    if (codes.length === 0 || codes.length > 20) throw invalidValue('department must hold one to 20 school codes separated by ;');
    changes.schoolCodes = codes;
  }

  const language = text(draft, 'preferredLanguage');
  if (language !== undefined) changes.preferredLanguage = language === REMOVED ? 'en' : languageOf(language);
  else if (isNew) changes.preferredLanguage = 'en';

  const role = roleOf(draft, ctx);
  if (role !== undefined) changes.role = role;
  return changes;
}

/** The list filters Entra and Okta use to match: `userName eq "x"` and `externalId eq "x"`. Anything else: invalidFilter. */
export type UserFilter = { attribute: 'userName' | 'externalId'; value: string };
const FILTER = /^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\["\\/])*)"\s*$/i;

export function parseFilter(filter: string): UserFilter {
  const match = filter.length <= 600 ? FILTER.exec(filter) : null;
  if (!match) throw new ScimError(400, 'Only the filters userName eq "…" and externalId eq "…" are supported', 'invalidFilter');
  const attribute = match[1].toLowerCase() === 'username' ? 'userName' : 'externalId';
  const value = match[2].replace(/\\(["\\/])/g, '$1');
  return { attribute, value: attribute === 'userName' ? value.toLowerCase() : value };
}

export type PersonForScim = {
  id: string;
  email: string;
  name: string;
  employeeId?: string | null;
  active: boolean;
  jobTitle?: string | null;
  preferredLanguage?: string | null;
  schoolCodes: string[];
  role: Role;
  createdAt?: Date | null;
  updatedAt?: Date | null;
};

/** A person as a SCIM User resource: only what we store. */
export function toScimUser(person: PersonForScim, baseUrl: string) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    id: person.id,
    ...(person.employeeId ? { externalId: person.employeeId } : {}),
    userName: person.email,
    displayName: person.name,
    name: { formatted: person.name },
    emails: [{ value: person.email, type: 'work', primary: true }],
    active: person.active,
    ...(person.jobTitle ? { title: person.jobTitle } : {}),
    preferredLanguage: person.preferredLanguage ?? 'en',
    roles: [{ value: person.role, primary: true }],
    [ENTERPRISE_SCHEMA]: {
      ...(person.employeeId ? { employeeNumber: person.employeeId } : {}),
      ...(person.schoolCodes.length ? { department: person.schoolCodes.join(';') } : {}),
    },
    meta: {
      resourceType: 'User',
      ...(person.createdAt ? { created: person.createdAt.toISOString() } : {}),
      ...(person.updatedAt ? { lastModified: person.updatedAt.toISOString() } : {}),
      location: `${baseUrl}/scim/v2/Users/${person.id}`,
    },
  };
}
