import { Context, ProcessingMode } from 'mingo';
import type { Options } from 'mingo/types';

/** Options for every mingo call: no scripts ($where/$function are refused before reaching mingo). */
export const QUERY_OPTIONS: Partial<Options> = {
  idKey: '_id',
  processingMode: ProcessingMode.CLONE_OFF,
  useStrictMode: true,
  scriptEnabled: false,
};

export { Context };
