import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * axe-core violations of WCAG 2.1 A/AA on the page as it is now, one readable line per rule:
 * "<label> <path>: [rule] help — selectors". Assert with expect(await axeViolations(...)).toEqual([])
 * so a failure lists every problem.
 */
export async function axeViolations(page: Page, label: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const where = new URL(page.url()).pathname;
  return results.violations.map((v) => {
    const targets = v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ');
    const more = v.nodes.length > 4 ? ` (+${v.nodes.length - 4} more)` : '';
    return `${label} ${where}: [${v.id}] ${v.help} — ${targets}${more}`;
  });
}

