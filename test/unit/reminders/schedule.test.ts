import { CATCH_UP_DAYS, daysBetween, dueReminder, reminderOffsets, weekdayOf, type ReminderSchedule } from '../../../src/components/reminders/reminder-schedule';

const schedule: ReminderSchedule = { enabled: true, daysBefore: [7, 1], onDueDate: true, afterEveryDays: 7, afterTimes: 3 };
const DUE = '2026-06-30';
const on = (date: string, s = schedule) => dueReminder(s, DUE, date);

describe('reminder schedule', () => {
  test('when the schedule is 7 and 1 days before, on the day, and every 7 days 3 times after, then those are the offsets', () => {
    expect(reminderOffsets(schedule)).toEqual([-7, -1, 0, 7, 14, 21]);
  });

  test('when it is exactly a reminder day, then that reminder is due with a cycle naming the due date and offset', () => {
    expect(on('2026-06-23')).toEqual({ kind: 'before_due', offset: -7, cycle: '2026-06-30@-7' });
    expect(on('2026-06-29')).toEqual({ kind: 'before_due', offset: -1, cycle: '2026-06-30@-1' });
    expect(on('2026-06-30')).toEqual({ kind: 'on_due', offset: 0, cycle: '2026-06-30@0' });
    expect(on('2026-07-07')).toEqual({ kind: 'after_due', offset: 7, cycle: '2026-06-30@+7' });
    expect(on('2026-07-21')).toEqual({ kind: 'after_due', offset: 21, cycle: '2026-06-30@+21' });
  });

  test('when it is before the first reminder, or past the last one and its catch-up days, then nothing is due', () => {
    expect(on('2026-06-22')).toBeNull();
    expect(on('2026-01-01')).toBeNull();
    expect(on('2026-07-24')).toBeNull();
    expect(on('2027-06-30')).toBeNull();
  });

  test('when a reminder day was missed, then it is made up for CATCH_UP_DAYS days but never once the next reminder has come', () => {
    expect(CATCH_UP_DAYS).toBe(2);
    expect(on('2026-06-24')?.cycle).toBe('2026-06-30@-7');
    expect(on('2026-06-25')?.cycle).toBe('2026-06-30@-7');
    expect(on('2026-06-26')).toBeNull();
    // The day before the due date: the -1 reminder, not a late -7 one.
    expect(on('2026-06-29')?.cycle).toBe('2026-06-30@-1');
    expect(on('2026-07-01')?.cycle).toBe('2026-06-30@0');
  });

  test('when the schedule is off, then nothing is ever due', () => {
    for (const date of ['2026-06-23', '2026-06-30', '2026-07-07']) expect(on(date, { ...schedule, enabled: false })).toBeNull();
  });

  test('when there is no reminder after the due date, then nothing is due after the on-the-day catch-up', () => {
    const noAfter = { ...schedule, afterTimes: 0 };
    expect(on('2026-07-02', noAfter)?.cycle).toBe('2026-06-30@0');
    expect(on('2026-07-07', noAfter)).toBeNull();
  });

  test('when days before are repeated or invalid, then each valid day counts once', () => {
    expect(reminderOffsets({ ...schedule, daysBefore: [7, 7, 0, -3, 1.5, 3], onDueDate: false, afterTimes: 1 })).toEqual([-7, -3, 7]);
  });

  test('days and weekdays are counted on calendar dates (across months, leap years)', () => {
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysBetween('2026-07-07', '2026-06-30')).toBe(-7);
    expect(weekdayOf('2026-11-30')).toBe(1);
    expect(weekdayOf('2026-11-29')).toBe(7);
  });
});
