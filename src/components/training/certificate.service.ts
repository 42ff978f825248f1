import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import type { BilingualText, Lang } from '../content';
import { Completion } from '../completions';
import { User } from '../users';
import { getDistrictContext } from '../settings';
import { getCatalog } from './training.content';
import { TrainingModule } from './training-module.model';

/** Certificate codes are 26 base32 characters (see newCertificateCode); anything else is not one. */
const CODE = /^[A-Z2-7]{26}$/;

export function normalizeCertificateCode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const code = value.trim().toUpperCase();
  return CODE.test(code) ? code : undefined;
}

export type CertificateData = Readonly<{
  code: string;
  ownerId: string;
  name: string;
  ownerLanguage: Lang;
  title: BilingualText;
  moduleVersion: number;
  completedAt: Date;
  /** None when the training was completed in a facilitated group session (then `facilitatedBy` is set). */
  score?: number;
  /** The facilitator's name, for a completion recorded at a facilitated group session (held on completedAt's day). */
  facilitatedBy?: string;
  /** For an update completion (only the changed scenarios played): the version it updated from. */
  updatedFrom?: number;
  timeZone: string;
  districtName: string;
  isRevoked: boolean;
  districtId: string;
  moduleSlug: string;
}>;

async function moduleTitle(slug: string, version: number): Promise<BilingualText> {
  const loaded = getCatalog().get(slug, version);
  if (loaded) return loaded.content.title;
  const record = await TrainingModule.findOne({ slug, version }, { title: 1 }).lean();
  return record?.title ?? { en: slug, es: slug };
}

async function loadCertificate(code: string) {
  return Completion.findOne({ certificateCode: code }, { user: 1, school: 1, district: 1, moduleSlug: 1, moduleVersion: 1, score: 1, method: 1, updatedFrom: 1, facilitator: 1, completedAt: 1, revokedAt: 1 }).lean();
}

async function toData(completion: NonNullable<Awaited<ReturnType<typeof loadCertificate>>>, code: string): Promise<CertificateData> {
  const isFacilitated = completion.method === 'facilitated';
  const [user, title, district, facilitator] = await Promise.all([
    User.findById(completion.user, { name: 1, preferredLanguage: 1 }).lean(),
    moduleTitle(completion.moduleSlug, completion.moduleVersion),
    getDistrictContext(completion.district.toString()),
    isFacilitated && completion.facilitator ? User.findById(completion.facilitator, { name: 1 }).lean() : Promise.resolve(null),
  ]);
  if (!user) throw notFound();
  return {
    code,
    ownerId: completion.user.toString(),
    name: user.name,
    ownerLanguage: user.preferredLanguage ?? 'en',
    title,
    moduleVersion: completion.moduleVersion,
    completedAt: completion.completedAt,
    score: completion.score ?? undefined,
    facilitatedBy: isFacilitated ? (facilitator?.name ?? '') : undefined,
    updatedFrom: completion.method === 'update' ? (completion.updatedFrom ?? undefined) : undefined,
    timeZone: district.timeZone,
    districtName: district.districtName,
    isRevoked: Boolean(completion.revokedAt),
    districtId: completion.district.toString(),
    moduleSlug: completion.moduleSlug,
  };
}

/**
 * A certificate for download: its owner, principals of the owner's school and district admins of its
 * district may have it; to anyone else it does not exist (404). A revoked certificate is not issued.
 */
export async function getCertificateForDownload(actor: Actor, rawCode: unknown): Promise<CertificateData> {
  const code = normalizeCertificateCode(rawCode);
  if (!code) throw notFound();
  const completion = await loadCertificate(code);
  if (!completion || completion.revokedAt) throw notFound();
  const isOwner = completion.user.toString() === actor.userId;
  const inDistrict = completion.district.toString() === actor.districtId;
  const school = completion.school?.toString();
  let mayView =
    isOwner ||
    (inDistrict && actor.role === 'district_admin') ||
    (inDistrict && actor.role === 'principal' && school !== undefined && actor.schoolIds.includes(school));
  // A principal also sees the certificates of the people at their school now (someone who moved there, or
  // who works at two schools and completed it while listed under the other): the school page shows them.
  if (!mayView && inDistrict && actor.role === 'principal' && actor.schoolIds.length > 0) {
    mayView = (await User.exists({ _id: completion.user, district: completion.district, schools: { $in: actor.schoolIds } })) !== null;
  }
  if (!mayView) throw notFound();
  return toData(completion, code);
}

/** Public verification: only what the certificate itself states (name, module, version, date, validity). */
export async function verifyCertificate(rawCode: unknown): Promise<CertificateData | undefined> {
  const code = normalizeCertificateCode(rawCode);
  if (!code) return undefined;
  const completion = await loadCertificate(code);
  return completion ? toData(completion, code) : undefined;
}

/** The learner's own certificate code for a module version, if they passed it. */
export async function findOwnCertificateCode(actor: Actor, slug: string, version: number): Promise<string | undefined> {
  const completion = await Completion.findOne({ user: actor.userId, moduleSlug: slug, moduleVersion: version, revokedAt: null }, { certificateCode: 1 }).lean();
  return completion?.certificateCode;
}
