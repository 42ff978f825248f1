import { startEmbeddedMongo } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const dataDir = arg('dbpath');
  const port = Number(arg('port') ?? 27017);
  const host = arg('bind_ip') ?? arg('host') ?? '127.0.0.1';
  const ttl = arg('ttl-interval-ms');
  const server = await startEmbeddedMongo({ dataDir, port, host, ttlIntervalMs: ttl ? Number(ttl) : undefined });
  process.stdout.write(`${server.uri}\n`);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`embedded-mongo: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
