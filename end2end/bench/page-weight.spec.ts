import { test, Browser } from '@playwright/test';
import { NADIA, signIn } from '../tests/helpers';

// A poor hospital or mobile connection: about 1.6 Mbit/s down, 750 kbit/s up, 150 ms round
// trip (Chromium's DevTools network emulation, applied per request).
const CONDITIONS = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };

type Figure = { page: string; who: string; bytes: number; usable: number; interactive: number | null };

/** One cold first visit to `path` under the throttled connection: bytes as sent over the wire
 * (compressed), when the page's HTML form is usable (DOMContentLoaded: every form works before
 * the WebAssembly), and when it is interactive (the WebAssembly has hydrated it). */
async function visit(browser: Browser, path: string, who: 'anonymous' | 'signed in'): Promise<Figure> {
  const context = await browser.newContext({ viewport: { width: 360, height: 780 } });
  const page = await context.newPage();
  if (who === 'signed in') await signIn(page, NADIA, '/orgs');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.send('Network.emulateNetworkConditions', CONDITIONS);
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
    bytes += e.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(path, { waitUntil: 'domcontentloaded' });
  const usable = Date.now() - started;
  let interactive: number | null = null;
  try {
    await page.locator('body[data-hydrated]').waitFor({ state: 'attached', timeout: 120_000 });
    interactive = Date.now() - started;
  } catch {
    interactive = null;
  }
  // Let anything still arriving (the wasm after hydration starts, live connections) finish.
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await context.close();
  return { page: path, who, bytes, usable, interactive };
}

test('page weight and time to usable and interactive on a 1.6 Mbit/s, 150 ms connection', async ({ browser }) => {
  const figures: Figure[] = [];
  for (const path of ['/sign-in', '/declare', '/orgs']) figures.push(await visit(browser, path, 'anonymous'));
  for (const path of ['/declare', '/tasks', '/incidents', '/orgs/G85028', '/inbox', '/account']) {
    figures.push(await visit(browser, path, 'signed in'));
  }
  const kb = (n: number) => (n / 1024).toFixed(1);
  const s = (ms: number | null) => (ms === null ? 'never' : (ms / 1000).toFixed(2));
  console.log('\n| Page | Visitor | Transferred (KB) | Form usable (s) | Interactive (s) |');
  console.log('|---|---|---:|---:|---:|');
  for (const f of figures) console.log(`| \`${f.page}\` | ${f.who} | ${kb(f.bytes)} | ${s(f.usable)} | ${s(f.interactive)} |`);
});
