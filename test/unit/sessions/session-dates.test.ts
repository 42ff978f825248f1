import { localDateOf } from '../../../src/components/assignments';
import { checkSessionDate, completedAtFor, isCalendarDate } from '../../../src/components/sessions/session-dates';
import { attendanceSchema } from '../../../src/components/sessions/sessions.schemas';

describe('session dates', () => {
  test('when a date is checked, then only real calendar dates pass', () => {
    expect(isCalendarDate('2026-11-26')).toBe(true);
    expect(isCalendarDate('2026-02-30')).toBe(false);
    expect(isCalendarDate('2026-2-3')).toBe(false);
    expect(isCalendarDate('tomorrow')).toBe(false);
  });

  test('when a session date is more than 60 days away from today, then it is refused', () => {
    expect(checkSessionDate('2026-11-26', '2026-11-26')).toBe('ok');
    expect(checkSessionDate('2026-09-27', '2026-11-26')).toBe('ok');
    expect(checkSessionDate('2026-09-26', '2026-11-26')).toBe('too_early');
    expect(checkSessionDate('2027-01-25', '2026-11-26')).toBe('ok');
    expect(checkSessionDate('2027-01-26', '2026-11-26')).toBe('too_late');
  });

  test('when the session is today, then completions count from now; when it was earlier, from that day in the district', () => {
    const now = new Date('2026-11-26T20:00:00Z');
    expect(completedAtFor('2026-11-26', now, 'America/Los_Angeles')).toBe(now);
    for (const zone of ['America/Los_Angeles', 'Pacific/Honolulu', 'Pacific/Kiritimati', 'Asia/Tokyo', 'UTC']) {
      const at = completedAtFor('2026-11-20', now, zone);
      expect([zone, localDateOf(at, zone)]).toEqual([zone, '2026-11-20']);
      expect(at.getTime()).toBeLessThan(now.getTime());
    }
  });
});

describe('attendanceSchema', () => {
  const id = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  test('when one id or repeated ids are posted, then a de-duplicated list comes out', () => {
    expect(attendanceSchema.parse({ attendees: id, shown: [id, id.toUpperCase()] })).toEqual({ attendees: [id], shown: [id], intent: 'save' });
    expect(attendanceSchema.parse({})).toEqual({ attendees: [], shown: [], intent: 'save' });
  });

  test('when operators, numbers or malformed ids are posted, then the input is refused', () => {
    expect(attendanceSchema.safeParse({ attendees: { $gt: '' } }).success).toBe(false);
    expect(attendanceSchema.safeParse({ attendees: [id, { $ne: null }] }).success).toBe(false);
    expect(attendanceSchema.safeParse({ attendees: 5 }).success).toBe(false);
    expect(attendanceSchema.safeParse({ shown: ['x'] }).success).toBe(false);
    expect(attendanceSchema.safeParse({ intent: 'everyone' }).success).toBe(false);
  });
});
