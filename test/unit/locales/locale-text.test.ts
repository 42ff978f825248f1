import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Every string of one language's locale files, as [file:key, text]. */
function strings(lang: 'en' | 'es'): [string, string][] {
  const dir = path.join(__dirname, '..', '..', '..', 'src', 'locales', lang);
  const out: [string, string][] = [];
  const walk = (prefix: string, value: unknown) => {
    if (typeof value === 'string') out.push([prefix, value]);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(`${prefix}.${k}`, v);
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) walk(file.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  return out;
}

describe('locale text', () => {
  test('when English shows a percentage, then the % sign follows the number without a space ("10%", not "10 %")', () => {
    const spaced = strings('en').filter(([, text]) => /(\d|\}\}) %/.test(text)).map(([key]) => key);
    expect(spaced).toEqual([]);
  });

  test('when a Spanish sentence ends with a time ("9:21 p.m."), then no second full stop follows it ("p.m..")', () => {
    // Times and date-times are formatted es-US, which ends afternoon times in "p.m.".
    const doubled = strings('es').filter(([, text]) => /\{\{(time|at|when|until|since|expires)\}\}\./.test(text)).map(([key]) => key);
    // sso.admin.linked is given an ISO date (2026-11-26), never a time.
    expect(doubled.filter((key) => key !== 'sso.admin.linked')).toEqual([]);
  });

  test('when a string counts trainings, then it has singular and plural forms in both languages', () => {
    for (const lang of ['en', 'es'] as const) {
      const all = strings(lang);
      const keys = new Set(all.map(([key]) => key));
      // "and 1 more training" / "y 2 capacitaciones más": a counted noun needs _one/_other (a bare figure does not).
      const missing = all
        .filter(([key, text]) => /\{\{count\}\} (more training|capacitaci|training)/.test(text) && !/_(zero|one|other)$/.test(key))
        .map(([key]) => key)
        .filter((key) => !keys.has(`${key}_one`));
      expect({ lang, missing }).toEqual({ lang, missing: [] });
    }
  });
});
