import { test, expect, Browser } from '@playwright/test';
import { NADIA, signIn } from './helpers';

// The byte budget of a first visit (issue 19): everything a page needs, HTML, CSS, script and
// WebAssembly, as sent over the wire (compressed), from a cold cache. Sizes are deterministic,
// so this is a test; times are not, and live in the benchmark (bench/page-weight.spec.ts).
// The budgets hold for what ships: scripts/test.sh runs these tests on the release build.

const SMALL = 150 * 1024; // /declare and /sign-in: a phone on hospital Wi-Fi, in an incident
const PAGE = 250 * 1024; // every other page

/** Bytes sent for one cold visit to `path`, once the page and its WebAssembly have loaded. */
async function weigh(browser: Browser, path: string, storageState?: Awaited<ReturnType<import('@playwright/test').BrowserContext['storageState']>>) {
  const context = await browser.newContext({ viewport: { width: 360, height: 780 }, storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  const sent = new Map<string, number>();
  const urls = new Map<string, string>();
  cdp.on('Network.responseReceived', (e: { requestId: string; response: { url: string } }) => {
    urls.set(e.requestId, e.response.url);
  });
  cdp.on('Network.loadingFinished', (e: { requestId: string; encodedDataLength: number }) => {
    sent.set(e.requestId, e.encodedDataLength);
  });
  const response = await page.goto(path);
  expect(response?.status(), `${path} answers`).toBe(200);
  // The page's script loads the WebAssembly when the browser is idle, then marks the page.
  await page.locator('body[data-hydrated]').waitFor({ state: 'attached', timeout: 20_000 });
  await page.waitForLoadState('networkidle').catch(() => undefined);
  const total = [...sent.values()].reduce((a, b) => a + b, 0);
  const wasm = [...sent.entries()].filter(([id]) => (urls.get(id) ?? '').endsWith('.wasm'));
  expect(wasm.length, `${path} loads its WebAssembly`).toBe(1);
  const detail = [...sent.entries()].map(([id, n]) => `${urls.get(id)}: ${n}`).join('\n');
  await context.close();
  return { total, detail };
}

function budget(path: string) {
  return path.startsWith('/declare') || path.startsWith('/sign-in') ? SMALL : PAGE;
}

test('every page a visitor who is not signed in meets stays within its byte budget', async ({ browser }) => {
  for (const path of ['/sign-in', '/sign-in?next=%2Fdeclare', '/invite/not-a-real-token']) {
    const { total, detail } = await weigh(browser, path);
    expect(total, `${path} sent ${total} bytes:\n${detail}`).toBeLessThanOrEqual(budget(path));
  }
});

test('every page a signed-in person meets stays within its byte budget', async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, NADIA, '/incidents');
  // An incident of her practice's, to weigh its page too.
  const incident = await page.getByRole('link', { name: /^WL-/ }).first().getAttribute('href');
  const state = await context.storageState();
  await context.close();
  const pages = [
    '/declare', '/', '/orgs', '/orgs?q=king', '/orgs/G85028', '/orgs/G85028/chart', '/orgs/G85028/assets',
    '/orgs/G85028/exercises', '/orgs/G85028/caf', '/orgs/G85028/on-call', '/orgs/G85028/break-glass',
    '/overview', '/incidents', '/tasks', '/inbox', '/runbooks', '/runbooks/ransomware', '/account',
    ...(incident ? [incident, `${incident}/print`, `${incident}/review`] : []),
  ];
  expect(incident, 'the demo has an incident to weigh').toBeTruthy();
  for (const path of pages) {
    const { total, detail } = await weigh(browser, path, state);
    expect(total, `${path} sent ${total} bytes:\n${detail}`).toBeLessThanOrEqual(budget(path));
  }
});
