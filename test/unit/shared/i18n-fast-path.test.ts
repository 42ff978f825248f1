import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { i18nextTranslator, translator } from '../../../src/shared/i18n';
import { LANGUAGES } from '../../../src/components/users/user.model';

/**
 * The translator answers calls with values (t('x', { n: 3 })) from the resource strings itself instead of
 * asking i18next (about 100 times cheaper). It must say exactly what i18next says: every key of every
 * feature, in both languages, with values for all its placeholders — text with markup-like characters and
 * numbers — and, for plural keys, counts of every plural category.
 */
const localesDir = path.join(__dirname, '..', '..', '..', 'src', 'locales');
const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

function leaves(value: unknown, prefix: string, out: Map<string, string>): void {
  if (typeof value === 'string') out.set(prefix, value);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
}

function resources(lang: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(path.join(localesDir, lang)).filter((f) => f.endsWith('.json'))) {
    leaves(JSON.parse(readFileSync(path.join(localesDir, lang, file), 'utf8')), file.replace(/\.json$/, ''), out);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*-?\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);

// Every key (plural forms folded into their base key) with the placeholders used in any of its forms, in either language.
const calls = new Map<string, Set<string>>();
for (const lang of LANGUAGES) {
  for (const [key, text] of resources(lang)) {
    const base = key.replace(PLURAL_SUFFIX, '');
    const names = calls.get(base) ?? new Set<string>();
    for (const name of placeholders(text)) names.add(name);
    if (base !== key) names.add('count');
    calls.set(base, names);
  }
}

const SAMPLE_COUNTS = [1, 2, 3, 5, 11, 21, 101, 1.5, 1_000_000, -1];

describe('translator: calls with values', () => {
  test('the locales have keys with values to check (the test would pass vacuously otherwise)', () => {
    const withValues = [...calls.values()].filter((names) => names.size > 0).length;
    expect(withValues).toBeGreaterThan(100);
    expect([...calls.values()].filter((names) => names.has('count')).length).toBeGreaterThan(20);
  });

  for (const lang of LANGUAGES) {
    test(`when any key is translated with values in ${lang}, then the text is exactly i18next's`, () => {
      const fast = translator(lang) as unknown as (key: string, options: Record<string, unknown>) => string;
      const reference = i18nextTranslator(lang) as unknown as (key: string, options: Record<string, unknown>) => string;
      const differences: string[] = [];
      let checked = 0;
      for (const [key, names] of calls) {
        const counts = names.has('count') ? SAMPLE_COUNTS : [undefined];
        for (const count of counts) {
          const options: Record<string, unknown> = {};
          for (const name of names) options[name] = name === 'count' ? count : `<b>&"${name}'{{x}}`;
          if (count !== undefined) options.count = count;
          // Also with numbers for every value (ids, figures).
          const numeric = Object.fromEntries(Object.keys(options).map((name) => [name, name === 'count' ? count : 7]));
          for (const opts of [options, numeric]) {
            checked += 1;
            const got = fast(key, opts);
            const want = reference(key, opts);
            if (got !== want) differences.push(`${key} ${JSON.stringify(opts)}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
          }
        }
      }
      expect(differences).toEqual([]);
      expect(checked).toBeGreaterThan(1000);
    });
  }

  test('when a call is one the fast path leaves to i18next (count 0, a missing value, special options, unknown key), then the answer is still i18next\'s', () => {
    for (const lang of LANGUAGES) {
      const fast = translator(lang) as unknown as (key: string, options?: Record<string, unknown>) => string;
      const reference = i18nextTranslator(lang) as unknown as (key: string, options?: Record<string, unknown>) => string;
      const pluralKey = [...calls].find(([, names]) => names.has('count'))![0];
      const valueKey = [...calls].find(([, names]) => names.size > 0 && !names.has('count'))![0];
      for (const [key, opts] of [
        [pluralKey, { count: 0 }],
        [valueKey, {}],
        [valueKey, { defaultValue: 'x' }],
        [valueKey, { lng: 'en' }],
        ['no.such.key', { n: 1 }],
        [valueKey, Object.fromEntries([...calls.get(valueKey)!].map((n) => [n, new Date(0)]))],
      ] as const) {
        expect(fast(key, opts as Record<string, unknown>)).toBe(reference(key, opts as Record<string, unknown>));
      }
    }
  });
});
