export { settingsRouter } from './settings.routes';
export { getDistrictContext, forgetDistrictContext, type DistrictContext } from './settings.service';
export { isTimeZone } from './settings.schemas';
