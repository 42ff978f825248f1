import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sst-config-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  test('when the environment has several problems, then every one is listed at once', () => {
    const problems = problemsOf({ NODE_ENV: 'staging', PORT: 'eighty', MONGODB_URI: 'postgres://x', SESSION_SECRET: 'short', BASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    expect(problems).toHaveLength(6);
    for (const key of ['NODE_ENV', 'PORT', 'MONGODB_URI', 'SESSION_SECRET', 'BASE_URL', 'LOG_LEVEL']) {
      expect(problems.some((p) => p.startsWith(`${key}:`))).toBe(true);
    }
  });

  test('when SESSION_CACHE_MS is unset, then sessions are remembered 5 s; 0 turns it off; anything else outside 0–60000 is a problem', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).sessionCacheMs).toBe(5000);
    expect(loadConfig({ NODE_ENV: 'test', SESSION_CACHE_MS: '0' }).sessionCacheMs).toBe(0);
    for (const value of ['-1', '60001', 'soon', '1.5']) {
      expect(problemsOf({ NODE_ENV: 'test', SESSION_CACHE_MS: value }).some((p) => p.startsWith('SESSION_CACHE_MS:'))).toBe(true);
    }
  });

  test('when a bad environment fails, then the message names each problem on its own line', () => {
    expect(() => loadConfig({ PORT: '70000', LOG_LEVEL: 'loud' })).toThrow(/Invalid configuration:\n {2}- PORT: .*\n {2}- LOG_LEVEL: /);
  });

  test('when production lacks its required values, then each is listed', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      'SESSION_SECRET: required in production',
      expect.stringMatching(/^MONGODB_URI: required in production/),
      expect.stringMatching(/^BASE_URL: required in production/),
    ]);
  });

  test('when production is fully configured, then the config is frozen and typed', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: 'x'.repeat(40),
      MONGODB_URI: 'mongodb://db1,db2,db3/safe?replicaSet=rs0',
      BASE_URL: 'https://training.example.org/',
      TRUST_PROXY: '1',
      PORT: '8080',
    });
    expect(config).toMatchObject({ isProduction: true, port: 8080, trustProxy: 1, baseUrl: 'https://training.example.org', logLevel: 'info', seedDemo: false });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('when nothing is set in development, then defaults apply and the session secret is generated once and kept', () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first).toMatchObject({ env: 'development', port: 3000, mongodbUri: undefined, trustProxy: false, seedDemo: true, baseUrl: 'http://localhost:3000' });
    const file = path.join(dataDir, 'session-secret');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.sessionSecret);
    expect(first.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ DATA_DIR: dataDir }).sessionSecret).toBe(first.sessionSecret);
  });

  test.each([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
  ])('when TRUST_PROXY=%s, then trust proxy is %p', (value, expected) => {
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  test('when in test, then logs are silent and no secret file is written', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    expect(config.logLevel).toBe('silent');
    expect(existsSync(path.join(dataDir, 'session-secret'))).toBe(false);
  });
  test('when SMTP_URL is not an smtp(s) URL, then the problem is listed without echoing the value', () => {
    const err = (() => {
      try {
        loadConfig({ NODE_ENV: 'test', SMTP_URL: 'http://user:hunter2@mail.example.org' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).toContain('SMTP_URL');
    expect(err.message).not.toContain('hunter2');
  });

  test('when SMTP_URL and MAIL_FROM are set, then they are used; unset, a default sender applies', () => {
    expect(loadConfig({ NODE_ENV: 'test', SMTP_URL: 'smtps://u:p@mail.example.org:465', MAIL_FROM: 'Training <t@example.org>' })).toMatchObject({ smtpUrl: 'smtps://u:p@mail.example.org:465', mailFrom: 'Training <t@example.org>' });
    expect(loadConfig({ NODE_ENV: 'test' }).smtpUrl).toBeUndefined();
  });

  test('when REMINDER_RETENTION_DAYS is unset, then 180; a whole number from 30 to 3650 is used; anything else is listed', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).reminderRetentionDays).toBe(180);
    expect(loadConfig({ NODE_ENV: 'test', REMINDER_RETENTION_DAYS: '30' }).reminderRetentionDays).toBe(30);
    for (const bad of ['29', '3651', '90.5', 'forever', '']) {
      expect(() => loadConfig({ NODE_ENV: 'test', REMINDER_RETENTION_DAYS: bad })).toThrow(/REMINDER_RETENTION_DAYS: must be/);
    }
  });
});
