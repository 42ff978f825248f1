import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareTrainingContent, TrainingModule } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { FIXTURE_MODULES } from './player.helpers';

let t: TestApp;
let workDir: string;
let modulesDir: string;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await TrainingModule.deleteMany({});
  workDir = await mkdtemp(path.join(tmpdir(), 'sst-content-'));
  modulesDir = path.join(workDir, 'modules');
  await cp(FIXTURE_MODULES, modulesDir, { recursive: true });
});
afterEach(async () => rm(workDir, { recursive: true, force: true }));

const basics = () => path.join(modulesDir, 'fixture-basics', 'v1.yaml');

describe('prepareTrainingContent', () => {
  test('when every file is valid, then each version is recorded once with its hash and the catalog is returned', async () => {
    const catalog = await prepareTrainingContent(modulesDir);
    await prepareTrainingContent(modulesDir);

    expect(catalog.listLatest().map((m) => m.slug)).toEqual(['fixture-basics', 'fixture-office']);
    const records = await TrainingModule.find({}).sort({ slug: 1 }).lean();
    expect(records.map((r) => [r.slug, r.version])).toEqual([
      ['fixture-basics', 1],
      ['fixture-office', 1],
    ]);
    expect(records[0].contentHash).toBe(catalog.get('fixture-basics', 1)?.contentHash);
    expect(records[0].title).toEqual({ en: 'Fixture basics', es: 'Conceptos básicos de prueba' });
  });

  test('when a published file is edited in place, then start-up is refused with how to publish the change', async () => {
    await prepareTrainingContent(modulesDir);
    const source = await readFile(basics(), 'utf8');
    await writeFile(basics(), source.replace('Two visitors arrive at the counter.', 'Three visitors arrive.'));

    await expect(prepareTrainingContent(modulesDir)).rejects.toThrow(
      'modules/fixture-basics/v1.yaml changed after publication; publish it as v2 with a changelog line',
    );
    expect((await TrainingModule.findOne({ slug: 'fixture-basics' }).lean())?.contentHash).not.toBe('');
  });

  test('when files are invalid, then start-up is refused listing every file, path and reason, and nothing is recorded', async () => {
    const source = await readFile(basics(), 'utf8');
    await writeFile(basics(), source.replace('next: second\n          - id: stall', 'next: nowhere\n          - id: stall'));
    const office = path.join(modulesDir, 'fixture-office', 'v1.yaml');
    await writeFile(office, (await readFile(office, 'utf8')).replace('passMark: 50', 'passMark: 500'));

    const error = await prepareTrainingContent(modulesDir).then(
      () => undefined,
      (err: unknown) => err as Error,
    );

    expect(error?.message).toContain('modules/fixture-basics/v1.yaml: scenarios[0].nodes.first.choices[0].next: "nowhere" is not a node of scenario "front-desk"');
    expect(error?.message).toMatch(/modules\/fixture-office\/v1\.yaml: passMark: must be 1–100/);
    expect(await TrainingModule.countDocuments({})).toBe(0);
  });

  test('when a published version’s file is removed, then start-up is refused', async () => {
    await prepareTrainingContent(modulesDir);
    await rm(path.join(modulesDir, 'fixture-office'), { recursive: true });

    await expect(prepareTrainingContent(modulesDir)).rejects.toThrow('modules/fixture-office/v1.yaml was published and is missing');
  });
});
