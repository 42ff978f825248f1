import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNonPublicAddress, NonPublicAddressError, outboundRequest, resolvesToPublicAddress } from '../../../src/shared/outbound-http';

describe('isNonPublicAddress', () => {
  test.each([
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:7f00:1',
    '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'not an address',
  ])('when the address is %s, then it is not public', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  test.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('when the address is %s, then it is public', (address) => {
    expect(isNonPublicAddress(address)).toBe(false);
  });
});

describe('outboundRequest to a server on this machine', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits += 1;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(100_000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const ask = (host: string, allowPrivateNetwork: boolean) =>
    outboundRequest(new URL(`http://${host}:${port}/`), { method: 'GET', timeoutMs: 5_000, maxBytes: 1_000, allowPrivateNetwork });

  test('when private networks are refused, then neither the literal address nor a name resolving to it is connected to', async () => {
    const before = hits;
    await expect(ask('127.0.0.1', false)).rejects.toBeInstanceOf(NonPublicAddressError);
    await expect(ask('localhost', false)).rejects.toBeInstanceOf(NonPublicAddressError);
    await expect(ask('[::ffff:127.0.0.1]', false)).rejects.toBeInstanceOf(NonPublicAddressError);
    expect(hits).toBe(before);
    expect(await resolvesToPublicAddress(new URL(`http://localhost:${port}/`))).toBe(false);
    expect(await resolvesToPublicAddress(new URL('http://169.254.169.254/latest/meta-data/'))).toBe(false);
  });

  test('when private networks are allowed, then the answer is read up to maxBytes', async () => {
    const answer = await ask('127.0.0.1', true);
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(1_000);
  });
});
