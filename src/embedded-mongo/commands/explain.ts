import type { Doc } from '../bson-values';
import { badValue, notSupported } from '../errors';
import { choosePlan } from '../query/planner';
import { VERSION } from './handshake';
import type { CommandContext } from './context';

const FILTER_OF: Record<string, (c: Doc) => unknown> = {
  find: (c) => c.filter,
  count: (c) => c.query,
  distinct: (c) => c.query,
  findAndModify: (c) => c.query,
  delete: (c) => (c.deletes as Doc[] | undefined)?.[0]?.q,
  update: (c) => (c.updates as Doc[] | undefined)?.[0]?.q,
  aggregate: (c) => (c.pipeline as Doc[] | undefined)?.[0]?.$match,
};

/** queryPlanner-only explain, in MongoDB's shape: IXSCAN under FETCH when an index serves the filter, else COLLSCAN. */
export function explain(ctx: CommandContext): Doc {
  const inner = ctx.body.explain as Doc;
  if (!inner || typeof inner !== 'object') throw badValue('explain command requires a nested object');
  const verb = Object.keys(inner)[0];
  const filterOf = FILTER_OF[verb];
  if (!filterOf) throw notSupported(`explain of ${verb}`);
  const collName = String(inner[verb]);
  const coll = ctx.engine.collection(ctx.db, collName);
  const filter = filterOf(inner) ?? {};
  const plan = coll ? choosePlan(coll, filter) : null;
  let winningPlan: Doc;
  if (!plan) winningPlan = { stage: 'COLLSCAN', filter, direction: 'forward' };
  else if (plan.kind === 'id') winningPlan = { stage: 'IDHACK' };
  else {
    winningPlan = {
      stage: 'FETCH',
      filter,
      inputStage: { stage: 'IXSCAN', keyPattern: plan.idx.spec.key, indexName: plan.idx.name, isMultiKey: false, direction: 'forward' },
    };
  }
  return {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${collName}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
    command: { ...inner, $db: ctx.db },
    serverInfo: { host: ctx.server.host, port: ctx.server.port, version: VERSION, gitVersion: 'embedded' },
    ok: 1,
  };
}
