import { type Doc } from '../bson-values';
import { badValue } from '../errors';
import { runPipeline, validatePipeline } from '../query/aggregate';
import { writeOutput } from '../query/aggregate-output';
import { asNumber, type CommandContext } from './context';
import { cursorReply } from './read';
import { refuseCollation } from './write';

export async function aggregate(ctx: CommandContext): Promise<Doc | Buffer> {
  const b = ctx.body;
  refuseCollation(b.collation);
  if (b.explain) throw badValue('explain is not supported by the embedded MongoDB-compatible server');
  const target = b.aggregate;
  const collName = typeof target === 'string' ? target : undefined;
  if (!collName && target !== 1) throw badValue("'aggregate' must be a collection name or 1");
  const pctx = { engine: ctx.engine, db: ctx.db, txn: ctx.txn };
  const stages = validatePipeline(b.pipeline, pctx, collName);
  const last = stages[stages.length - 1];
  const output = last && ('$out' in last || '$merge' in last) ? last : undefined;
  const results = runPipeline(pctx, collName, output ? stages.slice(0, -1) : stages, collName ? undefined : []);
  const namespace = `${ctx.db}.${collName ?? '$cmd.aggregate'}`;
  if (output) {
    await writeOutput(ctx, output, results);
    return cursorReply(ctx, namespace, [][Symbol.iterator](), {});
  }
  const cursorOpts = (b.cursor ?? {}) as Doc;
  const batchSize = cursorOpts.batchSize !== undefined ? asNumber(cursorOpts.batchSize, 101) : 101;
  return cursorReply(ctx, namespace, results[Symbol.iterator](), { batchSize: batchSize > 0 ? batchSize : 101 });
}
