/** A MongoDB-shaped command error: `{ ok: 0, errmsg, code, codeName, errorLabels? }`. */
export class MongoCommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly errorLabels: string[] = [],
  ) {
    super(message);
  }

  toReply(): Record<string, unknown> {
    const reply: Record<string, unknown> = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
    if (this.errorLabels.length > 0) reply.errorLabels = this.errorLabels;
    return reply;
  }
}

export const badValue = (msg: string) => new MongoCommandError(2, 'BadValue', msg);
export const failedToParse = (msg: string) => new MongoCommandError(9, 'FailedToParse', msg);
export const typeMismatch = (msg: string) => new MongoCommandError(14, 'TypeMismatch', msg);
export const namespaceNotFound = (msg: string) => new MongoCommandError(26, 'NamespaceNotFound', msg);
export const indexNotFound = (msg: string) => new MongoCommandError(27, 'IndexNotFound', msg);
export const cursorNotFound = (msg: string) => new MongoCommandError(43, 'CursorNotFound', msg);
export const namespaceExists = (msg: string) => new MongoCommandError(48, 'NamespaceExists', msg);
export const commandNotFound = (name: string) =>
  new MongoCommandError(59, 'CommandNotFound', `no such command: '${name}'`);
export const immutableField = (path: string) =>
  new MongoCommandError(66, 'ImmutableField', `Performing an update on the path '${path}' would modify the immutable field '${path}'`);
export const invalidOptions = (msg: string) => new MongoCommandError(72, 'InvalidOptions', msg);
export const writeConflict = () =>
  new MongoCommandError(112, 'WriteConflict',
    'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
    {}, ['TransientTransactionError']);
export const noSuchTransaction = (txnNumber: number) =>
  new MongoCommandError(251, 'NoSuchTransaction', `Transaction with { txnNumber: ${txnNumber} } has been aborted.`, {}, ['TransientTransactionError']);

/** The embedded server refuses what it cannot answer exactly like MongoDB, naming the feature. */
export const notSupported = (what: string) =>
  new MongoCommandError(238, 'NotImplemented', `${what} is not supported by the embedded MongoDB-compatible server; use a real MongoDB (MONGODB_URI) for it`);

/** Thrown by a write that must wait for another session's transaction to finish. */
export class WaitForTransaction extends Error {
  constructor(readonly done: Promise<void>) {
    super('waiting for a transaction');
  }
}
