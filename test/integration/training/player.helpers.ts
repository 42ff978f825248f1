import path from 'node:path';
import type { Agent } from '../../helpers/session';
import { csrfFrom } from '../../helpers/session';

export const FIXTURE_MODULES = path.join(__dirname, '../../fixtures/modules');

export type PlayPage = {
  status: number;
  html: string;
  csrf: string;
  step: string | undefined;
  /** The position the page was rendered at (hidden field `at`), posted back as a browser does. */
  at: string | undefined;
  choices: string[];
  isResults: boolean;
  kind: 'decision' | 'continue' | 'results' | 'other';
};

/** Reads the player page the way a browser user sees it: the step hidden field, the radio values, the buttons. */
export function readPlayPage(status: number, html: string): PlayPage {
  const step = /name="step" value="(\d+)"/.exec(html)?.[1];
  const at = /name="at" value="([^"]+)"/.exec(html)?.[1];
  const choices = Array.from(html.matchAll(/type="radio" id="[^"]*" name="choice" value="([^"]+)"/g), (m) => m[1]);
  const isResults = html.includes('class="results ');
  const kind = isResults ? 'results' : choices.length > 0 ? 'decision' : step !== undefined ? 'continue' : 'other';
  let csrf = '';
  try {
    csrf = csrfFrom(html);
  } catch {
    csrf = '';
  }
  return { status, html, csrf, step, at, choices, isResults, kind };
}

export async function getPlay(agent: Agent, slug: string, query = ''): Promise<PlayPage> {
  const res = await agent.get(`/training/${slug}/play${query}`);
  return readPlayPage(res.status, res.text);
}

/** Posts the page's form as a browser would (`at` included unless `options.withoutAt`: a page rendered before it existed). */
export async function postMove(agent: Agent, slug: string, page: PlayPage, choice?: string, options: { withoutAt?: boolean; at?: string } = {}) {
  const body: Record<string, string> = { _csrf: page.csrf, step: page.step ?? '' };
  const at = options.at ?? page.at;
  if (at !== undefined && !options.withoutAt) body.at = at;
  if (choice !== undefined) body.choice = choice;
  return agent.post(`/training/${slug}/play`).type('form').send(body);
}

export async function startModule(agent: Agent, slug: string) {
  const overview = await agent.get(`/training/${slug}`);
  return agent.post(`/training/${slug}/start`).type('form').send({ _csrf: csrfFrom(overview.text) });
}

/**
 * Plays from the current position to the results page, picking a choice at every decision with `pick`
 * (given the radio values in page order). Returns the results page and the choices made.
 */
export async function playToResults(agent: Agent, slug: string, pick: (choices: string[], page: PlayPage) => string): Promise<{ page: PlayPage; picked: string[] }> {
  const picked: string[] = [];
  for (let guard = 0; guard < 200; guard += 1) {
    const page = await getPlay(agent, slug);
    if (page.status !== 200) throw new Error(`play page answered ${page.status}`);
    if (page.kind === 'results') return { page, picked };
    const choice = page.kind === 'decision' ? pick(page.choices, page) : undefined;
    if (choice !== undefined) picked.push(choice);
    const res = await postMove(agent, slug, page, choice);
    if (res.status !== 303) throw new Error(`move answered ${res.status}: ${res.text.slice(0, 200)}`);
  }
  throw new Error('the module did not end within 200 moves');
}
