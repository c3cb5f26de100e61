import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn } from './helpers';

// Owen Fraser, GP Partner at Stockwell Group Practice: a lead the practice's tasks go to.
const OWEN = 'owen.fraser@demo.wardline.test';

async function noSeriousAxe(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what} ${v.id}: ${v.help}`)).toEqual([]);
}

async function fitsThePhone(page: Page, what: string) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${what}: nothing wider than the phone`).toBeLessThanOrEqual(360);
}

test.use({ viewport: { width: 360, height: 780 } });

test('at phone width: a lead sets how they are paged, reads the on-call page, and the incident shows who was paged', async ({ page }) => {
  await signIn(page, OWEN, '/orgs');
  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'How you are paged' })).toBeVisible();
  await noSeriousAxe(page, '/account');
  await fitsThePhone(page, '/account');
  await page.getByLabel('How', { exact: true }).selectOption('email');
  await page.getByLabel('After how many minutes').fill('5');
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rules = page.getByRole('list', { name: 'Your rules' });
  await expect(rules).toContainText('5');
  await expect(page.getByRole('button', { name: /^Remove rule: / })).toHaveCount(1);

  await page.goto('/orgs/G85028/on-call');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await noSeriousAxe(page, '/orgs/G85028/on-call');
  await fitsThePhone(page, '/orgs/G85028/on-call');

  // Nadia declares; the incident page says who was paged (Gareth, the ICB's cyber lead), how, and where the message is.
  const nadia = await (await page.context().browser()!.newContext({ viewport: { width: 360, height: 780 } })).newPage();
  await signIn(nadia, 'nadia.kowalski@demo.wardline.test', '/orgs');
  await nadia.goto('/declare');
  await nadia.getByLabel('A ransom message is on a screen, or files will not open').check();
  await nadia.getByLabel('Where is it happening?').fill('Reception PC');
  await nadia.getByLabel('Yes').check();
  await nadia.getByRole('button', { name: 'Declare incident' }).click();
  await expect(nadia.getByRole('heading', { level: 1 })).toContainText('Ransomware');
  const paged = nadia.getByRole('table', { name: 'Messages sent about each task' });
  await expect(paged).toBeVisible();
  await expect(paged.getByRole('row').filter({ hasText: 'Gareth Lloyd' }).first()).toContainText('In their inbox');
  await noSeriousAxe(nadia, '/incidents/…');
  await fitsThePhone(nadia, '/incidents/…');
  // A lead of the practice sees more (command roles with their choices): it still fits.
  await page.goto(nadia.url());
  await expect(page.getByRole('table', { name: 'Command roles in this incident' })).toBeVisible();
  await fitsThePhone(page, '/incidents/… as a lead');
  await noSeriousAxe(page, '/incidents/… as a lead');

  await page.goto('/account');
  await page.getByRole('button', { name: /^Remove rule: / }).click();
  await expect(page.getByRole('button', { name: /^Remove rule: / })).toHaveCount(0);
});
