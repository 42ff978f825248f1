import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadModules, validateModuleData, type ContentProblem } from '../../../src/components/content';
import { buildValidModule, type ModuleFixture } from './fixtures/module.fixture';

const FILE = 'modules/sample-module/v3.yaml';
const EXPECTED = { slug: 'sample-module', version: 3 };
const NOTE = { en: 'The phone call scenario now covers records requests.', es: 'El escenario de la llamada ahora trata las solicitudes de registros.' };

/** Version 3 of the sample module with one valid update path (from version 2: the phone call scenario). */
function version3(): ModuleFixture {
  const module = buildValidModule();
  module.version = 3;
  module.changelog.push({ version: 3, date: '2026-05-01', note: { en: 'Phone call revised.', es: 'Llamada revisada.' } });
  module.updates = [{ from: 2, scenarios: ['by-phone'], note: NOTE }];
  return module;
}

function problemsOf(mutate: (module: ModuleFixture) => void): ContentProblem[] {
  const module = version3();
  mutate(module);
  return validateModuleData(module, FILE, EXPECTED).problems;
}

describe('update paths (updates:) in a module version', () => {
  it('when the update path is valid, then the module loads with it', () => {
    const result = validateModuleData(version3(), FILE, EXPECTED);

    expect(result.problems).toEqual([]);
    expect(result.module?.updates).toEqual([{ from: 2, scenarios: ['by-phone'], note: NOTE }]);
  });

  it('when from is not earlier than the version, then it is reported at updates[i].from', () => {
    expect(problemsOf((m) => (m.updates![0]!.from = 3))).toEqual([{ file: FILE, path: 'updates[0].from', reason: 'version 3 is not earlier than this version (3)' }]);
  });

  it('when from is not a positive integer, then the schema reports it', () => {
    expect(problemsOf((m) => (m.updates![0]!.from = 0))).toEqual([{ file: FILE, path: 'updates[0].from', reason: 'must be an earlier version number' }]);
    expect(problemsOf((m) => (m.updates![0]!.from = 1.5))).toEqual([{ file: FILE, path: 'updates[0].from', reason: 'must be an earlier version number' }]);
  });

  it('when two update paths start from the same version, then the second is reported', () => {
    const problems = problemsOf((m) => m.updates!.push({ from: 2, scenarios: ['front-desk'], note: NOTE }));

    expect(problems).toEqual([{ file: FILE, path: 'updates[1].from', reason: 'an update from version 2 is declared more than once' }]);
  });

  it('when a listed scenario id is not a scenario of this version, then it is reported at its index', () => {
    const problems = problemsOf((m) => (m.updates![0]!.scenarios = ['by-phone', 'by-fax']));

    expect(problems).toEqual([{ file: FILE, path: 'updates[0].scenarios[1]', reason: '"by-fax" is not a scenario of this version' }]);
  });

  it('when a scenario is listed twice, then the repeat is reported', () => {
    const problems = problemsOf((m) => (m.updates![0]!.scenarios = ['by-phone', 'by-phone']));

    expect(problems).toEqual([{ file: FILE, path: 'updates[0].scenarios[1]', reason: 'scenario "by-phone" is listed more than once' }]);
  });

  it('when the scenario list is empty, then the schema reports it', () => {
    expect(problemsOf((m) => (m.updates![0]!.scenarios = []))).toEqual([
      { file: FILE, path: 'updates[0].scenarios', reason: 'must list at least one scenario id of this version' },
    ]);
  });

  it('when a listed scenario cannot reach the pass mark on its own, then it is reported (the whole module still can)', () => {
    const problems = problemsOf((m) => {
      for (const choice of m.scenarios[1]!.nodes['q1']!.choices!) choice.outcome = 'wrong';
    });

    expect(problems).toEqual([
      { file: FILE, path: 'updates[0].scenarios[0]', reason: 'scenario "by-phone" cannot reach the pass mark of 70% on its own (its best path scores 50%)' },
    ]);
  });

  it('when the note lacks its Spanish text, or a field is misspelled, then the schema reports it at its path', () => {
    expect(problemsOf((m) => (m.updates![0]!.note = { en: 'Changed.' } as never))).toEqual([{ file: FILE, path: 'updates[0].note.es', reason: 'the Spanish text is missing' }]);
    const typo = problemsOf((m) => ((m.updates![0] as Record<string, unknown>).scenario = ['by-phone']));
    expect(typo).toContainEqual({ file: FILE, path: 'updates[0].scenario', reason: 'unknown field "scenario" (typo?)' });
  });

  it('when the note holds an unknown placeholder or raw HTML, then the text checks report it', () => {
    const problems = problemsOf((m) => (m.updates![0]!.note = { en: 'Call {{nobody}}.', es: '<b>Cambio</b>' }));

    expect(problems).toEqual([
      { file: FILE, path: 'updates[0].note.en', reason: 'unknown placeholder {{nobody}}' },
      { file: FILE, path: 'updates[0].note.es', reason: 'raw HTML is not allowed (use the Markdown subset)' },
    ]);
  });

  it('when estimatedMinutes is outside 1–20, then it is reported', () => {
    expect(problemsOf((m) => (m.updates![0]!.estimatedMinutes = 0))).toEqual([{ file: FILE, path: 'updates[0].estimatedMinutes', reason: 'must be 1–20' }]);
  });
});

describe('loadModules: an update path names a version of the same folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'content-updates-')), 'modules');
    await mkdir(path.join(dir, 'sample-module'), { recursive: true });
  });
  afterEach(async () => rm(path.dirname(dir), { recursive: true, force: true }));

  it('when from names a version with no file, then the loader reports it with the file and path', async () => {
    const v1 = buildValidModule();
    const v3 = version3();
    await writeFile(path.join(dir, 'sample-module', 'v1.yaml'), stringify(v1));
    await writeFile(path.join(dir, 'sample-module', 'v3.yaml'), stringify(v3));

    const { problems, modules } = await loadModules(dir);

    expect(modules.map((m) => m.version)).toEqual([1, 3]);
    expect(problems).toEqual([{ file: 'modules/sample-module/v3.yaml', path: 'updates[0].from', reason: 'there is no version 2 of "sample-module" (no v2.yaml)' }]);
  });

  it('when from names a version present in the folder, then there is no problem', async () => {
    const v2 = buildValidModule();
    v2.version = 2;
    v2.changelog.push({ version: 2, date: '2026-04-01', note: { en: 'Typo fixed.', es: 'Errata corregida.' } });
    await writeFile(path.join(dir, 'sample-module', 'v1.yaml'), stringify(buildValidModule()));
    await writeFile(path.join(dir, 'sample-module', 'v2.yaml'), stringify(v2));
    await writeFile(path.join(dir, 'sample-module', 'v3.yaml'), stringify(version3()));

    const { problems, modules } = await loadModules(dir);

    expect(problems).toEqual([]);
    expect(modules.find((m) => m.version === 3)?.content.updates?.[0]?.from).toBe(2);
  });
});
