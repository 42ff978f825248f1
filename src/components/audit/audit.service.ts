import type { ClientSession } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { AuditEvent } from './audit.model';

export type AuditInput = {
  action: string;
  target?: { kind: string; id: string };
  details?: Record<string, unknown>;
  requestId?: string;
};

/** Writes one audit record. Pass the transaction's session when the audited change is transactional. */
export async function recordAudit(actor: Actor | null, input: AuditInput, session?: ClientSession): Promise<void> {
  await AuditEvent.create(
    [
      {
        district: actor?.districtId,
        actor: actor?.userId,
        action: input.action,
        target: input.target,
        details: input.details,
        requestId: input.requestId,
      },
    ],
    { session },
  );
}

export async function listAuditEvents(actor: Actor, filter: { action?: string; limit?: number } = {}) {
  const query: Record<string, unknown> = { district: actor.districtId };
  if (filter.action) query.action = filter.action;
  return AuditEvent.find(query)
    .sort({ at: -1 })
    .limit(Math.min(filter.limit ?? 100, 500))
    .populate('actor', 'name email')
    .lean();
}
