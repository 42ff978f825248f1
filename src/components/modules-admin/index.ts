/** Training modules and their versions for district admins (read-only): content, changes, district figures, preview. */
export { modulesAdminRouter } from './modules-admin.routes';
