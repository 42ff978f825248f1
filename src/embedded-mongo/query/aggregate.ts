import { Aggregator } from 'mingo';
import { cloneDeep, isPlainObject, type Doc } from '../bson-values';
import { badValue, MongoCommandError } from '../errors';
import type { Engine } from '../storage/engine';
import type { Txn } from '../transactions/txn';
import { fastGroup } from './fast-group';
import { fastLookup } from './fast-lookup';
import { QUERY_OPTIONS } from './mingo-options';
import { matchingDocs } from './read';
import { isReadOnlyPipeline } from './read-only-pipeline';
import { refuseStage, refuseUnsupported } from './refusals';
import { parseSort, sortDocs } from './sort';

export interface PipelineContext {
  engine: Engine;
  db: string;
  txn?: Txn;
}

/** Every stage is `{ $name: spec }`; refused stages and expressions fail before anything runs. */
export function validatePipeline(pipeline: unknown, ctx: PipelineContext, collName?: string): Doc[] {
  if (!Array.isArray(pipeline)) throw badValue("'pipeline' option must be specified as an array");
  const coll = collName ? ctx.engine.collection(ctx.db, collName) : undefined;
  pipeline.forEach((stage, i) => {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new MongoCommandError(40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0];
    refuseStage(name);
    if ((name === '$out' || name === '$merge') && i !== pipeline.length - 1) {
      throw new MongoCommandError(40601, 'Location40601', `${name} can only be the final stage in the pipeline`);
    }
    if (name === '$match') refuseUnsupported(stage.$match, coll);
    else refuseUnsupported(stage, coll, true);
  });
  return pipeline as Doc[];
}

/** Documents of `db.name` as the reader sees them, copied unless the pipeline cannot write into them. */
function resolver(ctx: PipelineContext, copy: boolean): (name: string) => Doc[] {
  return (name) => {
    const out: Doc[] = [];
    for (const m of matchingDocs(ctx.engine.collection(ctx.db, name), undefined, ctx.txn)) out.push(copy ? cloneDeep(m.doc) : m.doc);
    return out;
  };
}

/**
 * Runs a pipeline (without a final $out/$merge) over `input` (or over a leading $match answered through
 * the indexes). `$sort` is done here for MongoDB's cross-type order; all else by mingo.
 */
export function runPipeline(ctx: PipelineContext, collName: string | undefined, stages: Doc[], input?: Doc[]): Doc[] {
  let i = 0;
  let docs: Doc[];
  const copy = !isReadOnlyPipeline(stages);
  if (input) docs = input;
  else {
    const coll = collName ? ctx.engine.collection(ctx.db, collName) : undefined;
    let filter: unknown;
    if (stages.length > 0 && '$match' in stages[0]) {
      filter = stages[0].$match;
      i = 1;
    }
    docs = [];
    for (const m of matchingDocs(coll, filter, ctx.txn)) docs.push(copy ? cloneDeep(m.doc) : m.doc);
  }
  const options = { ...QUERY_OPTIONS, collectionResolver: resolver(ctx, copy) };
  let segment: Doc[] = [];
  const flush = (): void => {
    if (segment.length === 0) return;
    try {
      docs = new Aggregator(segment, options).run(docs) as Doc[];
    } catch (e) {
      if (e instanceof MongoCommandError) throw e;
      throw badValue((e as Error).message);
    }
    segment = [];
  };
  for (; i < stages.length; i++) {
    const stage = stages[i];
    if ('$lookup' in stage) {
      flush();
      const joined = fastLookup(ctx, docs, stage.$lookup, copy);
      if (joined) docs = joined;
      else segment.push(stage);
      continue;
    }
    if ('$group' in stage) {
      flush();
      const grouped = fastGroup(docs, stage.$group);
      if (grouped) docs = grouped;
      else segment.push(stage);
      continue;
    }
    if (!('$sort' in stage)) {
      segment.push(stage);
      continue;
    }
    flush();
    const spec = parseSort(stage.$sort);
    if (!spec) throw badValue('$sort stage must have at least one sort key');
    const next = stages[i + 1];
    const keep = next && typeof next.$limit === 'number' ? next.$limit : undefined;
    docs = sortDocs(docs, spec, (d) => d, keep);
  }
  flush();
  return docs;
}
