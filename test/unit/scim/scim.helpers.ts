import { ScimError } from '../../../src/components/scim/scim-errors';

/** `<status>:<scimType>` of the SCIM error `fn` throws, or undefined when it throws none. */
export function scimErrorOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return `${err.status}:${err.scimType ?? ''}`;
    throw err;
  }
  return undefined;
}
