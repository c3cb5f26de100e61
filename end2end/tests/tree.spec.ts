import { test, expect } from '@playwright/test';
import { signIn } from './helpers';

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

// The organisation map once the WebAssembly is running.

async function hydrated(page) {
  // "Expand all" is rendered hidden and shown by an effect, which only runs in the browser
  // once hydration has finished.
  await expect(page.getByRole('button', { name: 'Expand all' })).toBeVisible();
}

test('typing in the search filters the tree live, without a page load', async ({ page }) => {
  await page.goto('/orgs');
  await hydrated(page);
  // A page load would forget this.
  await page.evaluate(() => { (window as any).stillThisPage = true; });
  await page.getByLabel('Find an organisation by name or ODS code').pressSequentially('king');
  await expect(page.getByRole('link', { name: 'Princess Royal University Hospital' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Stockwell Group Practice' })).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'shown for' })).toContainText('king');
  expect(await page.evaluate(() => (window as any).stillThisPage)).toBe(true);
  // The address follows the search, so a reload or a shared link shows the same.
  await expect(page).toHaveURL(/\/orgs\?q=king$/);

  await page.getByLabel('Find an organisation by name or ODS code').fill('');
  await expect(page.getByRole('link', { name: 'Stockwell Group Practice' })).toBeVisible();
});

test('collapse all and expand all open and close every branch', async ({ page }) => {
  await page.goto('/orgs');
  await hydrated(page);
  await page.getByRole('button', { name: 'Collapse all' }).click();
  await expect(page.getByRole('link', { name: 'London', exact: true })).toBeHidden();
  await page.getByRole('button', { name: 'Expand all' }).click();
  await expect(page.getByRole('link', { name: 'Princess Royal University Hospital' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Minet Green Health Practice' })).toBeVisible();
});

test('branches open and close from the keyboard', async ({ page }) => {
  await page.goto('/orgs');
  await hydrated(page);
  const london = page.locator('summary', { hasText: 'under London' });
  await london.focus();
  await expect(page.getByRole('link', { name: 'NHS South East London Integrated Care Board' })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('link', { name: 'NHS South East London Integrated Care Board' })).toBeHidden();
  await page.keyboard.press('Space');
  await expect(page.getByRole('link', { name: 'NHS South East London Integrated Care Board' })).toBeVisible();
});

test('an organisation page shows its code, kind, parent, children and suppliers', async ({ page }) => {
  await page.goto('/orgs');
  await page.getByRole('region', { name: 'NHS hierarchy' }).getByRole('link', { name: "King's College Hospital NHS Foundation Trust" }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText("King's College Hospital NHS Foundation Trust");
  await expect(page).toHaveTitle(/King's College Hospital/);
  const summary = page.locator('dl');
  await expect(summary).toContainText('RJZ');
  await expect(summary).toContainText('NHS trust');
  await expect(summary.getByRole('link', { name: 'NHS South East London Integrated Care Board' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Organisations under this one' }).getByRole('link', { name: 'Princess Royal University Hospital' })).toBeVisible();
  await page.getByRole('region', { name: 'Suppliers serving this organisation' }).getByRole('link', { name: 'Synnovis' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Synnovis');
  await expect(page.getByRole('region', { name: 'Organisations this supplier serves' })).toContainText("Guy's and St Thomas'");
});
