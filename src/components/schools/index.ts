export { schoolsRouter } from './schools.routes';
export { School, type SchoolRecord } from './school.model';
export { listSchoolOptions, countSchoolsInDistrict, ownSchoolNames, ownWorkplaces, getSchool, type SchoolView, type Workplace } from './schools.service';
export { getPersonContactContext, getPersonWorkplace, getSchoolContactContext, forgetSchoolContacts } from './contact-tree';
