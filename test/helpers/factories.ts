import type { Types } from 'mongoose';
import { District } from '../../src/components/districts';
import { School } from '../../src/components/schools';
import { Region } from '../../src/components/regions';
import { User, type JobTitle, type Role } from '../../src/components/users';
import { hashPassword } from '../../src/components/auth';

export const TEST_PASSWORD = 'Correct-Horse-Battery-9';
let passwordHash: Promise<string> | undefined;
let seq = 0;
const next = () => ++seq;

export async function createDistrict(overrides: Record<string, unknown> = {}) {
  const n = next();
  return District.create({ name: `Test District ${n}`, slug: `test-district-${n}`, timeZone: 'America/Los_Angeles', ...overrides });
}

export async function createSchool(district: { _id: unknown }, overrides: Record<string, unknown> = {}) {
  const n = next();
  return School.create({ district: district._id as Types.ObjectId, code: `S${n}`, name: `School ${n}`, ...overrides });
}

export async function createRegion(district: { _id: unknown }, overrides: Record<string, unknown> = {}) {
  const n = next();
  return Region.create({ district: district._id as Types.ObjectId, code: `R${n}`, name: `Region ${n}`, ...overrides });
}

export type UserOverrides = {
  role?: Role;
  jobTitle?: JobTitle;
  schools?: { _id: unknown }[];
  /** Region administrators: the regions they oversee. */
  regions?: { _id: unknown }[];
  name?: string;
  email?: string;
  active?: boolean;
  preferredLanguage?: 'en' | 'es';
  employeeId?: string;
  startDate?: Date;
};

/** A user with the shared test password (hashed once per worker: argon2 is deliberately slow). */
export async function createUser(district: { _id: unknown }, overrides: UserOverrides = {}) {
  const n = next();
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const role = overrides.role ?? 'staff';
  return User.create({
    district: district._id as Types.ObjectId,
    email: overrides.email ?? `user${n}@test.example`,
    name: overrides.name ?? `Test User ${n}`,
    employeeId: overrides.employeeId ?? `E${String(n).padStart(6, '0')}`,
    role,
    jobTitle: overrides.jobTitle ?? (role === 'staff' ? 'teacher' : undefined),
    schools: (overrides.schools ?? []).map((s) => s._id as Types.ObjectId),
    ...(overrides.regions ? { regions: overrides.regions.map((r) => r._id as Types.ObjectId) } : {}),
    active: overrides.active ?? true,
    preferredLanguage: overrides.preferredLanguage ?? 'en',
    startDate: overrides.startDate,
    passwordHash: await passwordHash,
  });
}
