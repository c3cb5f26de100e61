import { test, expect, Page } from '@playwright/test';
import { NADIA, signIn } from './helpers';

// Text a person might type (or an attacker would): it must reach every page as text.
const HOSTILE =
  `</textarea><img src=x onerror=alert(1)></title><script>alert(1)</script></noscript><b>x</b> &lt;b&gt; "q" 'q' &amp;`;

async function declareWithHostileText(page: Page) {
  await page.goto('/declare');
  await page.getByLabel('A ransom message is on a screen, or files will not open').check();
  await page.getByLabel('Where is it happening?').fill(HOSTILE);
  await page.getByLabel('Yes').check();
  await page.getByLabel('Anything else we should know? (optional)').fill(HOSTILE);
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Ransomware');
}

async function expectNothingInjected(page: Page) {
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  const scripts = await page.locator('script').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  expect(scripts.filter((s) => s.includes('alert(1)') && !s.includes('__RESOLVED_RESOURCES'))).toEqual([]);
  await expect(page.locator('main b', { hasText: /^x$/ })).toHaveCount(0);
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(javaScriptEnabled ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled });

    test('hostile text in a declaration stays text in the DSPT report text', async ({ page }) => {
      const dialogs: string[] = [];
      page.on('dialog', async (d) => {
        dialogs.push(d.message());
        await d.dismiss();
      });
      await signIn(page, NADIA, '/orgs');
      await declareWithHostileText(page);
      if (javaScriptEnabled) {
        await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
      }
      // The details element holding the report text opens like any other.
      await page.getByText('Report text for the DSPT incident reporting tool').click();
      const dspt = page.getByLabel('Copy this into the tool');
      await expect(dspt).toBeVisible();
      const value = await dspt.inputValue();
      expect(value).toContain(HOSTILE);
      // Where the declaration's words are shown as plain page text, they read exactly too.
      await expect(page.getByText(HOSTILE, { exact: true }).first()).toBeVisible();
      await expectNothingInjected(page);

      // The printable page shows the same words as text.
      await page.goto(page.url() + '/print');
      await expectNothingInjected(page);
      expect(dialogs).toEqual([]);
    });
  });
}
