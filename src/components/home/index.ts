export { homeRouter } from './home.routes';
export { ADMIN_SECTIONS } from './admin-sections';
