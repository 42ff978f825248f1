export { schoolsRouter } from './schools.routes';
export { School, type SchoolRecord } from './school.model';
