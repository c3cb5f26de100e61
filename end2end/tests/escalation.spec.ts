import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAndEnrol } from './helpers';

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

test('the inbox count in the header rises by itself when a task arrives', async ({ browser }) => {
  const tom = await (await browser.newContext()).newPage();
  const helen = await (await browser.newContext()).newPage();
  await signIn(tom, 'tom.okafor@demo.wardline.test', '/orgs');
  const listening = tom.waitForRequest(/\/live\/tasks/);
  await tom.goto('/orgs');
  await listening;
  const inbox = tom.getByRole('link', { name: /^Inbox/ });
  await expect(inbox).toBeVisible();
  const before = Number(((await inbox.textContent()) ?? '').match(/\((\d+) unread\)/)?.[1] ?? '0');

  await signIn(helen, 'helen.marsh@demo.wardline.test', '/orgs');
  await helen.goto('/declare');
  await helen.getByLabel('A ransom message is on a screen, or files will not open').check();
  await helen.getByLabel('Where is it happening?').fill('Pharmacy');
  await helen.getByRole('button', { name: 'Declare incident' }).click();
  await expect(helen.getByRole('heading', { level: 1 })).toContainText('Ransomware');

  await expect(inbox).toHaveText(/Inbox \(\d+ unread\)/);
  const after = Number(((await inbox.textContent()) ?? '').match(/\((\d+) unread\)/)![1]);
  expect(after).toBeGreaterThan(before);
  expect(tom.url()).toMatch(/\/orgs$/);
});
