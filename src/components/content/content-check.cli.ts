import path from 'node:path';
import { formatProblem } from './content.catalog';
import { loadModules, type LoadedModuleVersion } from './content.loader';

/**
 * `npm run content:check [dir]`: validates every module file and prints each problem as
 * `file: path: reason`; exits 1 if there is any, else prints one line per module and exits 0.
 */

const DEFAULT_DIR = path.resolve(__dirname, '../../../modules');

function describe(module: LoadedModuleVersion): string {
  const { content } = module;
  const decisions = content.scenarios.reduce(
    (sum, scenario) => sum + Object.values(scenario.nodes).filter((node) => node.type === 'decision').length,
    0,
  );
  return `ok ${module.slug} v${module.version}: ${content.scenarios.length} scenarios, ${decisions} decisions, ~${content.estimatedMinutes} min, pass mark ${content.passMark}% (${module.file})`;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_DIR;
  const { modules, problems } = await loadModules(dir);
  for (const module of modules) process.stdout.write(`${describe(module)}\n`);
  for (const problem of problems) process.stdout.write(`${formatProblem(problem)}\n`);
  if (problems.length > 0) {
    process.stdout.write(`content check failed: ${problems.length} problem(s)\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`content check passed: ${modules.length} module version(s)\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
