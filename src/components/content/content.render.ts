import MarkdownIt from 'markdown-it';
import { PLACEHOLDER_PATTERN, placeholderValue, type DistrictContentSettings } from './placeholders';

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

function withSentinels(text: string): { masked: string; values: string[] } {
  const values: string[] = [];
  const masked = text.replace(STRAY_SENTINEL_CHARS, '').replace(PLACEHOLDER_PATTERN, (whole, key: string) => {
    values.push(key);
    return `${OPEN}${values.length - 1}${CLOSE}`;
  });
  return { masked, values };
}

function restore(html: string, keys: string[], texts: string[], settings: DistrictContentSettings): string {
  return html.replace(SENTINEL, (_whole, index: string) => {
    const key = keys[Number(index)] ?? '';
    return escapeHtml(placeholderValue(key, settings) ?? texts[Number(index)] ?? '');
  });
}

function render(text: string, settings: DistrictContentSettings, isInline: boolean): string {
  const originals = Array.from(text.replace(STRAY_SENTINEL_CHARS, '').matchAll(PLACEHOLDER_PATTERN), (match) => match[0]);
  const { masked, values } = withSentinels(text);
  const html = isInline ? markdown.renderInline(masked) : markdown.render(masked);
  return restore(html, values, originals, settings);
}

/** Block text (paragraphs, lists, emphasis) → safe HTML. */
export function renderText(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, false);
}

/** One-line text (choice labels, titles) → safe inline HTML, no `<p>` wrapper. */
export function renderInline(text: string, settings: DistrictContentSettings): string {
  return render(text, settings, true);
}
