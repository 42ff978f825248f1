import path from 'node:path';

/**
 * Components import each other through their index.ts, and some of those imports form cycles (users → schools →
 * regions → settings → reminders → assignments → users). A cycle is harmless only while nothing reads an export of
 * a file that is still loading: whichever component a program or a test loads first, the app must load.
 */
const dir = path.join(__dirname, '../../../src/components');

test.each(['users', 'schools', 'regions', 'settings', 'training', 'sessions'])('when %s is the first component loaded, then every import it reaches is ready', (name) => {
  expect(() =>
    jest.isolateModules(() => {
      require(path.join(dir, name, 'index.ts'));
    }),
  ).not.toThrow();
}, 120_000);
