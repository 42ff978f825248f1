/**
 * `npm run bench -- <name>` runs bench/<name>.ts (its default export, or its top level).
 * Benchmarks report ratios against a baseline measured in the same run; they are not part of `npm test`.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

async function main(): Promise<void> {
  const available = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, ''));
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (names.length === 0) {
    process.stdout.write(`usage: npm run bench -- <${available.join('|')}>\n`);
    process.exit(2);
  }
  for (const name of names) {
    if (!available.includes(name)) {
      process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`);
      process.exit(2);
    }
    const mod = (await import(path.join(__dirname, `${name}.ts`))) as { default?: unknown; run?: unknown };
    const run = typeof mod.default === 'function' ? mod.default : typeof mod.run === 'function' ? mod.run : undefined;
    if (run) await (run as () => Promise<void>)();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
