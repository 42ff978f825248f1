import type { Doc } from '../bson-values';
import { MongoCommandError, noSuchTransaction, writeConflict } from '../errors';
import { Txn } from './txn';

/** Server-side state of one logical session (lsid). */
export interface SessionState {
  key: string;
  txn?: Txn;
  highestTxnNumber: number;
  /** Reply of the last retryable write, by txnNumber: a retry gets the same reply without re-executing. */
  retried?: { txnNumber: number; reply: Doc };
  lastUse: number;
}

export const TXN_LIFETIME_MS = 60_000;
const SESSION_TIMEOUT_MS = 30 * 60_000;

/** Sessions and transactions: at most one transaction with writes at a time; others conflict (112). */
export class SessionRegistry {
  readonly sessions = new Map<string, SessionState>();
  readonly active = new Set<Txn>();
  writer: Txn | null = null;

  session(key: string): SessionState {
    let s = this.sessions.get(key);
    if (!s) this.sessions.set(key, (s = { key, highestTxnNumber: -1, lastUse: Date.now() }));
    s.lastUse = Date.now();
    return s;
  }

  startTransaction(s: SessionState, txnNumber: number): Txn {
    if (txnNumber < s.highestTxnNumber || (txnNumber === s.highestTxnNumber && s.txn)) {
      throw new MongoCommandError(225, 'TransactionTooOld',
        `Cannot start transaction ${txnNumber} on session ${s.key} because a newer transaction ${s.highestTxnNumber} has already started`);
    }
    if (s.txn && s.txn.state === 'in_progress') this.abort(s.txn);
    s.highestTxnNumber = txnNumber;
    const txn = new Txn(s.key, txnNumber);
    s.txn = txn;
    this.active.add(txn);
    return txn;
  }

  /** The transaction a command with `autocommit: false` continues. */
  continueTransaction(s: SessionState, txnNumber: number, command: string): Txn {
    const txn = s.txn;
    if (!txn || txn.txnNumber !== txnNumber) {
      if (txnNumber < s.highestTxnNumber) {
        throw new MongoCommandError(225, 'TransactionTooOld', `txnNumber ${txnNumber} is less than last txnNumber ${s.highestTxnNumber} seen in session ${s.key}`);
      }
      throw noSuchTransaction(txnNumber);
    }
    if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
    if (txn.state === 'committed' && command !== 'commitTransaction') {
      throw new MongoCommandError(256, 'TransactionCommitted', `Transaction with { txnNumber: ${txnNumber} } has been committed.`);
    }
    txn.lastUse = Date.now();
    return txn;
  }

  /** Claims the single writer slot for `txn` or answers WriteConflict. */
  claimWriter(txn: Txn): void {
    if (this.writer && this.writer !== txn) throw writeConflict();
    this.writer = txn;
  }

  noteCommittedWrite(ns: string, key: string, before: Doc | null, except?: Txn): void {
    if (this.active.size === 0) return;
    for (const t of this.active) if (t !== except) t.notePreImage(ns, key, before);
  }

  abort(txn: Txn): void {
    if (txn.state !== 'in_progress') return;
    for (const coll of txn.createdColls) txn.writes.delete(coll.ns);
    this.release(txn, 'aborted');
  }

  release(txn: Txn, state: 'committed' | 'aborted'): void {
    this.active.delete(txn);
    if (this.writer === txn) this.writer = null;
    txn.finish(state);
  }

  /** Aborts transactions idle past MongoDB's transactionLifetimeLimitSeconds (60 s). */
  expireIdle(now: number): Txn[] {
    const expired = [...this.active].filter((t) => now - t.lastUse > TXN_LIFETIME_MS);
    for (const t of expired) this.abort(t);
    return expired;
  }

  /** Forgets sessions idle past logicalSessionTimeoutMinutes (30), as mongod reaps them. */
  expireSessions(now: number): void {
    for (const [key, s] of this.sessions) {
      if (now - s.lastUse > SESSION_TIMEOUT_MS && (!s.txn || s.txn.state !== 'in_progress')) this.sessions.delete(key);
    }
  }

  endSession(key: string): void {
    const s = this.sessions.get(key);
    if (s?.txn) this.abort(s.txn);
    this.sessions.delete(key);
  }
}
