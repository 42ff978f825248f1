import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

/** Debian's chromium; never a downloaded browser. Playwright gives every launch a fresh, throw-away profile. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Generous: a browser test signs in (argon2), renders pages and runs axe several times. */
export const E2E_TIMEOUT = 120_000;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A desktop context bound to the app, downloads allowed, English unless told otherwise. */
export async function newContext(browser: Browser, baseURL: string, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    acceptDownloads: true,
    locale: 'en-US',
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  // Under tsx (npm run screenshots) esbuild keeps function names by wrapping them in __name(), which the
  // page does not have: give page scripts a no-op one so helpers run the same under jest and tsx.
  await context.addInitScript('globalThis.__name = globalThis.__name || ((fn) => fn);');
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}
