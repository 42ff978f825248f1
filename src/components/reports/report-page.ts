/**
 * One page of a report's lines (the district's schools, a school's rows): sorted in place, reversed for
 * 'desc', and a page past the end shows the last one.
 */
export function sortedPage<T>(lines: T[], compare: (a: T, b: T) => number, dir: 'asc' | 'desc' | undefined, page: number, pageSize: number): { items: T[]; page: number; pages: number } {
  lines.sort(compare);
  if (dir === 'desc') lines.reverse();
  const pages = Math.max(1, Math.ceil(lines.length / pageSize));
  const shown = Math.min(page, pages);
  return { items: lines.slice((shown - 1) * pageSize, shown * pageSize), page: shown, pages };
}
