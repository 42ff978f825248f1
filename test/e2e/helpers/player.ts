/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, Page } from 'playwright-core';
import { newContext } from './browser';
import { signIn } from './auth';
import type { Outcome } from '../../../src/components/content';
import { availableOutcomes, decisionKeys, pickChoice, type DecisionKey } from './content';
import { focusInfo, hasVisibleFocus, navigating, tabTo } from './keyboard';

export type StepKind = 'narrative' | 'decision' | 'feedback' | 'end' | 'results';

export type StepRecord = {
  kind: StepKind;
  heading: string;
  /** Decision: the choice made and its outcome in the answer key. Feedback: the outcome the page shows. */
  choiceId?: string;
  outcome?: Outcome;
  /** What had focus when the step's page loaded (the new content's heading after JS moved it). */
  focusOnLoad: string;
};

export type PlayOptions = {
  /** Only the keyboard: Tab, arrow keys within a radio group, Space, Enter. Otherwise clicks. */
  keyboard: boolean;
  /** The outcome to pick at the n-th decision (0-based) among those offered; default best. */
  strategy?: (decisionIndex: number, available: Outcome[]) => Outcome;
  /** When resuming on a feedback page: the outcome of the decision made before. */
  previousOutcome?: Outcome;
  /** Stop (without acting) when this returns true for the step now shown. */
  stopWhen?: (step: { kind: StepKind; decisionIndex: number; heading: string }) => boolean;
  /** Called on every step page before acting (screenshots, axe). */
  onStep?: (page: Page, step: { kind: StepKind; decisionIndex: number }) => Promise<void>;
  maxSteps?: number;
};

export type PlayResult = { steps: StepRecord[]; problems: string[]; decisionsMade: number; stoppedAt?: StepKind };

/** What the play page shows now. */
export async function currentStep(page: Page): Promise<{ kind: StepKind; heading: string; offered: string[] }> {
  const { kind, heading, offered } = await stepSnapshot(page);
  return { kind, heading, offered };
}

/** The step, what has focus, and (on feedback) the outcome shown and the length of its explanation: one round trip. */
async function stepSnapshot(page: Page): Promise<{ kind: StepKind; heading: string; offered: string[]; focusId: string; focusTag: string; shownOutcome?: string; whyLength: number }> {
  return page.evaluate(() => {
    const heading = document.getElementById('step-heading')?.textContent?.trim().replace(/\s+/g, ' ') ?? '';
    const form = document.querySelector('main form[action$="/play"]');
    const offered = Array.from(document.querySelectorAll<HTMLInputElement>('main input[name=choice]')).map((i) => i.value);
    let kind: 'narrative' | 'decision' | 'feedback' | 'end' | 'results' = 'narrative';
    if (!form || !document.getElementById('step-heading')) kind = 'results';
    else if (offered.length) kind = 'decision';
    else if (document.querySelector('main section.feedback')) kind = 'feedback';
    // The end of a scenario: its heading is "End of scenario n" / "Fin del escenario n".
    else if (/^(End of scenario|Fin del escenario)\b/.test(heading)) kind = 'end';
    const feedback = document.querySelector('main section.feedback');
    const texts = feedback ? feedback.querySelectorAll('.content-text') : [];
    const why = texts.length ? (texts[texts.length - 1] as HTMLElement).innerText.trim() : '';
    const active = document.activeElement ?? document.body;
    return {
      kind,
      heading,
      offered,
      focusId: active.id,
      focusTag: `<${active.tagName.toLowerCase()}${active.id ? `#${active.id}` : ''}>`,
      shownOutcome: /outcome-(best|acceptable|wrong)/.exec(feedback?.className ?? '')?.[1],
      whyLength: why.length,
    };
  });
}

/** From a module's overview page: start or resume, by keyboard or click. */
export async function startFromOverview(page: Page, keyboard: boolean): Promise<void> {
  const button = 'main form[action$="/start"] button[type=submit]';
  if (keyboard) {
    await tabTo(page, button);
    await navigating(page, () => page.keyboard.press('Enter'));
  } else {
    await navigating(page, () => page.click(button));
  }
  if (!/\/play$/.test(new URL(page.url()).pathname)) throw new Error(`starting the module led to ${page.url()}, not its player`);
}

async function submitStep(page: Page, keyboard: boolean): Promise<void> {
  const button = 'main form[action$="/play"] button[type=submit]';
  if (keyboard) {
    await tabTo(page, button);
    await navigating(page, () => page.keyboard.press('Enter'));
  } else {
    await navigating(page, () => page.click(button));
  }
}

/** Selects a radio by keyboard: Tab into the group, then arrow keys until the wanted choice is checked. */
async function chooseWithKeyboard(page: Page, choiceId: string, offered: string[]): Promise<void> {
  await tabTo(page, 'main input[name=choice]');
  for (let i = 0; i <= offered.length; i++) {
    const state = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement;
      return { value: el.value, checked: el.checked, name: el.name };
    });
    if (state.name !== 'choice') throw new Error(`focus left the choices (${state.name})`);
    if (state.value === choiceId) {
      if (!state.checked) await page.keyboard.press('Space');
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`could not reach choice ${choiceId} with the arrow keys`);
}

/**
 * Plays the module from the current play page until the results page (or stopWhen), checking on each
 * step that focus landed on the new content's heading, that the focus indicator is visible on every
 * stop used, and on each feedback page that the outcome shown matches the answer key.
 */
export async function playModule(page: Page, slug: string, options: PlayOptions, expectFocusMove = true): Promise<PlayResult> {
  const keys: DecisionKey[] = await decisionKeys(slug);
  const steps: StepRecord[] = [];
  const problems: string[] = [];
  let decisionIndex = 0;
  let lastOutcome: Outcome | undefined = options.previousOutcome;
  for (let n = 0; n < (options.maxSteps ?? 200); n++) {
    const step = await stepSnapshot(page);
    const record: StepRecord = { kind: step.kind, heading: step.heading, focusOnLoad: step.focusTag };
    steps.push(record);
    if (expectFocusMove && step.focusId !== 'step-heading') {
      problems.push(`step ${n} (${step.kind} "${step.heading}"): focus on load is ${step.focusTag}, not the new content's heading`);
    }
    if (options.stopWhen?.({ kind: step.kind, decisionIndex, heading: step.heading })) return { steps, problems, decisionsMade: decisionIndex, stoppedAt: step.kind };
    await options.onStep?.(page, { kind: step.kind, decisionIndex });
    if (step.kind === 'results') return { steps, problems, decisionsMade: decisionIndex };

    if (step.kind === 'feedback') {
      const shown = step.shownOutcome;
      record.outcome = shown as Outcome | undefined;
      if (lastOutcome !== undefined && shown !== lastOutcome) problems.push(`feedback after decision ${decisionIndex} shows "${shown}", expected "${lastOutcome}"`);
      if (step.whyLength < 20) problems.push(`feedback after decision ${decisionIndex} has no explanation`);
      await submitStep(page, options.keyboard);
    } else if (step.kind === 'decision') {
      const want = options.strategy?.(decisionIndex, availableOutcomes(keys, step.offered)) ?? 'best';
      const choiceId = pickChoice(keys, step.offered, want);
      record.choiceId = choiceId;
      record.outcome = want;
      lastOutcome = want;
      if (options.keyboard) {
        await chooseWithKeyboard(page, choiceId, step.offered);
        const f = await focusInfo(page);
        if (!hasVisibleFocus(f)) problems.push(`decision ${decisionIndex}: the focused choice shows no focus indicator`);
      } else {
        await page.check(`#choice-${choiceId}`);
      }
      decisionIndex++;
      await submitStep(page, options.keyboard);
    } else {
      await submitStep(page, options.keyboard);
    }
  }
  throw new Error(`module ${slug} did not reach its results within ${options.maxSteps ?? 200} steps`);
}

/** Setup for the compliance journeys: the learner really plays the module (clicks, best choices) in a context of their own. */
export async function completeModuleAs(browser: Browser, baseURL: string, email: string, slug: string): Promise<void> {
  const context = await newContext(browser, baseURL);
  try {
    const page = await context.newPage();
    await signIn(page, email);
    await page.goto(`/training/${slug}`);
    await startFromOverview(page, false);
    await playModule(page, slug, { keyboard: false }, false);
  } finally {
    await context.close();
  }
}
