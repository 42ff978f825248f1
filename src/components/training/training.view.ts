import {
  OUTCOME_POINTS,
  fillPlaceholders,
  renderInline,
  renderLabel,
  renderText,
  type BilingualText,
  type DistrictContentSettings,
  type Lang,
  type LoadedModuleVersion,
  type Outcome,
  type Scenario,
  type Source,
  type TrainingModuleContent,
} from '../content';
import type { CounselReviewView } from '../counsel-reviews';
import type { AttemptView } from './play.service';
import { encodePosition, findChoice, locate } from './training.progress';

/**
 * Content → what the views print. Every `*Html` field is the content renderer's sanitized output (safe for
 * `<%-`); everything else is plain text for `<%=`.
 */

// Rendered HTML per district settings object (a new object whenever the settings change), so a step
// renders Markdown once per text and district instead of on every request.
const rendered = new WeakMap<DistrictContentSettings, Map<string, string>>();

function memo(settings: DistrictContentSettings, key: string, render: () => string): string {
  let byText = rendered.get(settings);
  if (!byText) {
    byText = new Map();
    rendered.set(settings, byText);
  }
  let html = byText.get(key);
  if (html === undefined) {
    html = render();
    byText.set(key, html);
  }
  return html;
}

export type Renderer = Readonly<{
  lang: Lang;
  block(text: BilingualText): string;
  inline(text: BilingualText): string;
  plain(text: BilingualText): string;
  /** Inline text for an answer choice's `<label>`: phone numbers are not links there (renderLabel). */
  label(text: BilingualText): string;
  /** Block text as phrasing content (a `<legend>` may not hold `<p>` or lists): blocks become spans. */
  legend(text: BilingualText): string;
}>;

const BLOCK_TAG = /<(\/?)(p|ul|ol|li|blockquote)>/g;

export function toPhrasing(html: string): string {
  return html.replace(BLOCK_TAG, (_whole, close: string, tag: string) => (close ? '</span>' : `<span class="md-${tag}">`)).trim();
}

export function createRenderer(settings: DistrictContentSettings, lang: Lang): Renderer {
  return {
    lang,
    block: (text) => memo(settings, `b\u0000${text[lang]}`, () => renderText(text[lang], settings)),
    inline: (text) => memo(settings, `i\u0000${text[lang]}`, () => renderInline(text[lang], settings)),
    plain: (text) => fillPlaceholders(text[lang], settings),
    label: (text) => memo(settings, `c\u0000${text[lang]}`, () => renderLabel(text[lang], settings)),
    legend: (text) => memo(settings, `l\u0000${text[lang]}`, () => toPhrasing(renderText(text[lang], settings))),
  };
}

export type ModuleHeader = Readonly<{
  slug: string;
  version: number;
  title: string;
  summary: string;
  estimatedMinutes: number;
  currentAsOf: string;
  jurisdiction: string;
  scenarioCount: number;
  passMark: number;
}>;

export function moduleHeader(module: LoadedModuleVersion, r: Renderer): ModuleHeader {
  const { content } = module;
  return {
    slug: module.slug,
    version: module.version,
    title: r.plain(content.title),
    summary: r.plain(content.summary),
    estimatedMinutes: content.estimatedMinutes,
    currentAsOf: formatIsoDate(content.currentAsOf, r.lang),
    jurisdiction: content.jurisdiction,
    scenarioCount: content.scenarios.length,
    passMark: content.passMark,
  };
}

export type ChoiceView = Readonly<{ id: string; labelHtml: string }>;

export type FeedbackView = Readonly<{
  promptHtml: string;
  chosenHtml: string;
  outcome: Outcome;
  feedbackHtml: string;
  sources: readonly Source[];
  /** The best choices, shown when the learner chose something else. */
  bestHtml: readonly string[];
}>;

export type StepView = Readonly<{
  kind: 'narrative' | 'decision' | 'end' | 'feedback';
  step: number;
  /** Where the page was rendered (the form's `at`): lets the move be stored without reading the attempt first. */
  at: string;
  scenarioNumber: number;
  scenarioTitle: string;
  settingHtml: string;
  isLastScenario: boolean;
  textHtml?: string;
  /**
   * A decision's lead-in: the narrative the learner read on the pages just before it (since the scenario began
   * or since their previous decision in it), shown again above the question so the choice is never made
   * without the situation — after a resume, a language switch or with a screen reader.
   */
  leadInHtml?: readonly string[];
  /** The prompt as phrasing content, so it can be the decision fieldset's legend (the group's name). */
  promptLegendHtml?: string;
  choices?: readonly ChoiceView[];
  feedback?: FeedbackView;
  decisionsSoFar: number;
}>;

/**
 * The page for the attempt's current position (not for the results phase). `content` is what the attempt
 * plays (an update attempt: only its scenarios; play.service PlayState.content).
 */
export function stepView(module: LoadedModuleVersion, attempt: AttemptView, r: Renderer, content: TrainingModuleContent = module.content): StepView {
  const { position } = attempt;
  const here = locate(content, position);
  if (!here) throw new Error(`attempt ${attempt.id} points at a node missing from ${module.file}`);
  const { scenario, node } = here;
  const base = {
    step: position.step,
    at: encodePosition(attempt.moduleVersion, position, attempt.updateFrom),
    scenarioNumber: position.scenarioIndex + 1,
    scenarioTitle: r.plain(scenario.title),
    settingHtml: r.inline(scenario.setting),
    isLastScenario: position.scenarioIndex === content.scenarios.length - 1,
    decisionsSoFar: attempt.decisions.length,
  };
  if (position.phase === 'feedback' && node.type === 'decision') {
    const choice = position.choiceId === undefined ? undefined : findChoice(node, position.choiceId);
    if (!choice) throw new Error(`attempt ${attempt.id} shows feedback for an unknown choice`);
    const cited = new Set(choice.facts);
    return {
      ...base,
      kind: 'feedback',
      feedback: {
        promptHtml: r.block(node.prompt),
        chosenHtml: r.inline(choice.label),
        outcome: choice.outcome,
        feedbackHtml: r.block(choice.feedback),
        sources: module.content.sources.filter((source) => cited.has(source.id)),
        bestHtml: choice.outcome === 'best' ? [] : node.choices.filter((c) => c.outcome === 'best').map((c) => r.inline(c.label)),
      },
    };
  }
  if (node.type === 'decision') {
    return {
      ...base,
      kind: 'decision',
      leadInHtml: leadIn(scenario, position.nodeId, attempt.decisions).map((text) => r.block(text)),
      textHtml: node.text ? r.block(node.text) : undefined,
      promptLegendHtml: r.legend(node.prompt),
      choices: node.choices.map((choice) => ({ id: choice.id, labelHtml: r.label(choice.label) })),
    };
  }
  return { ...base, kind: node.type, textHtml: r.block(node.text) };
}

/**
 * The narrative texts on the learner's way to decision `nodeId`: from the scenario's start, or from where their
 * last choice in this scenario led, along the narratives' `next` until the decision. Narratives have one `next`,
 * so the way is a straight line; anything else (a path that does not arrive here) gives no lead-in.
 */
function leadIn(scenario: Scenario, nodeId: string, decisions: AttemptView['decisions']): BilingualText[] {
  const last = decisions.findLast((decision) => decision.scenarioId === scenario.id);
  const from = last === undefined ? undefined : scenario.nodes[last.nodeId];
  let next: string | undefined = last === undefined ? scenario.start : from?.type === 'decision' ? findChoice(from, last.choiceId)?.next : undefined;
  const texts: BilingualText[] = [];
  while (next !== undefined && next !== nodeId && Object.hasOwn(scenario.nodes, next)) {
    const node: Scenario['nodes'][string] = scenario.nodes[next];
    if (node.type !== 'narrative' || texts.length >= Object.keys(scenario.nodes).length) return [];
    texts.push(node.text);
    next = node.next;
  }
  return next === nodeId ? texts : [];
}

export type ResultsView = Readonly<{
  score: number;
  isPassed: boolean;
  passMark: number;
  counts: Readonly<Record<Outcome, number>>;
  takeawaysHtml: readonly string[];
}>;

export function resultsView(module: LoadedModuleVersion, attempt: AttemptView, r: Renderer): ResultsView {
  const counts: Record<Outcome, number> = { best: 0, acceptable: 0, wrong: 0 };
  for (const decision of attempt.decisions) counts[decision.outcome] += 1;
  return {
    score: attempt.score ?? 0,
    isPassed: attempt.status === 'passed',
    passMark: module.content.passMark,
    counts,
    takeawaysHtml: module.content.takeaways.map((takeaway) => r.block(takeaway)),
  };
}

/** Points of an outcome, for "2 of 2 points" style labels. */
export function pointsOf(outcome: Outcome): number {
  return OUTCOME_POINTS[outcome];
}

const LOCALES: Record<Lang, string> = { en: 'en-US', es: 'es-US' };
const formatters = new Map<string, Intl.DateTimeFormat>();

function dateFormatter(lang: Lang, timeZone: string): Intl.DateTimeFormat {
  const key = `${lang} ${timeZone}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'long', timeZone });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** A calendar date of the content (YYYY-MM-DD) in words, e.g. "November 1, 2026" / "1 de noviembre de 2026". */
export function formatIsoDate(isoDate: string, lang: Lang): string {
  return dateFormatter(lang, 'UTC').format(new Date(`${isoDate}T00:00:00Z`));
}

/**
 * The notice under a module (module page, card, group session, certificate): "not legal advice", and whether
 * the district recorded its counsel's review of this version — never a claim of review that was not recorded.
 */
export function counselNotice(review: CounselReviewView | undefined, lang: Lang, t: (key: string, options?: Record<string, unknown>) => string): string {
  return review ? t('counselReviews.notice.reviewed', { reviewer: review.reviewer, date: formatIsoDate(review.reviewedOn, lang) }) : t('counselReviews.notice.pending');
}

/** An instant as a date in the district's time zone (certificates and statuses show the district's calendar day). */
export function formatDate(date: Date, lang: Lang, timeZone: string): string {
  return dateFormatter(lang, timeZone).format(date);
}
