export { settingsRouter } from './settings.routes';
