import MarkdownIt from 'markdown-it';
import { toTelHref } from './phone-link';
import { PLACEHOLDER_PATTERN, isPhonePlaceholder, resolvePlaceholder, type DistrictContentSettings } from './placeholders';

/**
 * Module text → HTML that is safe to print with `<%-` in EJS:
 * - markdown-it runs with `html: false`, so any `<tag>` in the text comes out escaped;
 * - links, images and autolinks are off (content carries no URLs in running text; sources list them);
 * - placeholders are swapped for inert sentinel tokens before Markdown runs and replaced by the
 *   HTML-escaped setting values after it, so a setting value can neither inject markup nor be read
 *   as Markdown;
 * - a phone placeholder whose value can be dialled becomes `<a href="tel:…">value</a>`: the href holds only
 *   "+", digits and ";ext=" (toTelHref), the visible value is escaped like any other.
 */

const markdown = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false, breaks: false });
markdown.disable(['link', 'image', 'autolink', 'html_inline', 'html_block']);

// Private-use characters: never produced by markdown-it, stripped from the input so text cannot forge them.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SENTINEL = /\uE000(\d+)\uE001/g;
const STRAY_SENTINEL_CHARS = /[\uE000\uE001]/g;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

type FilledValue = { text: string; telHref?: string };

type RenderOptions = { isInline: boolean; canLinkPhones: boolean };

/**
 * Swaps each placeholder for a sentinel and resolves its value against the original text (so sentence
 * starts are detected before Markdown changes anything); unknown placeholders are kept as written.
 * A phone's link is made from the value as shown, so the number dialled is the number read.
 */
function withSentinels(text: string, settings: DistrictContentSettings, canLinkPhones: boolean): { masked: string; values: FilledValue[] } {
  const clean = text.replace(STRAY_SENTINEL_CHARS, '');
  const values: FilledValue[] = [];
  const masked = clean.replace(PLACEHOLDER_PATTERN, (whole: string, key: string, offset: number) => {
    const value = resolvePlaceholder(clean, offset, key, settings);
    const telHref = value !== undefined && canLinkPhones && isPhonePlaceholder(key) ? toTelHref(value) : undefined;
    values.push({ text: value ?? whole, telHref });
    return `${OPEN}${values.length - 1}${CLOSE}`;
  });
  return { masked, values };
}

function filledHtml(value: FilledValue | undefined): string {
  if (!value) return '';
  const text = escapeHtml(value.text);
  return value.telHref ? `<a href="${escapeHtml(value.telHref)}">${text}</a>` : text;
}

function render(text: string, settings: DistrictContentSettings, options: RenderOptions): string {
  const { masked, values } = withSentinels(text, settings, options.canLinkPhones);
  const html = options.isInline ? markdown.renderInline(masked) : markdown.render(masked);
  return html.replace(SENTINEL, (_whole, index: string) => filledHtml(values[Number(index)]));
}

/** Block text (paragraphs, lists, emphasis) → safe HTML. */
export function renderText(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, { isInline: false, canLinkPhones: true });
}

/** One-line text (a scenario setting, an answer shown back in feedback) → safe inline HTML, no `<p>` wrapper. */
export function renderInline(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, { isInline: true, canLinkPhones: true });
}

/**
 * One-line text inside a form control's `<label>` (an answer choice): like renderInline, but phone numbers
 * stay text. A link there would take the tap meant to choose the answer — and dial the number mid-training.
 */
export function renderLabel(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, { isInline: true, canLinkPhones: false });
}
