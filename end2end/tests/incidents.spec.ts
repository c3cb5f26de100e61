import { test, expect, devices } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { NADIA, signIn } from './helpers';

async function declareRansomware(page) {
  await page.goto('/declare');
  await page.getByLabel('A ransom message is on a screen, or files will not open').check();
  await page.getByLabel('Where is it happening?').fill('Reception PC');
  await page.getByLabel('Yes').check();
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Ransomware');
}

test.describe('on a phone', () => {
  test.use({ viewport: devices['Pixel 7'].viewport, userAgent: devices['Pixel 7'].userAgent, isMobile: true, hasTouch: true });

  test('frontline staff declare ransomware and see what to do now and who was told', async ({ page }) => {
    await signIn(page, NADIA, '/orgs');
    await declareRansomware(page);
    const now = page.getByRole('region', { name: 'Do this now' });
    await expect(now).toContainText('Unplug the network cable');
    await expect(now).toContainText('Do not switch the computer off');
    await expect(page.getByRole('region', { name: 'Who has been told' })).toContainText('Gareth Lloyd');
    await expect(page.getByRole('table', { name: 'Runbook tasks' })).toContainText('Triage and declare the incident level');
    await expect(page.getByRole('region', { name: 'Reporting obligations' })).toContainText('CSOC');
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('declaring works as a plain form post', async ({ page }) => {
    await signIn(page, NADIA, '/orgs');
    await declareRansomware(page);
    await expect(page.getByRole('region', { name: 'Do this now' })).toContainText('Unplug the network cable');
  });

  test('a form with nothing chosen is refused by the browser and nothing is declared', async ({ page }) => {
    await signIn(page, NADIA, '/orgs');
    await page.goto('/declare');
    await page.getByRole('button', { name: 'Declare incident' }).click();
    await expect(page).toHaveURL(/\/declare$/);
  });
});

test('the declaration form and my tasks pass axe', async ({ page }) => {
  await signIn(page, NADIA, '/orgs');
  for (const path of ['/declare', '/tasks', '/incidents']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${path} ${v.id}: ${v.help}`)).toEqual([]);
  }
});

test('my tasks read as a worklist: one section per incident, the overdue flagged, the note a full text box', async ({ browser }) => {
  const staff = await (await browser.newContext({ viewport: { width: 360, height: 780 } })).newPage();
  await signIn(staff, NADIA, '/orgs');
  await declareRansomware(staff);
  const reference = staff.url().split('/').pop()!;
  const lead = await (await browser.newContext({ viewport: { width: 360, height: 780 } })).newPage();
  // The ICB's SIRO is given the practice's strategic command task.
  await signIn(lead, 'meera.shah@demo.wardline.test', '/orgs');
  await lead.goto('/tasks');
  await expect(lead.getByText(/open tasks? in \d+ incidents?, the most urgent first/)).toBeVisible();
  const section = lead.getByRole('region', { name: `${reference}: Ransomware` });
  await expect(section).toContainText('Stockwell Group Practice');
  await expect(section).toContainText('declared');
  await expect(section.getByRole('link', { name: `${reference}: Ransomware` })).toHaveAttribute('href', `/incidents/${reference}`);
  const table = section.getByRole('table', { name: `Your tasks in ${reference}` });
  await expect(table).toBeVisible();
  // The "what was done" note is a text box of its own size, not a one-line field.
  const note = table.getByLabel(/^What was done for /).first();
  expect(await note.evaluate((el) => el.tagName)).toBe('TEXTAREA');
  const width = await lead.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(360);
  const results = await new AxeBuilder({ page: lead }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
});

