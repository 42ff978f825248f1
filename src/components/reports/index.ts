/** Compliance reports: the school and district pages, a person's record, reminders and exports. */
export { reportsRouter } from './reports.routes';
export { startExportJobRunner, runQueuedExportJobs, removeExpiredExports, type ExportJobRunner } from './export-jobs';
export { writeCsv } from './export-writers';
export { catchUpDecisionTallies, rebuildDistrictDecisionTallies, startDecisionTallyCatchUp, type CatchUpResult } from './decision-tallies.catch-up';
