import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import i18next, { type TFunction } from 'i18next';
import type { NextFunction, Request, Response } from 'express';
import { LANGUAGES, type Language } from '../components/users/user.model';

const localesDir = path.join(__dirname, '..', 'locales');

/** Each feature keeps its strings in locales/<lang>/<feature>.json, used as t('<feature>.<key>'). */
function load(lng: Language): Record<string, unknown> {
  const dir = path.join(localesDir, lng);
  const resources: Record<string, unknown> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    resources[file.replace(/\.json$/, '')] = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  }
  return resources;
}

const instance = i18next.createInstance();
void instance.init({
  initAsync: false,
  resources: { en: { translation: load('en') }, es: { translation: load('es') } },
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: [...LANGUAGES],
  // EJS escapes on output (<%= %>); escaping here too would double-escape.
  interpolation: { escapeValue: false },
  returnNull: false,
});

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

// Plain lookups (a key, no options) of the static resources, kept per language: a page makes dozens.
const MAX_MEMOISED_KEYS = 5_000;

/** Options i18next gives a meaning of its own: a call with any of them goes to i18next. */
const SPECIAL_OPTIONS = new Set(['context', 'defaultValue', 'lng', 'lngs', 'fallbackLng', 'ns', 'returnObjects', 'returnDetails', 'ordinal', 'interpolation', 'postProcess', 'replace', 'keySeparator', 'nsSeparator', 'joinArrays', 'skipInterpolation', 'defaultValue_other']);

/** A resource string split at its `{{name}}` placeholders: literal, name, literal, … (names at odd indexes). */
type Template = readonly string[];

function compileTemplate(text: string): Template | null {
  // Nesting ($t(…)), unescaped ({{- x}}) and formatted ({{x, number}}) placeholders are left to i18next.
  if (text.includes('$t(') || /\{\{\s*-|\{\{[^}]*,/.test(text)) return null;
  return text.split(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/);
}

/**
 * A call with values — t('x.y', { n: 3 }) — costs i18next ~20 µs (a page makes a dozen). The same result is
 * built here from the resource string: the key in the language (else English, the fallback), for `count` the
 * plural form chosen by Intl.PluralRules as i18next does, each {{name}} replaced by the value's text (values
 * are not escaped here: EJS escapes on output, as with i18next's escapeValue: false). Anything else — a
 * missing key or value, a count of 0 (i18next may use a _zero form), a value that is not a string or a finite
 * number, an option i18next treats specially, nesting or formatting — is answered by i18next itself.
 * test/unit/shared/i18n-fast-path.test.ts checks every key of both languages against i18next.
 */
function valueTranslator(lang: Language): (key: string, options: Record<string, unknown>) => string | undefined {
  const plural = new Intl.PluralRules(lang);
  const templates = new Map<string, Template | null>();
  const templateOf = (key: string): Template | null => {
    let template = templates.get(key);
    if (template === undefined) {
      const text = instance.getResource(lang, 'translation', key) ?? (lang === 'en' ? undefined : instance.getResource('en', 'translation', key));
      template = typeof text === 'string' ? compileTemplate(text) : null;
      if (templates.size < MAX_MEMOISED_KEYS) templates.set(key, template);
    }
    return template;
  };
  return (key, options) => {
    for (const name in options) if (SPECIAL_OPTIONS.has(name)) return undefined;
    let resolved = key;
    if ('count' in options) {
      const count = options.count;
      if (typeof count !== 'number' || !Number.isFinite(count) || count === 0) return undefined;
      resolved = `${key}_${plural.select(count)}`;
      // English has no form for this language's category (or the other way round): i18next decides.
      if (instance.getResource(lang, 'translation', resolved) === undefined) return undefined;
    }
    const template = templateOf(resolved);
    if (!template) return undefined;
    let text = template[0];
    for (let i = 1; i < template.length; i += 2) {
      const value = options[template[i]];
      if (typeof value === 'string') text += value;
      else if (typeof value === 'number' && Number.isFinite(value)) text += String(value);
      else return undefined;
      text += template[i + 1];
    }
    return text;
  };
}

function memoisedTranslator(lang: Language): TFunction {
  const fixed = instance.getFixedT(lang);
  const withValues = valueTranslator(lang);
  const plain = new Map<string, string>();
  const t = (key: unknown, ...rest: unknown[]): unknown => {
    if (typeof key !== 'string') return (fixed as unknown as (...args: unknown[]) => unknown)(key, ...rest);
    if (rest.length === 1 && isPlainOptions(rest[0])) {
      const text = withValues(key, rest[0]);
      if (text !== undefined) return text;
    }
    if (rest.length > 0) return (fixed as unknown as (...args: unknown[]) => unknown)(key, ...rest);
    let text = plain.get(key);
    if (text === undefined) {
      text = fixed(key);
      if (plain.size < MAX_MEMOISED_KEYS) plain.set(key, text);
    }
    return text;
  };
  return t as unknown as TFunction;
}

function isPlainOptions(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** i18next itself, without the memo and the fast path: what the fast path is checked against (tests). */
export function i18nextTranslator(lang: Language): TFunction {
  return instance.getFixedT(lang);
}

const translators = new Map<Language, TFunction>(LANGUAGES.map((lang) => [lang, memoisedTranslator(lang)]));

export function translator(lang: Language): TFunction {
  return translators.get(lang) ?? instance.getFixedT(lang);
}

declare module 'express-session' {
  interface SessionData {
    lang?: Language;
  }
}

/**
 * Language: an explicit switch (?lang=) wins and is remembered in the session; then the session,
 * then the signed-in user's preference, then Accept-Language.
 */
export function languageMiddleware(req: Request, res: Response, next: NextFunction): void {
  const requested = req.query.lang;
  if (isLanguage(requested) && req.session) req.session.lang = requested;
  const userLang = (req.user as { language?: Language } | undefined)?.language;
  const accepted = req.acceptsLanguages(...LANGUAGES);
  const lang: Language =
    (isLanguage(requested) && requested) || req.session?.lang || userLang || (isLanguage(accepted) ? accepted : 'en');
  res.locals.lang = lang;
  res.locals.t = translator(lang);
  next();
}

/** The current URL with ?lang= set, for the language switch (keeps the page and its other query values). */
export function urlWithLanguage(originalUrl: string, lang: Language): string {
  const url = new URL(originalUrl, 'http://local');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}
