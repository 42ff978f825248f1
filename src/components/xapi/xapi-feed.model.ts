import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { leaseFields } from '../../shared/lease-fields';

export const FEED_STATES = ['idle', 'running', 'stopped', 'failed'] as const;
export const ACTOR_IDS = ['internal_id', 'employee_id'] as const;
export type ActorIdChoice = (typeof ACTOR_IDS)[number];

/**
 * A district's learning record store (docs/xapi.md): its settings, and the delivery job that sends the
 * district's decisions and results there. The record is also the job's lease (src/shared/lease-jobs.ts):
 * `idle` with `requestedAt` due is claimable, `running` is held, `stopped` waits for the administrator
 * (the LRS refused the credentials or a statement), `failed` is a process that died on it repeatedly.
 */
const xapiFeedSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, ref: 'District', required: true },
    enabled: { type: Boolean, required: true, default: false },
    endpoint: { type: String, required: true, maxlength: 500 },
    authKey: { type: String, required: true, maxlength: 500 },
    // AES-256-GCM with XAPI_SECRET_KEY (xapi-secret.ts): never shown, logged or audited.
    secret: { type: String, required: true },
    actorId: { type: String, enum: ACTOR_IDS, required: true, default: 'internal_id' },
    // The start of every IRI the feed sends (BASE_URL when the settings were first saved): kept, so the LRS
    // sees the same activities and accounts if the app later moves to another address. Null on feeds saved
    // before the field existed, until their next save (BASE_URL is used meanwhile).
    iriBase: { type: String, default: null, maxlength: 500 },
    // Decisions and results from this moment on are sent (set when sending is turned on).
    sendFrom: { type: Date, default: null },
    // The newest attempt `updatedAt` the collector has read (it re-reads a margin before it: xapi-collect.ts).
    cursor: { type: Date, default: null },
    // The lease (lease-jobs.ts); requestedAt is when the next pass is due.
    state: { type: String, enum: FEED_STATES, required: true, default: 'idle' },
    requestedAt: { type: Date, required: true, default: () => new Date() },
    ...leaseFields,
    error: { type: String, default: null },
    // Consecutive failed sends (network, 5xx, 429): the backoff grows with it; a success resets it.
    retries: { type: Number, default: 0 },
    sentCount: { type: Number, default: 0 },
    // Without transactions only (xapi-delivery.ts markSent): the outbox rows of the last batch counted in sentCount,
    // removed after the count; rows still here were counted by a process that died before removing them.
    countedIds: { type: [Schema.Types.ObjectId], default: undefined },
    // The fencing token (`fence`, lease-fields.ts) of the last holder that adopted the outbox (xapi-fence.ts): the
    // outbox rows it found then were relabelled with its token; a row with a smaller token appeared after that,
    // written by a collector that had lost the feed, and is checked against its attempt's mark before it is sent.
    adoptedFence: { type: Number, default: 0 },
    lastSuccessAt: { type: Date, default: null },
    lastError: { at: Date, status: Number, message: String },
    lastTest: { at: Date, status: Number, message: String, ok: Boolean },
  },
  { timestamps: true, versionKey: false },
);

// Serves: the admin page and "one LRS per district".
xapiFeedSchema.index({ district: 1 }, { unique: true });
// Serves: the runner's claim (idle and due, oldest first; or running with a lapsed heartbeat).
xapiFeedSchema.index({ state: 1, requestedAt: 1 });

export type XapiFeedRecord = InferSchemaType<typeof xapiFeedSchema> & { _id: Types.ObjectId };
export const XapiFeed = model('XapiFeed', xapiFeedSchema);

/**
 * How much of one attempt the collector has dealt with: its first `decisions` decisions, and its result
 * once `finished` (queued, or skipped as older than sendFrom). Written only by the collector, never on the
 * learner's click.
 */
const xapiMarkSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, required: true },
    attempt: { type: Schema.Types.ObjectId, required: true },
    decisions: { type: Number, required: true },
    finished: { type: Boolean, required: true },
    // Left out as older than sendFrom (the first `skipped` decisions; the result): what a backfill still sends.
    skipped: { type: Number, default: 0 },
    resultSkipped: { type: Boolean, default: false },
    // The fencing token of the holder that last wrote it: a write with a smaller token is refused (docs/xapi.md).
    fence: { type: Number, default: 0 },
  },
  { versionKey: false },
);
// Serves: the collector's look-up of the attempts it reads (by attempt id), and one mark per attempt.
xapiMarkSchema.index({ attempt: 1 }, { unique: true });

export const XapiMark = model('XapiMark', xapiMarkSchema);

/**
 * A statement waiting to be sent: removed once the LRS accepted it. `statementId` is deterministic
 * (xapi-statements.ts), so collecting the same decision twice inserts it once.
 */
const xapiOutboxSchema = new Schema(
  {
    district: { type: Schema.Types.ObjectId, required: true },
    statementId: { type: String, required: true },
    // JSON text: extension keys are IRIs, whose dots a stored field name should not carry.
    statement: { type: String, required: true },
    // The fencing token of the holder that queued or adopted it; only rows with the sender's own token are sent.
    fence: { type: Number, default: 0 },
    // The attempt it comes from: a row left by a collector that lost the feed is kept or dropped by that attempt's mark.
    attempt: { type: Schema.Types.ObjectId, default: null },
    // The IRI base it was built with: rebuilt with the feed's base when that changed before it was sent.
    iriBase: { type: String, default: null },
  },
  { versionKey: false },
);
// Serves: the sender's next batch of its own rows ({district, fence}, in the order collected), the adoption of the
// rows of earlier holders and the look-up of rows left with a smaller token (range on fence), the pending count.
// (It replaces { district, _id }, which a database from before may still have; nothing reads by it now.)
xapiOutboxSchema.index({ district: 1, fence: 1, _id: 1 });
// Serves: a statement is queued once however often it is collected.
xapiOutboxSchema.index({ statementId: 1 }, { unique: true });

export const XapiOutbox = model('XapiOutbox', xapiOutboxSchema);
