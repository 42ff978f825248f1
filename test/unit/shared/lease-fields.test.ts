import type { Model } from 'mongoose';
import { ComplianceJob } from '../../../src/components/assignments/compliance-job.model';
import { ExportJob } from '../../../src/components/reports/export-job.model';
import { RosterPreview } from '../../../src/components/roster/roster.model';
import { XapiFeed } from '../../../src/components/xapi/xapi-feed.model';

/*
 * The four leased records share their lease fields (src/shared/lease-fields.ts). Stored data must keep
 * working: the indexes below are those each schema declared before the fields were shared, written out as
 * they were read then from Model.schema.indexes(); a change here is a change of the stored indexes.
 */
const INDEXES_BEFORE_SHARING: Record<string, unknown> = {
  ComplianceJob: [
    [{ district: 1, kind: 1, assignment: 1 }, { unique: true, partialFilterExpression: { state: 'queued' } }],
    [{ district: 1 }, { unique: true, partialFilterExpression: { state: 'running' } }],
    [{ state: 1, requestedAt: 1 }, {}],
    [{ district: 1, assignment: 1, requestedAt: -1 }, {}],
  ],
  ExportJob: [
    [{ requestedBy: 1, requestedAt: -1 }, {}],
    [{ state: 1, requestedAt: 1 }, {}],
    [{ expiresAt: 1 }, { partialFilterExpression: { expiresAt: { $type: 'date' } } }],
  ],
  RosterPreview: [
    [{ district: 1, createdAt: -1 }, {}],
    [{ purgeAt: 1 }, { expireAfterSeconds: 0 }],
    [{ state: 1, requestedAt: 1 }, {}],
    [{ district: 1 }, { unique: true, partialFilterExpression: { state: 'applying' }, name: 'one_apply_per_district' }],
  ],
  XapiFeed: [
    [{ district: 1 }, { unique: true }],
    [{ state: 1, requestedAt: 1 }, {}],
  ],
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Model<any>[] = [ComplianceJob, ExportJob, RosterPreview, XapiFeed];

function pathOf(model: Model<unknown>, name: string) {
  const path = model.schema.path(name) as unknown as { instance: string; defaultValue: unknown; isRequired?: boolean } | undefined;
  return path && { instance: path.instance, default: path.defaultValue, required: Boolean(path.isRequired) };
}

describe.each(MODELS.map((model) => [model.modelName, model] as const))('the lease fields of %s', (name, model) => {
  test('when the schema is built from the shared fragment, then its indexes are exactly those it had before', () => {
    expect(JSON.parse(JSON.stringify(model.schema.indexes()))).toEqual(INDEXES_BEFORE_SHARING[name]);
  });

  test('when a record is stored, then the lease fields keep their names, types and defaults', () => {
    expect(pathOf(model, 'owner')).toEqual({ instance: 'String', default: null, required: false });
    expect(pathOf(model, 'heartbeatAt')).toEqual({ instance: 'Date', default: null, required: false });
    expect(pathOf(model, 'startedAt')).toEqual({ instance: 'Date', default: null, required: false });
    expect(pathOf(model, 'finishedAt')).toEqual({ instance: 'Date', default: null, required: false });
    expect(pathOf(model, 'attempts')).toEqual({ instance: 'Number', default: 0, required: true });
    // The fencing token (+1 per claim): records from before read as 0.
    expect(pathOf(model, 'fence')).toEqual({ instance: 'Number', default: 0, required: false });
    // The claim sorts on requestedAt and the runner matches on state: each record keeps its own.
    expect(pathOf(model, 'requestedAt')?.instance).toBe('Date');
    expect(pathOf(model, 'state')?.instance).toBe('String');
  });

  test('when a record from before (no attempts stored) is read, then it reads as claimed 0 times', () => {
    const doc = model.hydrate({ _id: undefined, owner: null });
    expect(doc.get('attempts')).toBe(0);
    expect(doc.get('heartbeatAt')).toBeNull();
  });
});
