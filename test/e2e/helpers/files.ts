/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import { readFile } from 'node:fs/promises';
import type { Download, Page } from 'playwright-core';

export { pdfText } from '../../helpers/pdf';

export async function downloadBytes(download: Download): Promise<Buffer> {
  const failure = await download.failure();
  if (failure) throw new Error(`download of ${download.url()} failed: ${failure}`);
  const path = await download.path();
  return readFile(path);
}

/**
 * Activates the focused link with the keyboard (Enter) and returns the file it serves. A file sent as an
 * attachment arrives as a download event (its headers are not visible then: contentType is ''); a PDF
 * sent inline opens in chromium's viewer, so its bytes are fetched with the page's own request context
 * (same cookies). The page is brought back where it was.
 */
export async function downloadWithKeyboard(page: Page): Promise<{ bytes: Buffer; suggestedFilename: string; url: string; contentType: string }> {
  const startUrl = page.url();
  const href = await page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.href ?? '');
  if (!href) throw new Error('downloadWithKeyboard: the focused element is not a link');
  const download = page.waitForEvent('download', { timeout: 20_000 }).then((d) => ({ d, r: undefined }));
  const response = page.waitForResponse((r) => r.url() === href, { timeout: 20_000 }).then((r) => ({ r, d: undefined }));
  download.catch(() => undefined);
  response.catch(() => undefined);
  await page.keyboard.press('Enter');
  const first = await Promise.race([download, response]);
  if (first.d) {
    const d = first.d;
    return { bytes: await downloadBytes(d), suggestedFilename: d.suggestedFilename(), url: d.url(), contentType: '' };
  }
  const res = first.r!;
  if (res.status() !== 200) throw new Error(`${href} answered ${res.status()}`);
  const contentType = res.headers()['content-type'] ?? '';
  const disposition = res.headers()['content-disposition'] ?? '';
  let bytes: Buffer;
  if (/attachment/i.test(disposition)) {
    bytes = await downloadBytes((await download).d);
  } else {
    // Chromium's PDF viewer replaces the body it reports with its own page: fetch the bytes with the page's cookies.
    const fetched = await page.request.get(href);
    if (fetched.status() !== 200) throw new Error(`${href} answered ${fetched.status()} to the page's request context`);
    bytes = await fetched.body();
  }
  if (page.url() !== startUrl) await page.goBack().catch(() => page.goto(startUrl));
  const suggestedFilename = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? '';
  return { bytes, suggestedFilename, url: href, contentType };
}

