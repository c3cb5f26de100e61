import { test, expect } from '@playwright/test';
import { NADIA, signIn, signInAndEnrol } from './helpers';

const GARETH = 'gareth.lloyd@demo.wardline.test';

test('an open incident page and my tasks change without reloading when work happens elsewhere', async ({ browser }) => {
  const staff = await (await browser.newContext()).newPage();
  const lead = await (await browser.newContext()).newPage();

  await signIn(staff, NADIA, '/orgs');
  await staff.goto('/declare');
  await staff.getByLabel('A ransom message is on a screen, or files will not open').check();
  await staff.getByLabel('Where is it happening?').fill('Reception PC');
  await staff.getByRole('button', { name: 'Declare incident' }).click();
  await expect(staff.getByRole('heading', { level: 1 })).toContainText('Ransomware');
  const incidentUrl = staff.url();
  const listening = staff.waitForRequest(/\/live\/incidents\//);
  await staff.goto(incidentUrl);
  await listening;

  await signInAndEnrol(lead, GARETH);
  await lead.goto(incidentUrl);
  const triage = staff.getByRole('table', { name: 'Runbook tasks' }).getByRole('row', { name: /Triage and declare the incident level/ });
  await expect(triage).toContainText('Waiting for acknowledgement');
  await lead.getByRole('button', { name: 'Acknowledge: Triage and declare the incident level' }).click();
  await expect(triage).toContainText('Acknowledged');
  // The lead's own page shows it too, without a page load.
  await expect(lead.getByRole('table', { name: 'Runbook tasks' }).getByRole('row', { name: /Triage and declare the incident level/ })).toContainText('Acknowledged');
  expect(staff.url()).toBe(incidentUrl);

  const leadListening = lead.waitForRequest(/\/live\/tasks/);
  await lead.goto('/tasks');
  await leadListening;
  await expect(lead.getByRole('table', { name: /^Your tasks in / }).first()).toBeVisible();

  // A second incident elsewhere in the ICB reaches the lead's open task list by itself.
  await staff.goto('/declare');
  await staff.getByLabel('I clicked a suspicious email or link, or gave my password away').check();
  await staff.getByLabel('Where is it happening?').fill('Back office');
  await staff.getByRole('button', { name: 'Declare incident' }).click();
  await expect(staff.getByRole('heading', { level: 1 })).toContainText('Phishing');
  const second = staff.url().split('/').pop()!;
  expect(second).not.toBe(incidentUrl.split('/').pop());
  await expect(lead.getByRole('link', { name: second }).first()).toBeVisible();
});
