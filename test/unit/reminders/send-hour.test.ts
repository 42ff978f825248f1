import { hasReachedSendHour, reachedSendHourSince } from '../../../src/components/reminders/reminder-send-hour';

const LA = 'America/Los_Angeles';
const at = (iso: string) => new Date(iso);

describe('reminder send hour', () => {
  test('when the district wall clock is before the send hour, then not reached; from the hour on, reached', () => {
    // Summer in Los Angeles: UTC−7.
    expect(hasReachedSendHour(at('2099-06-23T13:59:59Z'), LA, 7)).toBe(false);
    expect(hasReachedSendHour(at('2099-06-23T14:00:00Z'), LA, 7)).toBe(true);
    expect(hasReachedSendHour(at('2099-06-24T06:59:00Z'), LA, 7)).toBe(true); // 23:59 the same local day
    expect(hasReachedSendHour(at('2099-06-24T07:00:00Z'), LA, 0)).toBe(true); // midnight, send hour 0
  });

  test('when it is the spring-forward day (2099-03-08), then 07:00 is at 14:00Z (not 15:00Z), and the missing 02:00 is reached at 03:00', () => {
    expect(hasReachedSendHour(at('2099-03-08T13:59:00Z'), LA, 7)).toBe(false);
    expect(hasReachedSendHour(at('2099-03-08T14:00:00Z'), LA, 7)).toBe(true);
    expect(hasReachedSendHour(at('2099-03-08T09:59:00Z'), LA, 2)).toBe(false); // 01:59 PST
    expect(hasReachedSendHour(at('2099-03-08T10:00:00Z'), LA, 2)).toBe(true); // 03:00 PDT
  });

  test('when it is the fall-back day (2099-11-01), then 07:00 is at 15:00Z, and the repeated 01:00 is reached the first time', () => {
    expect(hasReachedSendHour(at('2099-11-01T14:30:00Z'), LA, 7)).toBe(false); // 06:30 PST
    expect(hasReachedSendHour(at('2099-11-01T15:00:00Z'), LA, 7)).toBe(true);
    expect(hasReachedSendHour(at('2099-11-01T08:00:00Z'), LA, 1)).toBe(true); // 01:00 PDT
    expect(reachedSendHourSince(at('2099-11-01T08:59:00Z'), at('2099-11-01T09:00:00Z'), LA, 1)).toBe(false); // 01:59 PDT → 01:00 PST: not again
  });

  test('when the runner checks each minute, then the send hour "came" exactly once per local day', () => {
    expect(reachedSendHourSince(at('2099-06-23T13:59:00Z'), at('2099-06-23T14:00:00Z'), LA, 7)).toBe(true);
    expect(reachedSendHourSince(at('2099-06-23T14:00:00Z'), at('2099-06-23T14:01:00Z'), LA, 7)).toBe(false);
    expect(reachedSendHourSince(at('2099-06-23T13:00:00Z'), at('2099-06-23T13:59:00Z'), LA, 7)).toBe(false);
    // Down overnight: last check yesterday after the hour, now today after the hour.
    expect(reachedSendHourSince(at('2099-06-22T20:00:00Z'), at('2099-06-23T16:00:00Z'), LA, 7)).toBe(true);
    // Down since the epoch (first check of a new process).
    expect(reachedSendHourSince(new Date(0), at('2099-06-23T16:00:00Z'), LA, 7)).toBe(true);
  });
});
