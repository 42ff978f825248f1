/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Page, Response } from 'playwright-core';

export type FocusInfo = {
  tag: string;
  id: string;
  text: string;
  href: string | null;
  name: string | null;
  type: string | null;
  outlineStyle: string;
  outlineWidth: string;
  boxShadow: string;
  outlineColor: string;
  /** Position in the document, to tell two identical links apart. */
  pos: string;
};

/** What has focus now, with the styles that make focus visible (and whether it matches `selector`). */
export async function focusInfo(page: Page, selector?: string): Promise<FocusInfo & { matches: boolean }> {
  return page.evaluate((sel) => {
    const el = (document.activeElement ?? document.body) as HTMLElement;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.innerText || (el as HTMLInputElement).value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 80),
      href: el.getAttribute('href'),
      name: el.getAttribute('name'),
      type: el.getAttribute('type'),
      outlineStyle: style.outlineStyle,
      outlineWidth: style.outlineWidth,
      boxShadow: style.boxShadow,
      outlineColor: style.outlineColor,
      pos: `${Math.round(r.x)},${Math.round(r.y + window.scrollY)}`,
      matches: sel ? el.matches(sel) : false,
    };
  }, selector);
}

export function describeFocus(f: FocusInfo): string {
  return `<${f.tag}${f.id ? `#${f.id}` : ''}${f.name ? ` name=${f.name}` : ''}${f.href ? ` href=${f.href}` : ''}> "${f.text}"`;
}

/**
 * A focused element shows a focus indicator: an outline that is drawn (style not none, width > 0, colour
 * not transparent) or a box-shadow with a visible colour and some blur or spread. Pico's resting
 * "rgba(0, 0, 0, 0) 0px 0px 0px 0px" shadow does not count.
 */
export function hasVisibleFocus(f: Pick<FocusInfo, 'outlineStyle' | 'outlineWidth' | 'boxShadow'> & { outlineColor?: string }): boolean {
  const transparent = (c: string | undefined) => !!c && (c === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(c));
  const outline = f.outlineStyle !== 'none' && parseFloat(f.outlineWidth) > 0 && !transparent(f.outlineColor);
  const shadow = visibleShadow(f.boxShadow);
  return outline || shadow;
}

/** True when some layer of a computed box-shadow has a non-transparent colour and a blur or spread. */
export function visibleShadow(boxShadow: string): boolean {
  if (!boxShadow || boxShadow === 'none') return false;
  // Layers are separated by commas outside parentheses.
  const layers = boxShadow.split(/,(?![^(]*\))/);
  return layers.some((layer) => {
    const color = /(rgba?\([^)]*\)|#[0-9a-f]{3,8}|[a-z]+)/i.exec(layer)?.[1] ?? '';
    if (color === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(color)) return false;
    const lengths = (layer.replace(/rgba?\([^)]*\)/, '').match(/-?\d*\.?\d+px/g) ?? []).map(parseFloat);
    const [, , blur = 0, spread = 0] = lengths;
    return blur > 0 || spread > 0;
  });
}


/**
 * Presses Tab (as a keyboard user would) until the focused element matches `selector`.
 * Fails with the list of stops visited, so a missing or unreachable control is obvious.
 * Every stop on the way is checked for a visible focus indicator (returned in `invisible`).
 */
export async function tabTo(page: Page, selector: string, options: { max?: number; backwards?: boolean } = {}): Promise<{ stops: number; invisible: string[] }> {
  const max = options.max ?? 80;
  const visited: string[] = [];
  const invisible: string[] = [];
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
    const info = await focusInfo(page, selector);
    const described = describeFocus(info);
    if (info.tag !== 'body' && !hasVisibleFocus(info)) invisible.push(described);
    if (info.matches) return { stops: i, invisible };
    visited.push(described);
  }
  throw new Error(`Tab never reached ${selector} on ${page.url()} after ${max} stops; visited:\n  ${visited.join('\n  ')}`);
}




/**
 * Runs an action that submits a form or follows a link and waits for the new document to load
 * (works when the URL does not change, as with a 422 re-render). Returns the main response.
 */
export async function navigating(page: Page, action: () => Promise<unknown>): Promise<Response | null> {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return response;
}
