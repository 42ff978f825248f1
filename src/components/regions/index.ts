export { regionsRouter } from './regions.routes';
export { Region, type RegionRecord } from './region.model';
export { listRegionOptions, isRegionInDistrict, getRegionContacts, forgetRegionContacts, type RegionOption, type RegionEntry } from './regions.service';
