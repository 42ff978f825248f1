export { Region, type RegionRecord } from './region.model';
export { listRegionOptions, getRegionContacts, forgetRegionContacts, type RegionOption, type RegionEntry } from './regions.service';
export { regionsRouter } from './regions.routes';
