/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Page, Response } from 'playwright-core';
import { axeViolations } from './axe';
import { describeFocus, focusInfo, hasVisibleFocus } from './keyboard';

/**
 * The checks axe cannot make, plus axe itself, for the page as it is now. Each problem is one line
 * naming the page, so a sweep over many pages reports everything at once.
 */
export async function auditPage(page: Page, label: string, options: { maxTabStops?: number; expectSkipLink?: boolean } = {}): Promise<string[]> {
  const problems = await axeViolations(page, label);
  const where = `${label} ${new URL(page.url()).pathname}`;
  problems.push(...(await checkErrorWiring(page)).map((p) => `${where}: ${p}`));
  problems.push(...(await checkControlContrast(page)).map((p) => `${where}: ${p}`));
  problems.push(...(await checkTitle(page)).map((p) => `${where}: ${p}`));
  problems.push(...(await checkFocusOrder(page, options.maxTabStops ?? 20, options.expectSkipLink ?? true)).map((p) => `${where}: ${p}`));
  return problems;
}

/**
 * From the top of the page: the first Tab stop is the skip link, it shows focus, and Enter on it puts
 * focus on main. Then, with the keyboard modality established by real Tab presses, every focusable
 * control on the page is focused in turn (one script call, so a long admin form stays cheap) and must
 * show a visible focus indicator (a non-none outline or a box-shadow).
 */
export async function checkFocusOrder(page: Page, max: number, expectSkipLink: boolean): Promise<string[]> {
  const problems: string[] = [];
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur?.();
    window.scrollTo(0, 0);
    // Focus the document itself so Tab starts at the top, like a fresh load.
    const b = document.body;
    b.setAttribute('tabindex', '-1');
    b.focus();
    b.removeAttribute('tabindex');
  });
  await page.keyboard.press('Tab');
  const first = await focusInfo(page);
  if (expectSkipLink) {
    if (first.href !== '#main') problems.push(`first Tab stop is ${describeFocus(first)}, not the skip link`);
    else {
      if (!hasVisibleFocus(first)) problems.push('skip link has no visible focus indicator');
      await page.keyboard.press('Enter');
      const after = await focusInfo(page);
      if (after.id !== 'main') problems.push(`skip link moved focus to ${describeFocus(after)}, not main`);
    }
  }
  // A few real Tab stops (into main), then every control.
  for (let i = 0; i < Math.min(3, max); i++) {
    await page.keyboard.press('Tab');
    const info = await focusInfo(page);
    if (info.tag === 'body') break;
    if (!hasVisibleFocus(info)) problems.push(`no visible focus indicator on ${describeFocus(info)}`);
  }
  const styles = await page.evaluate(() => {
    const selector = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
    const out: { desc: string; outlineStyle: string; outlineWidth: string; outlineColor: string; boxShadow: string }[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(selector))) {
      if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      el.focus({ preventScroll: true });
      if (document.activeElement !== el) continue;
      const style = getComputedStyle(el);
      const text = (el.innerText || (el as HTMLInputElement).value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
      out.push({
        desc: `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('href') ? ` href=${el.getAttribute('href')}` : ''}> "${text}"`,
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
        outlineColor: style.outlineColor,
        boxShadow: style.boxShadow,
      });
    }
    (document.activeElement as HTMLElement | null)?.blur?.();
    return out;
  });
  const invisible = styles.filter((s) => !hasVisibleFocus(s)).map((s) => s.desc);
  problems.push(...invisible.map((d) => `no visible focus indicator on ${d}`));
  return [...new Set(problems)];
}

/**
 * Form errors are tied to their fields: every aria-invalid control names an existing error message in
 * aria-describedby (or sits in a fieldset that does), every field error is referenced by some control,
 * and every error-summary link points at an existing field.
 */
export async function checkErrorWiring(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const text = (id: string) => document.getElementById(id)?.textContent?.trim() ?? '';
    const describedIds = (el: Element) => (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    const invalid = Array.from(document.querySelectorAll('[aria-invalid="true"]'));
    for (const el of invalid) {
      const ids = describedIds(el);
      const fieldsetIds = el.closest('fieldset') ? describedIds(el.closest('fieldset')!) : [];
      const all = [...ids, ...fieldsetIds];
      const name = `${el.tagName.toLowerCase()}#${el.id || el.getAttribute('name')}`;
      if (all.length === 0) problems.push(`${name} is aria-invalid but has no aria-describedby`);
      for (const id of ids) if (!document.getElementById(id)) problems.push(`${name} aria-describedby points at missing #${id}`);
      if (all.length && !all.some((id) => text(id).length > 0 && document.getElementById(id)!.matches('.field-error, [id^="error-"]'))) {
        problems.push(`${name} is aria-invalid but none of its descriptions is an error message`);
      }
    }
    const referenced = new Set(Array.from(document.querySelectorAll('[aria-describedby]')).flatMap((el) => describedIds(el)));
    for (const err of Array.from(document.querySelectorAll('main .field-error[id]'))) {
      if (!referenced.has(err.id)) problems.push(`field error #${err.id} ("${err.textContent?.trim().slice(0, 40)}") is not referenced by any field's aria-describedby`);
    }
    for (const err of Array.from(document.querySelectorAll('main .field-error:not([id])'))) {
      problems.push(`field error "${err.textContent?.trim().slice(0, 40)}" has no id, so no field can reference it`);
    }
    for (const a of Array.from(document.querySelectorAll('#error-summary a[href^="#"]'))) {
      const id = a.getAttribute('href')!.slice(1);
      if (!document.getElementById(id)) problems.push(`error summary link ${a.getAttribute('href')} points at no element`);
    }
    return problems;
  });
}

/** Visits a path; a missing page (404) or a server error becomes a clear problem line instead of an exception. */
export async function visit(page: Page, path: string, label: string, expectStatus = 200): Promise<{ response: Response | null; problems: string[] }> {
  const response = await page.goto(path);
  const status = response?.status() ?? 0;
  const problems = status === expectStatus ? [] : [`${label} ${path}: expected HTTP ${expectStatus}, got ${status}${status === 404 ? ' — page missing?' : ''}`];
  return { response, problems };
}

/**
 * WCAG 1.4.11 non-text contrast, which axe does not test: the edge of every visible form control (text
 * fields, selects, radios, checkboxes) must stand out at 3:1 from what is behind it, by its border or by
 * its own background. One line per distinct control style.
 */
export async function checkControlContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type RGBA = [number, number, number, number];
    const parse = (c: string): RGBA => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top: RGBA, bottom: RGBA): RGBA => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1) as RGBA;
    const lum = (c: RGBA) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a: RGBA, b: RGBA) => {
      const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
      return (x + 0.05) / (y + 0.05);
    };
    const backdrop = (el: Element | null): RGBA => {
      const layers: RGBA[] = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = parse(getComputedStyle(e).backgroundColor);
        if (bg[3] > 0) layers.push(bg);
        if (bg[3] >= 1) break;
      }
      return layers.reverse().reduce<RGBA>((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
    };
    const seen = new Map<string, string>();
    const selector = 'main input:not([type=hidden]):not([type=submit]):not([type=button]):not([readonly]), main select, main textarea';
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(selector))) {
      if (el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      const behind = backdrop(el.parentElement);
      const own = over(parse(style.backgroundColor), behind);
      const borderWidth = parseFloat(style.borderTopWidth) || 0;
      const border = over(parse(style.borderTopColor), own);
      const borderRatio = borderWidth > 0 && style.borderTopStyle !== 'none' ? ratio(border, behind) : 0;
      const fillRatio = ratio(own, behind);
      const best = Math.max(borderRatio, fillRatio);
      if (best >= 3) continue;
      const kind = el.tagName === 'INPUT' ? `input[type=${(el as HTMLInputElement).type}]` : el.tagName.toLowerCase();
      const key = `${kind}|${style.borderTopColor}|${style.backgroundColor}`;
      if (!seen.has(key)) {
        seen.set(key, `non-text contrast (WCAG 1.4.11): ${kind}${el.id ? ` #${el.id}` : ''} edge ${style.borderTopColor} on ${style.backgroundColor} is ${best.toFixed(2)}:1 against its background, needs 3:1`);
      }
    }
    return [...seen.values()];
  });
}

/**
 * WCAG 2.4.2: the page title says what the page is — it names the page's h1 (or the h1 names it), before
 * the site name, so a screen-reader user switching tabs or a teacher with twelve tabs open can tell them apart.
 */
export async function checkTitle(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const norm = (t: string) => t.replace(/\s+/g, ' ').trim().toLowerCase();
    const h1 = norm(document.querySelector('h1')?.textContent ?? '');
    const title = norm(document.title);
    const first = norm(document.title.split('·')[0] ?? '');
    if (!h1) return ['the page has no h1'];
    if (!title.includes(h1) && !h1.includes(first)) return [`title "${document.title}" does not name the page (h1 "${document.querySelector('h1')?.textContent?.trim()}")`];
    return [];
  });
}
