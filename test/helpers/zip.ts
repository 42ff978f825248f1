/**
 * A small zip writer for tests (no zip library is a dependency of the project): real archives, deflated
 * with node:zlib, and the bad ones an importer must refuse — sizes that lie, encrypted flags, names with
 * `..`, absolute names, truncated files.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export type ZipEntry = {
  name: string;
  data: string | Buffer;
  /** 'deflate' (default) or 'store'. */
  method?: 'deflate' | 'store';
  /** Written instead of the real uncompressed size (a zip bomb that lies about its size). */
  declaredSize?: number;
  /** Sets the "encrypted" flag (bit 0); the data is left as it is. */
  encrypted?: boolean;
  /** Written as the entry's stored bytes instead of the deflated data (a damaged entry). */
  body?: Buffer;
};

export function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data, 'utf8');
    const method = entry.method === 'store' ? 0 : 8;
    const body = entry.body ?? (method === 8 ? deflateRawSync(raw) : raw);
    const name = Buffer.from(entry.name, 'utf8');
    const size = entry.declaredSize ?? raw.length;
    // Bit 11: the name is UTF-8.
    const flags = 0x0800 | (entry.encrypted ? 1 : 0);
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export type OneRosterFiles = {
  manifest?: Record<string, string>;
  orgs?: string[][];
  users?: string[][];
  roles?: string[][];
  /** Extra or replacement entries (same name: replaces). */
  extra?: ZipEntry[];
};

export const USERS_HEADER = ['sourcedId', 'status', 'dateLastModified', 'enabledUser', 'username', 'userIds', 'givenName', 'familyName', 'middleName', 'identifier', 'email', 'sms', 'phone', 'agentSourcedIds', 'grades', 'password', 'userMasterIdentifier', 'resourceSourcedIds', 'preferredGivenName', 'preferredMiddleName', 'preferredFamilyName', 'primaryOrgSourcedId', 'pronouns'];
export const ROLES_HEADER = ['sourcedId', 'status', 'dateLastModified', 'userSourcedId', 'roleType', 'role', 'beginDate', 'endDate', 'orgSourcedId', 'userProfileSourcedId'];
export const ORGS_HEADER = ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'];

export function bulkManifest(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'manifest.version': '1.0',
    'oneroster.version': '1.2',
    'file.academicSessions': 'absent',
    'file.classes': 'absent',
    'file.courses': 'absent',
    'file.demographics': 'absent',
    'file.enrollments': 'absent',
    'file.orgs': 'bulk',
    'file.roles': 'bulk',
    'file.users': 'bulk',
    'source.systemName': 'Test SIS',
    ...overrides,
  };
}

function csvText(rows: string[][]): string {
  return rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n') + '\r\n';
}

/** A users.csv row from the fields that matter (others blank). */
export function userRow(fields: Partial<Record<(typeof USERS_HEADER)[number], string>>): string[] {
  return USERS_HEADER.map((h) => fields[h] ?? (h === 'enabledUser' ? 'true' : ''));
}

export function roleRow(userSourcedId: string, role: string, orgSourcedId: string, roleType = 'primary'): string[] {
  return [`${userSourcedId}-${role}-${orgSourcedId}`, '', '', userSourcedId, roleType, role, '', '', orgSourcedId, ''];
}

export function orgRow(sourcedId: string, type: string, identifier: string, name = sourcedId): string[] {
  return [sourcedId, '', '', name, type, identifier, ''];
}

/** A OneRoster 1.2 bulk zip from its files' rows (headers added). */
export function oneRosterZip(files: OneRosterFiles): Buffer {
  const entries: ZipEntry[] = [
    { name: 'manifest.csv', data: csvText([['propertyName', 'value'], ...Object.entries(files.manifest ?? bulkManifest())]) },
    { name: 'orgs.csv', data: csvText([ORGS_HEADER, ...(files.orgs ?? [])]) },
    { name: 'users.csv', data: csvText([USERS_HEADER, ...(files.users ?? [])]) },
    { name: 'roles.csv', data: csvText([ROLES_HEADER, ...(files.roles ?? [])]) },
  ];
  for (const extra of files.extra ?? []) {
    const at = entries.findIndex((e) => e.name === extra.name);
    if (at >= 0) entries[at] = extra;
    else entries.push(extra);
  }
  return buildZip(entries);
}
