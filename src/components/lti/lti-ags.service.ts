/**
 * Grade passback, the parts outside the runner: what a launch records (one small write when the AGS claim is
 * there), and what the district admin sees and restarts on /admin/lti.
 */
import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { logger } from '../../shared/logger';
import { SCORE_SCOPE } from './lti-ags-client';
import { wakeAgsRunner } from './lti-ags-delivery';
import { LtiAgsLink, LtiAgsScan } from './lti-ags.model';
import { ltiRuntime } from './lti-runtime';

export const AGS_CLAIM = 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint';
const LINEITEM_MAX = 2000;

/** A line item URL we may POST to: https (or, outside production, plain http to this machine), no credentials in it. */
export function isAcceptedLineitem(value: unknown, requireHttps: boolean): value is string {
  if (typeof value !== 'string' || value.length > LINEITEM_MAX) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return !requireHttps && url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export type AgsLaunch = { district: Types.ObjectId; user: string; moduleSlug: string; platform: Types.ObjectId; deploymentId: string; sub: string; claim: unknown; issuer: string };

/**
 * Records where this person's score for this module goes, when the claim has a line item and the score scope.
 * Only the line item URL and `sub` are kept from the token. The first link of a district also starts its
 * collector's cursor (a second small write, once per district).
 */
export async function recordAgsLink(launch: AgsLaunch, ctx: { requestId?: string } = {}): Promise<boolean> {
  const claim = launch.claim as { lineitem?: unknown; scope?: unknown } | undefined;
  if (!claim || typeof claim !== 'object') return false;
  const scopes = Array.isArray(claim.scope) ? claim.scope : [];
  if (!scopes.includes(SCORE_SCOPE) || claim.lineitem === undefined) return false;
  if (!isAcceptedLineitem(claim.lineitem, ltiRuntime().requireHttps) || launch.sub.length > 255) {
    logger.info({ issuer: launch.issuer, requestId: ctx.requestId }, 'LTI launch: AGS line item not accepted (not https, or malformed); no score will be sent');
    return false;
  }
  const now = new Date();
  const filter = { district: launch.district, user: new Types.ObjectId(launch.user), moduleSlug: launch.moduleSlug, platform: launch.platform, deploymentId: launch.deploymentId, lineitem: claim.lineitem };
  const result = await LtiAgsLink.updateOne(
    filter,
    // A new link is due at once: the person may have finished the module before it existed.
    { $set: { sub: launch.sub }, $setOnInsert: { createdAt: now, due: true, state: 'idle', requestedAt: now, attempts: 0, retries: 0, sentCount: 0 } },
    { upsert: true },
  );
  if (result.upsertedCount > 0) {
    await LtiAgsScan.updateOne({ district: launch.district }, { $setOnInsert: { cursor: now } }, { upsert: true });
    wakeAgsRunner();
  }
  return true;
}

export type AgsStatus = { links: number; sent: number; pending: number; stopped: number; lastError?: { at: Date; status: number | null; message: string } };

/** Per registration of the admin's district: scores sent, links waiting to send, links stopped, the newest error. */
export async function agsStatusByPlatform(actor: Actor): Promise<Map<string, AgsStatus>> {
  const district = new Types.ObjectId(actor.districtId);
  const rows = await LtiAgsLink.aggregate<{ _id: Types.ObjectId; links: number; sent: number; pending: number; stopped: number }>([
    { $match: { district } },
    {
      $group: {
        _id: '$platform',
        links: { $sum: 1 },
        sent: { $sum: '$sentCount' },
        pending: { $sum: { $cond: [{ $and: [{ $eq: ['$due', true] }, { $in: ['$state', ['idle', 'running']] }] }, 1, 0] } },
        stopped: { $sum: { $cond: [{ $in: ['$state', ['stopped', 'failed']] }, 1, 0] } },
      },
    },
  ]);
  const errors = await LtiAgsLink.find({ district, 'lastError.at': { $ne: null } }, { platform: 1, lastError: 1 }).sort({ 'lastError.at': -1 }).limit(200).lean();
  const status = new Map<string, AgsStatus>();
  for (const row of rows) status.set(row._id.toString(), { links: row.links, sent: row.sent, pending: row.pending, stopped: row.stopped });
  for (const link of errors) {
    const entry = status.get(link.platform.toString());
    if (entry && !entry.lastError && link.lastError?.at) entry.lastError = { at: link.lastError.at, status: link.lastError.status ?? null, message: link.lastError.message ?? '' };
  }
  return status;
}

/** Stopped (or crash-looped) links of a registration of the admin's district are tried again now. */
export async function resumeAgsLinks(actor: Actor, platformId: string): Promise<number> {
  const now = new Date();
  const result = await LtiAgsLink.updateMany(
    { platform: new Types.ObjectId(platformId), district: new Types.ObjectId(actor.districtId), state: { $in: ['stopped', 'failed'] } },
    { $set: { state: 'idle', due: true, requestedAt: now, retries: 0, error: null, attempts: 0 } },
  );
  if (result.modifiedCount > 0) wakeAgsRunner();
  return result.modifiedCount;
}
