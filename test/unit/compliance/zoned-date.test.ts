import { addYears, endOfLocalDay, isLocalDate, localDateOf, nextMonthDayOnOrAfter, startOfLocalDay } from '../../../src/components/assignments/zoned-date';

describe('zoned dates', () => {
  test('when a day starts in Los Angeles, then the instant follows daylight saving time', () => {
    expect(startOfLocalDay('2026-01-15', 'America/Los_Angeles').toISOString()).toBe('2026-01-15T08:00:00.000Z');
    expect(startOfLocalDay('2026-07-15', 'America/Los_Angeles').toISOString()).toBe('2026-07-15T07:00:00.000Z');
    // The day clocks spring forward (8 March 2026) and fall back (1 November 2026).
    expect(startOfLocalDay('2026-03-08', 'America/Los_Angeles').toISOString()).toBe('2026-03-08T08:00:00.000Z');
    expect(endOfLocalDay('2026-03-08', 'America/Los_Angeles').toISOString()).toBe('2026-03-09T07:00:00.000Z');
    expect(endOfLocalDay('2026-11-01', 'America/Los_Angeles').toISOString()).toBe('2026-11-02T08:00:00.000Z');
  });

  test('when other zones are used, then their own midnight counts', () => {
    expect(startOfLocalDay('2026-06-01', 'America/New_York').toISOString()).toBe('2026-06-01T04:00:00.000Z');
    expect(startOfLocalDay('2026-06-01', 'UTC').toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });

  test('when an instant is late evening locally, then its local date is the earlier day', () => {
    expect(localDateOf(new Date('2026-03-16T05:30:00Z'), 'America/Los_Angeles')).toBe('2026-03-15');
  });

  test('when dates are added, then 29 February and month ends behave', () => {
    expect(addYears('2024-02-29', 1)).toBe('2025-02-28');
    expect(addYears('2025-03-15', 1)).toBe('2026-03-15');
    expect(nextMonthDayOnOrAfter('2025-09-10', '06-30')).toBe('2026-06-30');
    expect(nextMonthDayOnOrAfter('2026-06-30', '06-30')).toBe('2026-06-30');
    expect(nextMonthDayOnOrAfter('2026-07-01', '06-30')).toBe('2027-06-30');
    expect(isLocalDate('2026-02-30')).toBe(false);
    expect(isLocalDate('2026-02-28')).toBe(true);
  });
});
