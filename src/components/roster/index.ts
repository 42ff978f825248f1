/** Roster import: district admins keep the staff list current from an HR export (CSV). */
export { rosterRouter } from './roster.routes';
export { rosterUpload, ROSTER_MAX_BYTES } from './roster.upload';
export { RosterPreview, RosterPreviewRow } from './roster.model';
export { createPreview, DEACTIVATION_CONFIRM_SHARE, PREVIEW_TTL_MS } from './roster.service';
export { requestApply, startRosterImportRunner, runQueuedRosterImports, type RosterImportRunner } from './roster-jobs';
export { RosterProblem } from './roster-problem.model';
export { EMPLOYEE_ID_PATTERN, jobTitleLookup, rosterRoleOf, type ImportRole } from './roster-row';
export { roleKindOf } from './oneroster-map';
