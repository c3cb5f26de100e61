import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAndEnrol, totp } from './helpers';

const RUTH = 'ruth.adeyemi@demo.wardline.test';
// Ruth's authenticator secret once she has enrolled (the tests here share one server).
let ruthSecret: string | undefined;
let ruthStep = 0;

test('a regulator enrols in MFA, reads the overview and drills into a chart with its gaps', async ({ page }) => {
  ruthSecret = await signInAndEnrol(page, RUTH);
  ruthStep = Math.floor(Date.now() / 30_000);
  await page.getByRole('link', { name: 'Gaps', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Gaps overview' })).toBeVisible();
  const table = page.getByRole('table', { name: 'Gaps and reporting by region and ICB' });
  await expect(table.getByRole('link', { name: 'London', exact: true })).toBeVisible();
  // Reporting obligations missed or decided late sit beside the gaps; the page reads at
  // phone width and passes axe.
  await expect(table.getByRole('columnheader', { name: 'Reports overdue' })).toBeVisible();
  await expect(table.getByRole('columnheader', { name: 'Reports decided late' })).toBeVisible();
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await page.setViewportSize({ width: 1280, height: 720 });
  await table.getByRole('link', { name: 'NHS South East London Integrated Care Board' }).click();

  await expect(page.getByRole('heading', { level: 1 })).toContainText('Responsibility chart');
  const rj1 = page.getByRole('table', { name: "Roles at Guy's and St Thomas' NHS Foundation Trust" });
  await expect(rj1.getByRole('row', { name: /Senior Information Risk Owner/ })).toContainText('Tom Okafor');
  const kings = page.getByRole('table', { name: "Roles at King's College Hospital NHS Foundation Trust" });
  await expect(kings.getByRole('row', { name: /Caldicott Guardian/ })).toContainText('Vacant');
  await expect(page.getByRole('link', { name: 'CSV' })).toHaveAttribute('href', /export\/chart\.csv\?org=QKK/);

  await page.getByLabel('Gap', { exact: true }).selectOption('vacant');
  await page.getByLabel('Kind of organisation').selectOption('gp_practice');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/gap=vacant/);
  await expect(page.getByRole('table', { name: /Roles at/ }).first()).toBeVisible();
  await expect(page.getByRole('table', { name: "Roles at King's College Hospital NHS Foundation Trust" })).toHaveCount(0);

  // Read-only access: no declaring and no task list offered, and the declaration page says why.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Declare an incident' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'My tasks' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Escalation' })).toHaveCount(0);
  await page.goto('/orgs/QKK/chart');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Responsibility chart');
  await expect(page.getByText('Assign a role (organisation admins)')).toHaveCount(0);
  await page.goto('/declare');
  await expect(page.getByRole('status')).toContainText('Your access is read-only');
  await expect(page.getByRole('button', { name: 'Declare incident' })).toHaveCount(0);

  for (const path of ['/overview', '/orgs/QKK/chart', '/account', '/declare']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${path} ${v.id}: ${v.help}`)).toEqual([]);
  }
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a regulator reads the overview and its reporting counts with JavaScript off, on a phone', async ({ browser, page }) => {
    test.setTimeout(90_000);
    // Two-step verification is set up once with the interactive page; everything after is plain HTML.
    if (!ruthSecret) {
      const setup = await browser.newContext({ javaScriptEnabled: true });
      ruthSecret = await signInAndEnrol(await setup.newPage(), RUTH);
      ruthStep = Math.floor(Date.now() / 30_000);
      await setup.close();
    }
    const secret = ruthSecret;
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto('/sign-in?next=%2Foverview');
    await page.getByLabel('Email address').fill(RUTH);
    await page.getByLabel('Password').fill('wardline-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A fresh code: the one used to enrol may not be used again.
    const code = page.getByLabel(/6-digit code/);
    await expect(code).toBeVisible();
    const wait = (ruthStep + 1) * 30_000 - Date.now();
    if (wait > 0) await page.waitForTimeout(wait + 500);
    await code.fill(totp(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(code).toHaveCount(0);
    await page.goto('/overview');
    await expect(page.getByRole('heading', { level: 1, name: 'Gaps overview' })).toBeVisible();
    const table = page.getByRole('table', { name: 'Gaps and reporting by region and ICB' });
    await expect(table.getByRole('link', { name: 'London', exact: true })).toBeVisible();
    await expect(table.getByRole('columnheader', { name: 'Reports overdue' })).toBeVisible();
    await expect(table.getByRole('columnheader', { name: 'Reports decided late' })).toBeVisible();
    // Its links are plain links to the charts they count.
    await table.getByRole('link', { name: 'NHS South East London Integrated Care Board' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Responsibility chart');
  });

  test('the chart reads and filters as plain pages, and shows the past', async ({ page }) => {
    await signIn(page, 'nadia.kowalski@demo.wardline.test', '/orgs');
    await page.goto('/orgs/G85028/chart');
    const roles = page.getByRole('table', { name: 'Roles at Stockwell Group Practice' });
    await expect(roles.getByRole('row', { name: /Caldicott Guardian/ })).toContainText('Owen Fraser');
    await page.getByLabel('As at (UK time)').fill('2020-01-01T12:00');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page.getByText(/As it was at/)).toBeVisible();
    await expect(roles.getByRole('row', { name: /Caldicott Guardian/ })).toContainText('Vacant');
  });
});
