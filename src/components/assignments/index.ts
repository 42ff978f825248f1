export { assignmentsRouter } from './assignments.routes';
