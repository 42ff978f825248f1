import { Types } from 'mongoose';
import type { ComplianceJobRecord, ComplianceJobState } from '../../../src/components/assignments/compliance-job.model';
import { formatCount, formatLocalDateTime, isUnderway, jobStatusOf } from '../../../src/components/assignments/compliance-job.status';

const at = (iso: string) => new Date(iso);

function job(state: ComplianceJobState, overrides: Partial<ComplianceJobRecord> = {}): ComplianceJobRecord {
  return {
    _id: new Types.ObjectId(),
    district: new Types.ObjectId(),
    kind: 'assignment',
    assignment: new Types.ObjectId(),
    moduleSlug: 'foundations',
    state,
    requestedBy: null,
    requestedAt: at('2026-03-05T18:00:00Z'),
    startedAt: state === 'queued' ? null : at('2026-03-05T18:00:01Z'),
    finishedAt: state === 'done' || state === 'failed' ? at('2026-03-05T18:01:00Z') : null,
    heartbeatAt: null,
    owner: null,
    attempts: state === 'queued' ? 0 : 1,
    progress: { done: 0, total: 0 },
    error: state === 'failed' ? 'boom' : null,
    ...overrides,
  };
}

describe('jobStatusOf', () => {
  test('when there are no jobs, then nothing is shown', () => {
    expect(jobStatusOf([])).toBeNull();
  });

  test('when a job is running and another is queued behind it, then the running one is shown with its progress and the queued one noted', () => {
    const running = job('running', { progress: { done: 12345, total: 74000 } });
    const status = jobStatusOf([job('done'), job('queued'), running]);
    expect(status).toMatchObject({ jobId: String(running._id), state: 'running', done: 12345, total: 74000, queuedAgain: true });
    expect(isUnderway(status)).toBe(true);
  });

  test('when only a queued job and finished ones exist, then the queued one is shown', () => {
    expect(jobStatusOf([job('failed'), job('queued')])).toMatchObject({ state: 'queued', queuedAgain: false });
  });

  test('when all jobs are finished, then the one that finished last is shown, failed or done', () => {
    const older = job('done', { finishedAt: at('2026-03-01T00:00:00Z') });
    const newer = job('failed', { finishedAt: at('2026-03-02T00:00:00Z'), error: 'Invalid time zone specified: Mars/Olympus' });
    const status = jobStatusOf([newer, older]);
    expect(status).toMatchObject({ jobId: String(newer._id), state: 'failed', error: 'Invalid time zone specified: Mars/Olympus' });
    expect(isUnderway(status)).toBe(false);
  });
});

describe('formatting', () => {
  test('when an instant is shown, then it is in the district zone, and in UTC if the zone is not valid', () => {
    expect(formatLocalDateTime(at('2026-03-05T18:42:00Z'), 'en', 'America/Los_Angeles')).toMatch(/^Mar 5, 2026, 10:42\sAM$/);
    expect(formatLocalDateTime(at('2026-03-05T18:42:00Z'), 'en', 'Mars/Olympus')).toMatch(/^Mar 5, 2026, 6:42\sPM$/);
    expect(formatLocalDateTime(null, 'en', 'UTC')).toBe('');
  });

  test('when a count is shown, then it is grouped for the language', () => {
    expect(formatCount(74000, 'en')).toBe('74,000');
    expect(formatCount(12345, 'es')).toBe('12,345');
  });
});
