import type { Types } from 'mongoose';
import { Attempt, Completion } from '../../../src/components/completions';
import { readdirSync } from 'node:fs';
import { DEFAULT_MODULES_DIR, getCatalog, prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { getPlay, postMove, startModule, type PlayPage } from './player.helpers';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(); // the repository's modules/
});
afterAll(async () => t.close());

/** The best choice at the learner's current node, read from the module itself (the page does not reveal it). */
async function bestChoice(userId: Types.ObjectId, slug: string): Promise<string> {
  const attempt = await Attempt.findOne({ user: userId, moduleSlug: slug, status: 'in_progress' }).lean();
  const module = getCatalog().get(slug, attempt!.moduleVersion)!;
  const node = module.content.scenarios[attempt!.position!.scenarioIndex].nodes[attempt!.position!.nodeId];
  if (node.type !== 'decision') throw new Error(`not at a decision: ${attempt!.position!.nodeId}`);
  return node.choices.find((choice) => choice.outcome === 'best')!.id;
}

async function playBest(agent: Agent, userId: Types.ObjectId, slug: string): Promise<{ last: PlayPage; pages: number }> {
  for (let pages = 1; pages < 300; pages += 1) {
    const page = await getPlay(agent, slug);
    expect(page.status).toBe(200);
    // Every page fully rendered: placeholders filled, no raw Markdown or template leftovers.
    expect(page.html).not.toMatch(/\{\{|\}\}|\*\*|undefined|\[object Object\]/);
    if (page.kind === 'results') return { last: page, pages };
    const choice = page.kind === 'decision' ? await bestChoice(userId, slug) : undefined;
    expect((await postMove(agent, slug, page, choice)).status).toBe(303);
  }
  throw new Error(`${slug} did not end`);
}

// One test per module and language (not one per language over every module): each plays a whole module page by page.
const SLUGS = readdirSync(DEFAULT_MODULES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const CASES = (['en', 'es'] as const).flatMap((lang) => SLUGS.map((slug) => [lang, slug] as const));

describe('the repository’s modules', () => {
  test('when the content is loaded, then every module folder is played below (at its latest version)', () => {
    expect(SLUGS.length).toBeGreaterThanOrEqual(1);
    expect(getCatalog().listLatest().map((m) => m.slug).sort()).toEqual(SLUGS);
  });

  test.each(CASES)('when a learner plays the latest version with the best choices (%s, %s), then it passes at 100%% with a completion', async (lang, slug) => {
    const district = await createDistrict();
    const school = await createSchool(district);
    const user = await createUser(district, { schools: [school], jobTitle: 'front_office', preferredLanguage: lang });
    const agent = await signIn(t.app, user.email);
    const module = getCatalog().getLatest(slug)!;

    await startModule(agent, module.slug);
    const { last } = await playBest(agent, user._id, module.slug);

    expect(last.html).toContain(lang === 'en' ? 'You passed' : 'Aprobó');
    expect(last.html).toContain(lang === 'en' ? 'Your score: 100%' : 'Su calificación: 100 %');
    expect(await Completion.countDocuments({ user: user._id, moduleSlug: module.slug, moduleVersion: module.version, score: 100 })).toBe(1);
  });
});
