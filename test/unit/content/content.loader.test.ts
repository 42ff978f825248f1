import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  ContentLoadError,
  createModuleCatalog,
  findEditedVersions,
  findNode,
  loadModuleCatalog,
  loadModules,
  parseModuleSource,
} from '../../../src/components/content';
import { buildValidModule } from './fixtures/module.fixture';

let dir: string;

beforeEach(async () => {
  dir = path.join(await mkdtemp(path.join(tmpdir(), 'content-')), 'modules');
  await mkdir(dir);
});

afterEach(async () => {
  await rm(path.dirname(dir), { recursive: true, force: true });
});

async function writeModule(slug: string, fileName: string, text: string): Promise<void> {
  await mkdir(path.join(dir, slug), { recursive: true });
  await writeFile(path.join(dir, slug, fileName), text);
}

function moduleYaml(overrides: Record<string, unknown> = {}): string {
  return stringify({ ...buildValidModule(), ...overrides });
}

describe('loadModules', () => {
  it('when a module file is valid, then it is loaded with the sha256 of its bytes', async () => {
    const text = moduleYaml();
    await writeModule('sample-module', 'v1.yaml', text);

    const { modules, problems } = await loadModules(dir);

    expect(problems).toEqual([]);
    expect(modules).toHaveLength(1);
    expect(modules[0]).toMatchObject({ slug: 'sample-module', version: 1, file: 'modules/sample-module/v1.yaml' });
    expect(modules[0]?.contentHash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(Object.isFrozen(modules[0]?.content.scenarios[0]?.nodes)).toBe(true);
  });

  it('when a file has a YAML syntax error, then the problem names the file and line', async () => {
    const text = ['slug: sample-module', 'version: 1', 'title:', '  en: Title', ' es: Título', 'passMark: 70', ''].join('\n');
    await writeModule('sample-module', 'v1.yaml', text);

    const { modules, problems } = await loadModules(dir);

    expect(modules).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'modules/sample-module/v1.yaml', path: '', line: 5 });
    expect(problems[0]?.reason).toBe('YAML syntax error: All mapping items must start at the same column');
  });

  it('when a map repeats a key, then it is a YAML error with the line of the repeat', () => {
    const text = ['slug: sample-module', 'version: 1', 'slug: again', ''].join('\n');

    const { problems } = parseModuleSource(text, 'v1.yaml');

    expect(problems).toHaveLength(1);
    expect(problems[0]?.line).toBe(3);
  });

  it('when the version inside differs from the file name, then version is reported with its line', async () => {
    await writeModule('sample-module', 'v2.yaml', moduleYaml());

    const { modules, problems } = await loadModules(dir);

    expect(modules).toEqual([]);
    expect(problems).toContainEqual({
      file: 'modules/sample-module/v2.yaml',
      path: 'version',
      line: 2,
      reason: "version 1 must equal the file name's version (v2.yaml)",
    });
  });

  it('when a YAML file is not named v<N>.yaml, then it is reported and skipped', async () => {
    await writeModule('sample-module', 'draft.yaml', moduleYaml());

    const { modules, problems } = await loadModules(dir);

    expect(modules).toEqual([]);
    expect(problems).toEqual([{ file: 'modules/sample-module/draft.yaml', path: '', reason: 'a module file must be named v<version>.yaml (e.g. v1.yaml)' }]);
  });

  it('when one file is broken, then the valid ones are still returned with the problems of the other', async () => {
    await writeModule('sample-module', 'v1.yaml', moduleYaml());
    await writeModule('sample-module', 'v2.yaml', moduleYaml({ version: 2, passMark: 101 }));

    const { modules, problems } = await loadModules(dir);

    expect(modules.map((m) => m.version)).toEqual([1]);
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      ['modules/sample-module/v2.yaml', 'passMark'],
    ]);
  });
});

describe('module catalog', () => {
  async function catalogOfTwoVersions() {
    const v2 = buildValidModule();
    v2.version = 2;
    v2.changelog.push({ version: 2, date: '2026-04-01', note: { en: 'Second.', es: 'Segunda.' } });
    await writeModule('sample-module', 'v1.yaml', moduleYaml());
    await writeModule('sample-module', 'v2.yaml', stringify(v2));
    await writeModule('another', 'v1.yaml', moduleYaml({ slug: 'another' }));
    return loadModuleCatalog(dir);
  }

  it('when two versions exist, then latest, all and get answer by slug and version', async () => {
    const catalog = await catalogOfTwoVersions();

    expect(catalog.listLatest().map((m) => `${m.slug}@${m.version}`)).toEqual(['another@1', 'sample-module@2']);
    expect(catalog.listAll().map((m) => `${m.slug}@${m.version}`)).toEqual(['another@1', 'sample-module@1', 'sample-module@2']);
    expect(catalog.getLatest('sample-module')?.version).toBe(2);
    expect(catalog.get('sample-module', 1)?.file).toBe('modules/sample-module/v1.yaml');
    expect(catalog.get('sample-module', 3)).toBeUndefined();
    expect(catalog.getLatest('unknown')).toBeUndefined();
  });

  it('when a published hash differs from the file, then that version is reported as edited in place', async () => {
    const catalog = await catalogOfTwoVersions();
    const v1 = catalog.get('sample-module', 1)!;
    const v2 = catalog.get('sample-module', 2)!;

    const edited = findEditedVersions(catalog, [
      { slug: 'sample-module', version: 1, contentHash: v1.contentHash },
      { slug: 'sample-module', version: 2, contentHash: 'f'.repeat(64) },
    ]);

    expect(edited).toEqual([{ slug: 'sample-module', version: 2, contentHash: 'f'.repeat(64), file: v2.file, actualHash: v2.contentHash }]);
  });

  it('when asked for a node, then it is found by scenario and node id and inherited keys are not nodes', async () => {
    const catalog = await catalogOfTwoVersions();
    const module = catalog.getLatest('sample-module')!;

    expect(findNode(module, 'front-desk', 'first')?.type).toBe('decision');
    expect(findNode(module, 'front-desk', 'toString')).toBeUndefined();
    expect(findNode(module, 'nope', 'first')).toBeUndefined();
  });

  it('when any file is invalid, then loadModuleCatalog throws with every problem', async () => {
    await writeModule('sample-module', 'v1.yaml', moduleYaml({ passMark: 0 }));

    await expect(loadModuleCatalog(dir)).rejects.toThrow(ContentLoadError);
    await expect(loadModuleCatalog(dir)).rejects.toThrow(/modules\/sample-module\/v1\.yaml: passMark: must be 1–100 \(line \d+\)/);
  });

  it('when the same slug and version are given twice, then the catalog refuses them', () => {
    const { module } = parseModuleSource(moduleYaml(), 'a.yaml');

    expect(() => createModuleCatalog([module!, module!])).toThrow(/loaded twice/);
  });
});

describe('repository modules', () => {
  it('when the foundations module is checked, then it has no problems', async () => {
    const file = path.resolve(__dirname, '../../../modules/foundations/v1.yaml');
    const bytes = await readFile(file);

    const { module, problems } = parseModuleSource(bytes, 'modules/foundations/v1.yaml', { slug: 'foundations', version: 1 });

    expect(problems).toEqual([]);
    expect(module?.content.scenarios.length).toBeGreaterThanOrEqual(3);
  });
});
