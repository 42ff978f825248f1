import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'sst-xapi-config-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('XAPI_SECRET_KEY', () => {
  test('when it is 32 bytes as hex or base64, then the key is those bytes', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ NODE_ENV: 'test', XAPI_SECRET_KEY: hex }).xapiSecretKey?.toString('hex')).toBe(hex);
    const base64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ NODE_ENV: 'test', XAPI_SECRET_KEY: base64 }).xapiSecretKey).toEqual(Buffer.alloc(32, 7));
  });

  test('when it is too short or not hex/base64, then start-up is refused naming it', () => {
    for (const value of ['secret', 'ab'.repeat(16), 'z'.repeat(64)]) {
      let problems: string[] = [];
      try {
        loadConfig({ NODE_ENV: 'test', XAPI_SECRET_KEY: value });
      } catch (err) {
        problems = (err as ConfigError).problems;
      }
      expect(problems).toEqual([expect.stringMatching(/^XAPI_SECRET_KEY: must be 32 random bytes/)]);
    }
  });

  test('when it is unset, then production and test have none (xAPI unavailable), and development generates one kept under DATA_DIR', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).xapiSecretKey).toBeUndefined();
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir }).xapiSecretKey;
    expect(first).toHaveLength(32);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir }).xapiSecretKey).toEqual(first);
    const file = path.join(dataDir, 'xapi-secret-key');
    expect(Buffer.from(readFileSync(file, 'utf8'), 'base64')).toEqual(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('when the development key file is damaged, then start-up is refused naming the file', () => {
    writeFileSync(path.join(dataDir, 'xapi-secret-key'), 'short');
    expect(() => loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir })).toThrow(/xapi-secret-key: not a 32-byte key/);
  });
});
