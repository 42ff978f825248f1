import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { LtiAgsLink } from './lti-ags.model';
import { resumeAgsLinks } from './lti-ags.service';
import { LtiPlatform } from './lti-platform.model';
import type { PlatformInput } from './lti.schemas';

export type PlatformView = {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  authLoginUrl: string;
  jwksUrl: string;
  tokenUrl?: string;
  deploymentIds: string[];
  linkByEmail: boolean;
  requireBrowserBinding: boolean;
};
export type Outcome = { ok: true; id: string } | { ok: false; errors: FieldErrors };
export type Context = { requestId?: string };

type PlatformDoc = Omit<PlatformView, 'id' | 'tokenUrl'> & { tokenUrl?: string | null; _id: { toString(): string } };

function toView(p: PlatformDoc): PlatformView {
  return { id: p._id.toString(), name: p.name, issuer: p.issuer, clientId: p.clientId, authLoginUrl: p.authLoginUrl, jwksUrl: p.jwksUrl, tokenUrl: p.tokenUrl ?? undefined, deploymentIds: [...p.deploymentIds], linkByEmail: p.linkByEmail !== false, requireBrowserBinding: p.requireBrowserBinding !== false };
}

const FIELDS = 'name issuer clientId authLoginUrl jwksUrl tokenUrl deploymentIds linkByEmail requireBrowserBinding';

export async function listPlatforms(actor: Actor): Promise<PlatformView[]> {
  const docs = await LtiPlatform.find({ district: actor.districtId }).select(FIELDS).sort({ name: 1, _id: 1 }).lean<PlatformDoc[]>();
  return docs.map(toView);
}

export async function getPlatform(actor: Actor, id: string): Promise<PlatformView> {
  const doc = await LtiPlatform.findOne({ _id: id, district: actor.districtId }).select(FIELDS).lean<PlatformDoc>();
  if (!doc) throw notFound();
  return toView(doc);
}

/** An issuer + client id is registered once in the whole app (a launch must name one district). */
function duplicate(err: unknown): Outcome | undefined {
  if ((err as { code?: number }).code === 11000) return { ok: false, errors: { clientId: 'lti.errors.clientIdTaken' } };
  return undefined;
}

/** The audit keeps which registration changed, its issuer and whether the browser check is required; not the client id or deployment ids. */
export async function createPlatform(actor: Actor, input: PlatformInput, ctx: Context = {}): Promise<Outcome> {
  let id: string;
  try {
    const doc = await LtiPlatform.create({ ...input, district: actor.districtId });
    id = doc._id.toString();
  } catch (err) {
    const outcome = duplicate(err);
    if (outcome) return outcome;
    throw err;
  }
  await recordAudit(actor, { action: 'lti.platform_created', target: { kind: 'lti_platform', id }, details: { name: input.name, issuer: input.issuer, requireBrowserBinding: input.requireBrowserBinding, gradePassback: Boolean(input.tokenUrl) }, requestId: ctx.requestId });
  return { ok: true, id };
}

export async function updatePlatform(actor: Actor, id: string, input: PlatformInput, ctx: Context = {}): Promise<Outcome> {
  let matched: number;
  try {
    const { tokenUrl, ...rest } = input;
    ({ matchedCount: matched } = await LtiPlatform.updateOne({ _id: id, district: actor.districtId }, tokenUrl ? { $set: input } : { $set: rest, $unset: { tokenUrl: 1 } }));
  } catch (err) {
    const outcome = duplicate(err);
    if (outcome) return outcome;
    throw err;
  }
  if (!matched) throw notFound();
  // Saving the registration (a corrected token endpoint, client ID…) tries its stopped scores again.
  await resumeAgsLinks(actor, id);
  await recordAudit(actor, { action: 'lti.platform_updated', target: { kind: 'lti_platform', id }, details: { name: input.name, issuer: input.issuer, requireBrowserBinding: input.requireBrowserBinding, gradePassback: Boolean(input.tokenUrl) }, requestId: ctx.requestId });
  return { ok: true, id };
}

/** Launches from it stop at once; people's LTI links stay (a registration added again matches them). */
export async function removePlatform(actor: Actor, id: string, ctx: Context = {}): Promise<void> {
  const doc = await LtiPlatform.findOneAndDelete({ _id: id, district: actor.districtId }).select('name issuer').lean();
  if (!doc) throw notFound();
  // Its gradebook links go with it (they name this registration; a new one gets new links at the next launch).
  await LtiAgsLink.deleteMany({ platform: doc._id, district: actor.districtId });
  await recordAudit(actor, { action: 'lti.platform_removed', target: { kind: 'lti_platform', id }, details: { name: doc.name, issuer: doc.issuer }, requestId: ctx.requestId });
}

/** "Try again" on /admin/lti: the registration's stopped scores are sent again now; audited with how many. */
export async function resumeScores(actor: Actor, id: string, ctx: Context = {}): Promise<number> {
  if (!(await LtiPlatform.exists({ _id: id, district: actor.districtId }))) throw notFound();
  const links = await resumeAgsLinks(actor, id);
  await recordAudit(actor, { action: 'lti.scores_resumed', target: { kind: 'lti_platform', id }, details: { links }, requestId: ctx.requestId });
  return links;
}
