/** Assignments and compliance: who must complete what by when, and where everyone stands. */
import { onRosterChanged } from '../../shared/domain-events';
import { refreshComplianceQuietly } from './compliance.sync';

// Roster changes (people created, edited, moved, deactivated) refresh their compliance rows at once.
onRosterChanged((userIds) => refreshComplianceQuietly(userIds));

export { assignmentsRouter } from './assignments.routes';
export { Assignment, type AssignmentRecord } from './assignment.model';
export {
  COMPLIANCE_STATUSES,
  complianceStatus,
  compliancePercent,
  statusAt,
  validUntilFor,
  recertifiedAtOf,
  addCounts,
  emptyCounts,
  type ComplianceStatus,
  type StatusCounts,
} from './compliance-status';
export { syncComplianceForUsers, refreshComplianceQuietly, syncAssignment, rebuildDistrictCompliance } from './compliance.sync';
export {
  findSchoolRows,
  findPersonRows,
  streamRows,
  streamRowBatches,
  exportRowQuery,
  EXPORT_BATCH_SIZE,
  countsBySchool,
  countsByModule,
  listMyAssignments,
  type ComplianceRowDoc,
  type RowFilter,
  type ExportRowQuery,
  type SchoolCounts,
  type MyAssignment,
} from './compliance.queries';
export { listModuleOptions, type ModuleOption } from './assignments.service';
export { assignmentCreatedDetails } from './assignments.service';
export type { AssignmentCreateInput } from './assignments.schemas';
export { startComplianceJobRunner, runQueuedComplianceJobs, type ComplianceJobRunner } from './compliance-jobs';
export { enqueueComplianceJob } from './compliance-jobs';
export { complianceUpdatesUnderway, formatLocalDateTime, formatCount, type ComplianceUpdatesUnderway } from './compliance-job.status';
export { localDateOf, localDateFormatter, formatLocalDate, addDays } from './zoned-date';
export { localHourOf } from './zoned-date';
