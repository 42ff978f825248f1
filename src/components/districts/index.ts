export { District, type DistrictRecord } from './district.model';
