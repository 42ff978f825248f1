export { usersRouter } from './users.routes';
export { accountRouter } from './account.routes';
export { User, ROLES, JOB_TITLES, LANGUAGES, type Role, type JobTitle, type Language, type UserRecord } from './user.model';
export { getUser, type UserView } from './users.service';
export type { LeanUser } from './user.model';
