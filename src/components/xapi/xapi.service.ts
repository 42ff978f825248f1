import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AppError } from '../../shared/errors';
import { resolvesToPublicAddress } from '../../shared/outbound-http';
import { recordAudit } from '../audit';
import { District } from '../districts';
import { postStatements } from './xapi-client';
import { wakeXapiRunner } from './xapi-delivery';
import { XapiFeed, XapiOutbox, type ActorIdChoice } from './xapi-feed.model';
import { feedStatementContext, xapiRuntime } from './xapi-runtime';
import { encryptSecret, openSecret, rewrapSecrets, type RewrapCount } from './xapi-secret';
import type { XapiIriBaseInput, XapiSettingsInput } from './xapi.schemas';
import { districtHome, moduleIri, testStatement } from './xapi-statements';

/** The admin page's view of the district's LRS: settings (never the secret) and delivery counts. */
export type XapiView = Readonly<{
  isAvailable: boolean;
  settings: { endpoint: string; authKey: string; actorId: ActorIdChoice; enabled: boolean; hasSecret: boolean } | null;
  state: string | null;
  error: string | null;
  sentCount: number;
  pending: number;
  sendFrom: Date | null;
  /** Everything is sent, also what happened before sending was turned on. */
  isBackfilled: boolean;
  lastSuccessAt: Date | null;
  nextAttemptAt: Date | null;
  lastError: { at: Date; status: number | null; message: string } | null;
  lastTest: { at: Date; status: number | null; message: string; ok: boolean } | null;
  homePage: string;
  exampleModuleIri: string;
  /** The IRIs' base is kept with the settings (not BASE_URL's current value). */
  iriBaseFixed: boolean;
  /** The base the feed's IRIs start from now (kept, or BASE_URL for a feed saved before it was kept). */
  iriBase: string;
}>;

const districtFilter = (actor: Actor) => ({ district: new Types.ObjectId(actor.districtId) });

/** Available only with XAPI_SECRET_KEY: without it a secret could be neither stored nor read. */
export function isXapiAvailable(): boolean {
  return xapiRuntime().key !== undefined;
}

export async function getXapiView(actor: Actor): Promise<XapiView> {
  const [feed, pending, district] = await Promise.all([
    XapiFeed.findOne(districtFilter(actor)).lean(),
    XapiOutbox.countDocuments(districtFilter(actor)),
    District.findById(actor.districtId, { slug: 1 }).lean(),
  ]);
  if (!district) throw new AppError(404, 'not_found', 'Not found');
  const ctx = feedStatementContext(feed, district.slug);
  const lastError = feed?.lastError?.at ? { at: feed.lastError.at, status: feed.lastError.status ?? null, message: feed.lastError.message ?? '' } : null;
  const lastTest = feed?.lastTest?.at ? { at: feed.lastTest.at, status: feed.lastTest.status ?? null, message: feed.lastTest.message ?? '', ok: Boolean(feed.lastTest.ok) } : null;
  return {
    isAvailable: isXapiAvailable(),
    settings: feed ? { endpoint: feed.endpoint, authKey: feed.authKey, actorId: feed.actorId, enabled: feed.enabled, hasSecret: Boolean(feed.secret) } : null,
    state: feed?.state ?? null,
    error: feed?.error ?? null,
    sentCount: feed?.sentCount ?? 0,
    pending,
    sendFrom: feed?.sendFrom ?? null,
    isBackfilled: feed?.sendFrom?.getTime() === 0,
    lastSuccessAt: feed?.lastSuccessAt ?? null,
    nextAttemptAt: feed && feed.enabled && feed.state === 'idle' && (feed.retries ?? 0) > 0 ? feed.requestedAt : null,
    lastError,
    lastTest,
    homePage: districtHome(ctx),
    exampleModuleIri: moduleIri(ctx, 'foundations', 1),
    iriBaseFixed: Boolean(feed?.iriBase),
    iriBase: ctx.baseUrl,
  };
}

export type SaveOutcome = { ok: true } | { ok: false; errors: Record<string, string> };

/**
 * Saves the district's LRS settings. The secret is kept when left blank; a new one is encrypted before it
 * is stored. Turning sending on starts from now (earlier decisions are not sent). A feed stopped by a
 * refusal is made due again: new settings are what fixes it. Audited without the secret.
 */
export async function saveXapiSettings(actor: Actor, input: XapiSettingsInput, requestId?: string, now = new Date()): Promise<SaveOutcome> {
  const key = xapiRuntime().key;
  if (!key) throw new AppError(409, 'xapi_unavailable', 'xAPI is unavailable: XAPI_SECRET_KEY is not set');
  const filter = districtFilter(actor);
  const current = await XapiFeed.findOne(filter, { enabled: 1, secret: 1, endpoint: 1, authKey: 1, actorId: 1, state: 1 }).lean();
  if (!current?.secret && !input.secret) return { ok: false, errors: { secret: 'xapi.errors.secretRequired' } };
  // Not an address on the hosting network (server-side request forgery): checked now for a clear answer, and
  // again at every connection (shared/outbound-http.ts).
  if (!xapiRuntime().allowPrivateNetwork && !(await resolvesToPublicAddress(new URL(input.endpoint)))) return { ok: false, errors: { endpoint: 'xapi.errors.endpointPrivate' } };
  const turnedOn = input.enabled && !current?.enabled;
  const set: Record<string, unknown> = {
    endpoint: input.endpoint,
    authKey: input.authKey,
    actorId: input.actorId,
    enabled: input.enabled,
    ...(input.secret ? { secret: encryptSecret(key, actor.districtId, input.secret) } : {}),
    ...(turnedOn ? { sendFrom: now, cursor: now } : {}),
  };
  await XapiFeed.updateOne(filter, { $set: set, $setOnInsert: { state: 'idle', requestedAt: now } }, { upsert: true });
  // The IRIs' base is fixed at the first save (and at the next save of a feed from before it was kept).
  await XapiFeed.updateOne({ ...filter, iriBase: null }, { $set: { iriBase: xapiRuntime().baseUrl } });
  // Stopped or failed: the new settings get a fresh pass at once (a running pass is left to finish).
  await XapiFeed.updateOne({ ...filter, state: { $in: ['stopped', 'failed'] } }, { $set: { state: 'idle', requestedAt: now, retries: 0, error: null, attempts: 0 } });
  if (input.enabled) await XapiFeed.updateOne({ ...filter, state: 'idle' }, { $set: { requestedAt: now } });
  await recordAudit(actor, {
    action: 'xapi.settings_updated',
    target: { kind: 'district', id: actor.districtId },
    details: {
      endpoint: input.endpoint,
      authKey: input.authKey,
      actorId: input.actorId,
      enabled: input.enabled,
      secretChanged: Boolean(input.secret),
      ...(current ? { previous: { endpoint: current.endpoint, authKey: current.authKey, actorId: current.actorId, enabled: current.enabled } } : {}),
    },
    requestId,
  });
  if (input.enabled) wakeXapiRunner();
  return { ok: true };
}

/** "Send a test statement": posts one statement with the stored settings and keeps the LRS's answer for the page. */
export async function sendTestStatement(actor: Actor, requestId?: string, now = new Date()): Promise<'sent' | 'failed' | 'no_settings'> {
  const { key, keys } = xapiRuntime();
  const [feed, district] = await Promise.all([XapiFeed.findOne(districtFilter(actor), { endpoint: 1, authKey: 1, secret: 1, iriBase: 1 }).lean(), District.findById(actor.districtId, { slug: 1 }).lean()]);
  if (!key || !feed || !district) return 'no_settings';
  const secret = openSecret(keys, actor.districtId, feed.secret)?.secret;
  let lastTest: { at: Date; status: number | null; message: string; ok: boolean };
  if (!secret) {
    lastTest = { at: now, status: null, message: 'The stored secret cannot be read with this server’s XAPI_SECRET_KEY: enter it again.', ok: false };
  } else {
    const statement = testStatement(feedStatementContext(feed, district.slug), now);
    const answer = await postStatements({ endpoint: feed.endpoint, key: feed.authKey, secret }, [statement], 10_000);
    lastTest = { at: now, status: answer.status, message: answer.message, ok: answer.kind === 'ok' };
  }
  await XapiFeed.updateOne(districtFilter(actor), { $set: { lastTest } });
  await recordAudit(actor, { action: 'xapi.test_sent', target: { kind: 'district', id: actor.districtId }, details: { endpoint: feed.endpoint, status: lastTest.status, ok: lastTest.ok }, requestId });
  return lastTest.ok ? 'sent' : 'failed';
}

/** After a refusal the administrator fixed at the LRS: try again now (the outbox is kept). */
export async function resumeXapi(actor: Actor, requestId?: string, now = new Date()): Promise<boolean> {
  const resumed = await XapiFeed.updateOne({ ...districtFilter(actor), state: { $in: ['stopped', 'failed'] } }, { $set: { state: 'idle', requestedAt: now, retries: 0, error: null, attempts: 0 } });
  if (resumed.modifiedCount === 0) return false;
  await recordAudit(actor, { action: 'xapi.resumed', target: { kind: 'district', id: actor.districtId }, requestId });
  wakeXapiRunner();
  return true;
}

/**
 * Backfill: also send the decisions and results from before sending was turned on — every attempt of the
 * district. The marks keep anything already queued from being queued again. Only while sending is on.
 */
export async function requestBackfill(actor: Actor, requestId?: string): Promise<boolean> {
  const updated = await XapiFeed.updateOne({ ...districtFilter(actor), enabled: true, sendFrom: { $gt: new Date(0) } }, { $set: { sendFrom: new Date(0), cursor: null } });
  if (updated.modifiedCount === 0) return false;
  await XapiFeed.updateOne({ ...districtFilter(actor), state: 'idle' }, { $set: { requestedAt: new Date() } });
  await recordAudit(actor, { action: 'xapi.backfill_requested', target: { kind: 'district', id: actor.districtId }, requestId });
  wakeXapiRunner();
  return true;
}

export type IriBaseOutcome = { ok: true; isChanged: boolean } | { ok: false; errors: Record<string, string> };

/**
 * Changes the start of the feed's IRIs (docs/xapi.md, "IRIs"). Every statement built from now on names its
 * activities and learners under the new base, so the LRS sees them apart from everything sent before: the
 * administrator must confirm that. Statements already waiting in the outbox were built with the old base and
 * are sent as they are. Audited with the old and the new base.
 */
export async function changeIriBase(actor: Actor, input: XapiIriBaseInput, requestId?: string): Promise<IriBaseOutcome> {
  if (!isXapiAvailable()) throw new AppError(409, 'xapi_unavailable', 'xAPI is unavailable: XAPI_SECRET_KEY is not set');
  const filter = districtFilter(actor);
  const feed = await XapiFeed.findOne(filter, { iriBase: 1 }).lean();
  if (!feed) return { ok: false, errors: { _form: 'xapi.errors.saveFirst' } };
  const from = feed.iriBase || xapiRuntime().baseUrl;
  if (from === input.iriBase) return { ok: true, isChanged: false };
  if (!input.confirmIriBase) return { ok: false, errors: { confirmIriBase: 'xapi.errors.iriBaseConfirm' } };
  // Conditional on the base read above: of two administrators changing it at once, the second is told to look again.
  const changed = await XapiFeed.updateOne({ ...filter, iriBase: feed.iriBase ?? null }, { $set: { iriBase: input.iriBase } });
  if (changed.modifiedCount === 0) return { ok: false, errors: { _form: 'xapi.errors.iriBaseMoved' } };
  await recordAudit(actor, { action: 'xapi.iri_base_changed', target: { kind: 'district', id: actor.districtId }, details: { from, to: input.iriBase }, requestId });
  return { ok: true, isChanged: true };
}

/**
 * At start (server.ts): every district's LRS secret that only an earlier XAPI_SECRET_KEY opens is encrypted
 * again with the current key, so the earlier key can be dropped from XAPI_SECRET_KEY_PREVIOUS (docs/rotation.md).
 */
export function rewrapFeedSecrets(): Promise<RewrapCount> {
  return rewrapSecrets(xapiRuntime().keys, feedSecrets(), async (id, from, to) => {
    await XapiFeed.updateOne({ _id: id, secret: from }, { $set: { secret: to } });
  });
}

async function* feedSecrets() {
  for await (const feed of XapiFeed.find({}, { district: 1, secret: 1 }).lean().cursor()) yield { id: feed._id, aad: feed.district.toString(), stored: feed.secret };
}
