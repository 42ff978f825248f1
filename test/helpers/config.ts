import { ConfigError, loadConfig } from '../../src/config';

/** Every problem loadConfig lists for this environment ([] when it is accepted). */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
