import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signInAndEnrol } from './helpers';

const DANA = 'dana.whitlock@demo.wardline.test';

async function noSeriousAxe(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what} ${v.id}: ${v.help}`)).toEqual([]);
}

test('an admin reads an escalation path in words, sets the practice its own, adds a webhook; inbox and choices', async ({ page }) => {
  await signInAndEnrol(page, DANA);
  await page.goto('/escalation?org=G85028');
  await expect(page.getByRole('note')).toContainText(
    'Stockwell Group Practice → NHS South East London Integrated Care Board → London → NHS England → then flagged for national attention',
  );
  await expect(page.getByText('The national default')).toBeVisible();
  await noSeriousAxe(page, '/escalation');

  const level1 = page.getByRole('group', { name: 'Level 1', exact: true });
  await level1.getByLabel('Minutes to acknowledge').fill('5');
  await page.getByRole('button', { name: 'Save the path' }).click();
  await expect(page.getByText('This organisation\'s own policy')).toBeVisible();
  await expect(page.getByRole('table', { name: 'Escalation levels' }).getByRole('row').nth(1)).toContainText('5 min');

  await page.getByLabel('Webhook address').fill('http://example.com/not-secure');
  await page.getByRole('button', { name: 'Save the webhook' }).click();
  await expect(page.getByRole('alert')).toContainText('https://');
  await page.getByLabel('Webhook address').fill('https://hooks.example.test/services/abc');
  await page.getByRole('button', { name: 'Save the webhook' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Webhook saved' })).toBeVisible();

  await page.getByRole('link', { name: /^Inbox/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Inbox' })).toBeVisible();
  await noSeriousAxe(page, '/inbox');

  await page.goto('/account');
  const email = page.getByLabel('Also email me when a task is escalated to me');
  await expect(email).toBeChecked();
  await email.uncheck();
  await page.getByRole('button', { name: 'Save notification choice' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Also email me when a task is escalated to me')).not.toBeChecked();
});
