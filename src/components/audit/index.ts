export { recordAudit, listAuditEvents, type AuditInput } from './audit.service';
export { AuditEvent } from './audit.model';
