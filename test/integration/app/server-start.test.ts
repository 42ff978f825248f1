import net from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { loadConfig } from '../../../src/config';
import { startServer } from '../../../src/server';

// The real start-up (src/server.ts): Express 5 calls app.listen's callback on an error as well, so a port
// already held by another process must not be mistaken for a listening server.
const configFor = (port: number) => loadConfig({ NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', BASE_URL: 'https://training.start.example' });

test('when the port is already held by another process, then start-up fails with EADDRINUSE and a later start works', async () => {
  const sockets = new Set<net.Socket>();
  const holder = net.createServer((socket) => {
    sockets.add(socket);
    socket.end('HTTP/1.1 418 Held\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    await expect(startServer(configFor(port))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // What answers on that port is still the other process, not this app.
    expect((await request(`http://127.0.0.1:${port}`).get('/healthz')).status).toBe(418);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => holder.close(resolve));
  }
  // Everything the failed start opened was closed again: a new start on a free port runs and stops cleanly.
  const running = await startServer(configFor(0));
  try {
    // Printed as localhost (the default BASE_URL's host), not 127.0.0.1: SSO posts and LTI launches come back to
    // BASE_URL, and a browser on another host name would not send them its cookies.
    expect(running.url).toMatch(/^http:\/\/localhost:\d+$/);
    expect((await request(running.url).get('/healthz')).status).toBe(200);
  } finally {
    await running.close();
  }
});
