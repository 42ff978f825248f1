/** Compliance reports: the school and district pages, a person's record, reminders and exports. */
export { reportsRouter } from './reports.routes';
