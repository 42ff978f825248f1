/**
 * Runs work in a MongoDB transaction when the server supports them (a replica set — the embedded server
 * is one), else without: on a standalone server the callers' conditional updates and unique indexes still
 * guarantee one winner, and their writes then follow one another instead of committing together. Learned
 * once per process from the server's answer (codes 20 / 263: transactions not supported).
 */
import mongoose, { type ClientSession } from 'mongoose';
import { logger } from './logger';

let canUseTransactions: boolean | undefined;

export async function inTransaction<T>(work: (session: ClientSession | undefined) => Promise<T>): Promise<T> {
  if (canUseTransactions !== false) {
    try {
      const result = await mongoose.connection.transaction((session) => work(session));
      canUseTransactions = true;
      return result;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (canUseTransactions === true || (code !== 20 && code !== 263)) throw err;
      logger.warn({ err }, 'transactions are not available (standalone MongoDB); writing without them');
      canUseTransactions = false;
    }
  }
  return work(undefined);
}

/** Tests of the standalone path: behave as if the server had answered that it has no transactions (undefined: learn again). */
export function assumeTransactionSupport(isAvailable: boolean | undefined): void {
  canUseTransactions = isAvailable;
}
