import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../../src/config';
import { configProblems } from '../../helpers/config';

/** SESSION_SECRET_PREVIOUS, XAPI_SECRET_KEY_PREVIOUS and LTI_TOOL_KEY_MAX_AGE_DAYS (docs/rotation.md). */
const problemsOf = (env: Record<string, string>) => configProblems({ NODE_ENV: 'test', ...env });

const secret = (c: string) => c.repeat(40);
const hexKey = () => randomBytes(32).toString('hex');

describe('SESSION_SECRET_PREVIOUS', () => {
  test('when earlier secrets are given (commas or spaces), then they are kept in order after the current one', () => {
    const config = loadConfig({ NODE_ENV: 'test', SESSION_SECRET: secret('n'), SESSION_SECRET_PREVIOUS: `${secret('a')}, ${secret('b')}\n` });
    expect(config.sessionSecret).toBe(secret('n'));
    expect(config.previousSessionSecrets).toEqual([secret('a'), secret('b')]);
    expect(loadConfig({ NODE_ENV: 'test', SESSION_SECRET: secret('n') }).previousSessionSecrets).toEqual([]);
  });

  test('when a previous secret is short, is the current one, or no current one is set, then each is named', () => {
    expect(problemsOf({ SESSION_SECRET: secret('n'), SESSION_SECRET_PREVIOUS: `${secret('a')},short` })).toEqual(['SESSION_SECRET_PREVIOUS: value 2 must be at least 32 characters']);
    expect(problemsOf({ SESSION_SECRET: secret('n'), SESSION_SECRET_PREVIOUS: secret('n') })).toEqual(['SESSION_SECRET_PREVIOUS: value 1 is the current SESSION_SECRET']);
    expect(problemsOf({ SESSION_SECRET_PREVIOUS: secret('a') })[0]).toMatch(/^SESSION_SECRET_PREVIOUS: set SESSION_SECRET to the new secret too/);
  });
});

describe('XAPI_SECRET_KEY_PREVIOUS', () => {
  test('when earlier keys are given as hex or base64, then they are kept as 32-byte keys', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const config = loadConfig({ NODE_ENV: 'test', XAPI_SECRET_KEY: hexKey(), XAPI_SECRET_KEY_PREVIOUS: `${a.toString('hex')} ${b.toString('base64')}` });
    expect(config.previousXapiSecretKeys.map((k) => k.toString('hex'))).toEqual([a.toString('hex'), b.toString('hex')]);
  });

  test('when a previous key is malformed, is the current key (in another encoding), or no current key is set, then each is named', () => {
    const current = randomBytes(32);
    expect(problemsOf({ XAPI_SECRET_KEY: current.toString('hex'), XAPI_SECRET_KEY_PREVIOUS: 'not-a-key' })[0]).toMatch(/^XAPI_SECRET_KEY_PREVIOUS: value 1 must be 32 random bytes/);
    expect(problemsOf({ XAPI_SECRET_KEY: current.toString('hex'), XAPI_SECRET_KEY_PREVIOUS: current.toString('base64') })).toEqual(['XAPI_SECRET_KEY_PREVIOUS: value 1 is the current XAPI_SECRET_KEY']);
    expect(problemsOf({ XAPI_SECRET_KEY_PREVIOUS: hexKey() })[0]).toMatch(/^XAPI_SECRET_KEY_PREVIOUS: set XAPI_SECRET_KEY to the new key too/);
  });
});

describe('LTI_TOOL_KEY_MAX_AGE_DAYS', () => {
  test('when unset, then keys are replaced every 180 days; 0 never; 30–3650 as given; anything else is a problem', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).ltiToolKeyMaxAgeDays).toBe(180);
    expect(loadConfig({ NODE_ENV: 'test', LTI_TOOL_KEY_MAX_AGE_DAYS: '0' }).ltiToolKeyMaxAgeDays).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test', LTI_TOOL_KEY_MAX_AGE_DAYS: '90' }).ltiToolKeyMaxAgeDays).toBe(90);
    for (const value of ['29', '3651', '-1', 'yearly', '1.5']) {
      expect(problemsOf({ LTI_TOOL_KEY_MAX_AGE_DAYS: value }).some((p) => p.startsWith('LTI_TOOL_KEY_MAX_AGE_DAYS:'))).toBe(true);
    }
  });
});
