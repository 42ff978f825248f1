export { recordAudit, listAuditEvents, pageAuditEvents, type AuditInput } from './audit.service';
export { AuditEvent } from './audit.model';
export { startAuditSealer, sealAllAuditEvents, sealPendingAuditEvents, verifyAuditChain, type AuditSealer } from './audit-chain';
