// The model first: loading the routers reaches schools → regions → settings → reminders → assignments, whose
// schemas read JOB_TITLES from here while this file is still loading.
export { User, ROLES, JOB_TITLES, LANGUAGES, type Role, type JobTitle, type Language, type UserRecord } from './user.model';
export { getUser, type UserView } from './users.service';
export type { LeanUser } from './user.model';
export { usersRouter } from './users.routes';
export { accountRouter } from './account.routes';
