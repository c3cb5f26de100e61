import { test, expect } from '@playwright/test';
import { signIn } from './helpers';

// Every page must read fully before, or without, the WebAssembly.
test.use({ javaScriptEnabled: false });

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test('the map reads in full with JavaScript off', async ({ page }) => {
  await page.goto('/orgs');
  await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Stockwell Group Practice' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Princess Royal University Hospital' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Suppliers' }).getByRole('link', { name: 'Synnovis' })).toBeVisible();
  // The script-only controls stay hidden rather than sitting there doing nothing.
  await expect(page.getByRole('button', { name: 'Expand all' })).toBeHidden();
});

test('branches still open and close with JavaScript off', async ({ page }) => {
  await page.goto('/orgs');
  const london = page.locator('summary', { hasText: 'under London' });
  await london.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('link', { name: 'NHS South East London Integrated Care Board' })).toBeHidden();
});

test('search works as a plain form with JavaScript off', async ({ page }) => {
  await page.goto('/orgs');
  await page.getByLabel('Find an organisation by name or ODS code').fill('stockwell');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=stockwell/);
  await expect(page.getByRole('link', { name: 'Stockwell Group Practice' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Vassall Medical Centre' })).toHaveCount(0);
});

test('an organisation page reads in full with JavaScript off', async ({ page }) => {
  await page.goto('/orgs/G85028');
  await expect(page.getByRole('heading', { level: 1, name: 'Stockwell Group Practice' })).toBeVisible();
  await expect(page.locator('dl')).toContainText('GP practice');
  await expect(page.locator('dl').getByRole('link', { name: 'NHS South East London ICB - 72Q' })).toBeVisible();
});

test('a calendar address made with JavaScript off is shown once and works', async ({ page, request }) => {
  await page.goto('/account');
  const section = page.getByRole('region', { name: 'On-call calendar' });
  await section.getByRole('button', { name: /Make (a|a new) calendar address/ }).click();
  await expect(page).toHaveURL(/\/account/);
  const address = page.getByRole('textbox', { name: 'Calendar address' });
  await expect(address).toBeVisible();
  const url = await address.inputValue();
  expect(url).toMatch(/\/calendar\/[^/]+\.ics$/);
  const feed = await request.get(new URL(url).pathname);
  expect(feed.status()).toBe(200);
  expect(feed.headers()['content-type']).toContain('text/calendar');
  expect(await feed.text()).toContain('BEGIN:VCALENDAR');
  // Shown only that once.
  await page.reload();
  await expect(page.getByRole('textbox', { name: 'Calendar address' })).toHaveCount(0);
  await expect(section).toContainText('You have a calendar feed, made');
});

test('how you are paged is kept with JavaScript off, and a refused rule says why', async ({ page }) => {
  // Aisha, a ward sister at King's: no test connects a channel for King's.
  await page.context().clearCookies();
  await signIn(page, 'aisha.bello@demo.wardline.test', '/account');
  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'How you are paged' })).toBeVisible();
  // Her trust has no Teams channel: the choice says so, and choosing it is refused with the reason.
  await expect(page.getByLabel('How', { exact: true }).locator('option[value="teams"]')).toContainText('no channel connected');
  await page.getByLabel('How', { exact: true }).selectOption('teams');
  await page.getByLabel('After how many minutes').fill('0');
  await page.getByRole('button', { name: 'Add rule' }).click();
  await expect(page).toHaveURL(/\/account/);
  await expect(page.getByRole('region', { name: 'How you are paged' }).getByRole('alert')).toContainText('Microsoft Teams channel connected');
  await expect(page.getByRole('list', { name: 'Your rules' })).toHaveCount(0);

  await page.getByLabel('How', { exact: true }).selectOption('email');
  await page.getByLabel('After how many minutes').fill('10');
  await page.getByRole('button', { name: 'Add rule' }).click();
  await expect(page).toHaveURL(/\/account/);
  const rules = page.getByRole('list', { name: 'Your rules' });
  await expect(rules).toContainText('Email after 10 minutes');
  await page.getByRole('button', { name: /^Remove rule: / }).click();
  await expect(page.getByRole('button', { name: /^Remove rule: / })).toHaveCount(0);
});

test('a lead decides an obligation with JavaScript off, the reason kept', async ({ page }) => {
  await page.context().clearCookies();
  await signIn(page, 'owen.fraser@demo.wardline.test', '/orgs');
  await page.goto('/declare');
  await page.getByLabel('A ransom message is on a screen, or files will not open').check();
  await page.getByLabel('Where is it happening?').fill('Reception');
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('WL-');
  const police = page.getByRole('listitem', { name: 'Police / Action Fraud' });
  await police.locator('summary').filter({ hasText: 'Not reportable to Police / Action Fraud' }).click();
  await police.getByLabel('Why it is not reportable').fill('A drill email sent by our own IT team.');
  await police.getByRole('button', { name: 'Record not reportable to Police / Action Fraud' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('WL-');
  const after = page.getByRole('listitem', { name: 'Police / Action Fraud' });
  await expect(after.getByRole('definition').filter({ hasText: /^Not reportable$/ })).toBeVisible();
  await after.locator('summary').filter({ hasText: 'Decisions (1)' }).click();
  await expect(after).toContainText('Not reportable: A drill email sent by our own IT team. (Owen Fraser)');
});
