export { settingsRouter } from './settings.routes';
export { getDistrictContext, forgetDistrictContext, contactsWithoutSpanish, type DistrictContext } from './settings.service';
export { isTimeZone } from './settings.schemas';
