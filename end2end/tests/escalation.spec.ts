import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAndEnrol } from './helpers';

const DANA = 'dana.whitlock@demo.wardline.test';

async function noSeriousAxe(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what} ${v.id}: ${v.help}`)).toEqual([]);
}

test('an admin reads an escalation path in words, sets the practice its own, adds a webhook; inbox and choices; external contacts at phone width', async ({ page }) => {
  await signInAndEnrol(page, DANA);
  // A national admin's navigation offers the admin tools.
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const tool of ['Escalation', 'Contacts', 'Import']) await expect(nav.getByRole('link', { name: tool, exact: true })).toBeVisible();
  await page.goto('/escalation?org=G85028');
  await expect(page.getByRole('note')).toContainText(
    'Stockwell Group Practice → NHS South East London Integrated Care Board → London → NHS England Cyber Security Operations Centre (CSOC) → then flagged for national attention',
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

  // External contacts, at phone width: the national admin keeps the CSOC.
  const dana = page;
  await dana.setViewportSize({ width: 360, height: 780 });
  await dana.goto('/contacts');
  const table = dana.getByRole('table', { name: 'External contacts' });
  const csoc = table.getByRole('row').filter({ hasText: 'Cyber Security Operations Centre' });
  await expect(csoc.getByRole('link', { name: '0300 303 5222' })).toHaveAttribute('href', 'tel:03003035222');
  await expect(csoc).toContainText('National');
  await noSeriousAxe(dana, '/contacts');
  const width = await dana.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'nothing wider than the phone but the scrolling table').toBeLessThanOrEqual(360);

  await dana.getByText(/^Change NHS England/).click();
  await dana.getByLabel('Telephone').first().fill('ring the desk');
  await dana.getByRole('button', { name: /^Save NHS England/ }).click();
  await expect(dana.getByRole('alert')).toContainText('telephone number in digits');
  await dana.getByLabel('Telephone').first().fill('0300 303 5222');
  await dana.getByLabel('Email (leave empty if they take no email)').first().fill('csoc.desk@example.test');
  await dana.getByRole('button', { name: /^Save NHS England/ }).click();
  await expect(dana.getByRole('status').filter({ hasText: /^Saved NHS England/ })).toBeVisible();
  await dana.reload();
  await expect(dana.getByRole('table', { name: 'External contacts' })).toContainText('csoc.desk@example.test');

  // The national admin adds a national contact; it reads back at once.
  await dana.getByLabel('Whose contact').selectOption({ label: 'National (every organisation)' });
  await dana.getByLabel(/^Short key/).fill('ncsc-desk');
  await dana.getByLabel('Name').last().fill('NCSC incident desk');
  await dana.getByLabel('Telephone').last().fill('0300 020 0973');
  await dana.getByRole('button', { name: 'Add the contact' }).click();
  await expect(dana.getByRole('status').filter({ hasText: 'Added NCSC incident desk.' })).toBeVisible();
  await expect(dana.getByRole('table', { name: 'External contacts' })).toContainText('NCSC incident desk');
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
