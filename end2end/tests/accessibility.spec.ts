import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn } from './helpers';

// Every page, checked by axe-core against WCAG 2.2 A and AA: no serious or critical issue.
async function check(page: Page) {
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`)).toEqual([]);
}

for (const path of ['/sign-in', '/invite/not-a-real-token', '/no-such-page']) {
  test(`${path} (signed out) has no serious or critical accessibility violations`, async ({ page }) => {
    await page.goto(path);
    await check(page);
  });
}

const signedIn = ['/orgs', '/orgs/RJZ', '/orgs/G85028', '/orgs/SUP-SYNNOVIS', '/orgs/QKK', '/orgs/ZZZ99', '/account', '/orgs/G85028/assets', '/orgs/SUP-SYNNOVIS/assets', '/orgs/G85028/break-glass', '/orgs/G85028/exercises', '/orgs/G85028/caf', '/tasks', '/declare', '/runbooks', '/inbox', '/escalation?org=G85028', '/incidents'];
for (const path of signedIn) {
  test(`${path} has no serious or critical accessibility violations`, async ({ page }) => {
    await signIn(page);
    await page.goto(path);
    await check(page);
  });
}
