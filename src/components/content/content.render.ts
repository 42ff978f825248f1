import MarkdownIt from 'markdown-it';
import { PLACEHOLDER_PATTERN, resolvePlaceholder, type DistrictContentSettings } from './placeholders';

/**
 * Module text → HTML that is safe to print with `<%-` in EJS:
 * - markdown-it runs with `html: false`, so any `<tag>` in the text comes out escaped;
 * - links, images and autolinks are off (content carries no URLs in running text; sources list them);
 * - placeholders are swapped for inert sentinel tokens before Markdown runs and replaced by the
 *   HTML-escaped setting values after it, so a setting value can neither inject markup nor be read
 *   as Markdown.
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

/**
 * Swaps each placeholder for a sentinel and resolves its value against the original text (so sentence
 * starts are detected before Markdown changes anything); unknown placeholders are kept as written.
 */
function withSentinels(text: string, settings: DistrictContentSettings): { masked: string; values: string[] } {
  const clean = text.replace(STRAY_SENTINEL_CHARS, '');
  const values: string[] = [];
  const masked = clean.replace(PLACEHOLDER_PATTERN, (whole: string, key: string, offset: number) => {
    values.push(resolvePlaceholder(clean, offset, key, settings) ?? whole);
    return `${OPEN}${values.length - 1}${CLOSE}`;
  });
  return { masked, values };
}

function render(text: string, settings: DistrictContentSettings, isInline: boolean): string {
  const { masked, values } = withSentinels(text, settings);
  const html = isInline ? markdown.renderInline(masked) : markdown.render(masked);
  return html.replace(SENTINEL, (_whole, index: string) => escapeHtml(values[Number(index)] ?? ''));
}

/** Block text (paragraphs, lists, emphasis) → safe HTML. */
export function renderText(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, false);
}

/** One-line text (choice labels, titles) → safe inline HTML, no `<p>` wrapper. */
export function renderInline(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, true);
}
