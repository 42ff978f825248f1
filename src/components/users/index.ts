export { usersRouter } from './users.routes';
export { User, ROLES, JOB_TITLES, LANGUAGES, type Role, type JobTitle, type Language, type UserRecord } from './user.model';
