import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../../helpers/app';
import { prepareTrainingContent } from '../../../src/components/training';
import { configureLogger } from '../../../src/shared/logger';

export type E2EServer = { baseUrl: string; testApp: TestApp; close(): Promise<void> };

/**
 * The app in-process on a random loopback port with the in-memory embedded database.
 * The socket is bound first so BASE_URL (used in certificate verify links) is the real address,
 * then the app built by startTestApp() serves it — exactly what app.listen(0, '127.0.0.1') does.
 */
export async function startE2EServer(): Promise<E2EServer> {
  configureLogger('silent');
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  let testApp: TestApp;
  try {
    testApp = await startTestApp({ BASE_URL: baseUrl });
    await prepareTrainingContent();
  } catch (err) {
    server.close();
    throw err;
  }
  server.on('request', testApp.app);
  return {
    baseUrl,
    testApp,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await testApp.close();
    },
  };
}
