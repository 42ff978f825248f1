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

function memoisedTranslator(lang: Language): TFunction {
  const fixed = instance.getFixedT(lang);
  const plain = new Map<string, string>();
  const t = (key: unknown, ...rest: unknown[]): unknown => {
    if (rest.length > 0 || typeof key !== 'string') return (fixed as unknown as (...args: unknown[]) => unknown)(key, ...rest);
    let text = plain.get(key);
    if (text === undefined) {
      text = fixed(key);
      if (plain.size < MAX_MEMOISED_KEYS) plain.set(key, text);
    }
    return text;
  };
  return t as unknown as TFunction;
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
