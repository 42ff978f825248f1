export { recordAudit, listAuditEvents, pageAuditEvents, type AuditInput } from './audit.service';
export { AuditEvent } from './audit.model';
export { startAuditSealer, sealAllAuditEvents, sealPendingAuditEvents, verifyAuditChain, type AuditSealer } from './audit-chain';
export { startAuditAnchorRunner, runAuditAnchors, checkFingerprint, type AuditAnchorRunner } from './audit-anchor';
export { AuditAnchor } from './audit-anchor.model';
