export { Region, type RegionRecord } from './region.model';
export { listRegionOptions, getRegion, removeRegionRecord, getRegionContacts, forgetRegionContacts, type RegionOption, type RegionEntry } from './regions.service';
export { regionsRouter } from './regions.routes';
