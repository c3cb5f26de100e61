import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAndEnrol } from './helpers';

const PRIYA = 'priya.raman@demo.wardline.test';
const TOM = 'tom.okafor@demo.wardline.test';
const CHRIS = 'chris.doyle@demo.wardline.test';

async function noSeriousAxe(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
  expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${what} ${v.id}: ${v.help}`)).toEqual([]);
}

async function declare(page: Page, plain: string) {
  await page.goto('/declare');
  await page.getByLabel(plain).check();
  await page.getByLabel('Where is it happening?').fill('Pathology lab');
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('WL-');
}

test('an admin edits the runbook, then leads run an incident: command, reports, not applicable, reassign, print, integrity', async ({ page, browser }) => {
  await signInAndEnrol(page, PRIYA);

  // Guy's has no runbook of its own yet: it inherits the national default.
  await page.goto('/runbooks?org=RJ1');
  await expect(page.getByRole('table', { name: 'Runbooks in force' })).toContainText('National default');
  await noSeriousAxe(page, '/runbooks');
  await page.getByRole('link', { name: 'Ransomware' }).click();
  await expect(page.getByRole('heading', { name: 'Edit for RJ1' })).toBeVisible();
  await noSeriousAxe(page, '/runbooks/ransomware');
  const first = page.getByRole('group', { name: 'Step 1', exact: true });
  await first.getByLabel('Title').fill('Triage with the Guy\'s cyber team');
  await page.getByLabel('Remove step 2').check();
  await page.getByLabel('Runbook title').fill('Guy\'s ransomware plan');
  await page.getByRole('button', { name: 'Save as version 1' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved as version 1' })).toBeVisible();
  await expect(page.getByRole('paragraph').filter({ hasText: 'Version 1 by Guy\'s and St Thomas\' NHS Foundation Trust' })).toBeVisible();

  // An incident at Guy's uses the new version.
  await declare(page, 'A ransom message is on a screen, or files will not open');
  const incidentUrl = page.url();
  const tasks = page.getByRole('table', { name: 'Runbook tasks' });
  await expect(tasks).toContainText('Triage with the Guy\'s cyber team');
  await expect(page.getByText('Guy\'s ransomware plan (version 1)')).toBeVisible();

  // Command roles start from the on-call holders; the lead gives the loggist role.
  const command = page.getByRole('table', { name: 'Command roles in this incident' });
  await expect(command.getByRole('row', { name: /Gold \(strategic\)/ })).toContainText('Tom Okafor');
  await page.getByLabel('Who is Loggist').selectOption({ label: 'Helen Marsh, Caldicott Guardian at Guy\'s and St Thomas\' NHS Foundation Trust' });
  await page.getByRole('button', { name: 'Set Loggist' }).click();
  await expect(command.getByRole('row', { name: /Loggist/ })).toContainText('Helen Marsh');

  // The CSOC report is recorded with its reference, and the DSPT text carries it.
  await page.locator('summary').filter({ hasText: 'Record the report to NHS England CSOC' }).click();
  await page.getByRole('group', { name: 'What is the report for?' }).getByLabel('A request for support').check();
  await page.getByLabel('Reference given').first().fill('CSOC-2026-0077');
  await page.getByRole('button', { name: 'Record report to NHS England CSOC' }).click();
  const csoc = page.getByRole('listitem', { name: 'NHS England CSOC' });
  await expect(csoc).toContainText('(a request for support)');
  await expect(csoc).toContainText('reference CSOC-2026-0077');
  // NIS applies to a trust, but only counts once the impact is found significant.
  const nis = page.getByRole('listitem', { name: 'NIS competent authority (DHSC)' });
  await expect(nis).toContainText('To assess: answer the significant-impact questions');
  await nis.getByLabel('The incident disrupted the continuity of an essential (patient care) service').check();
  await nis.getByLabel('About how many patients or users are affected').fill('4000');
  await nis.getByLabel('How many hours it has lasted or is expected to last').fill('30');
  await nis.getByLabel('The whole organisation').check();
  await nis.getByLabel('Yes: report to DHSC within 72 hours from now').check();
  await nis.getByRole('button', { name: 'Record the NIS assessment' }).click();
  await expect(nis).toContainText(/Reportable: not reported yet: 7[01] h/);
  // The police are told nothing, with the reason kept, who decided it and when.
  const police = page.getByRole('listitem', { name: 'Police / Action Fraud' });
  await police.locator('summary').filter({ hasText: 'Not reportable to Police / Action Fraud' }).click();
  await police.getByLabel('Why it is not reportable').fill('A test message from our own phishing exercise, not a crime.');
  await police.getByRole('button', { name: 'Record not reportable to Police / Action Fraud' }).click();
  await expect(police).toContainText('Status');
  await expect(police.getByRole('definition').filter({ hasText: /^Not reportable$/ })).toBeVisible();
  await police.locator('summary').filter({ hasText: 'Decisions (1)' }).click();
  await expect(police).toContainText('Not reportable: A test message from our own phishing exercise, not a crime. (Priya Raman)');
  // The ledger reads at phone width and passes axe.
  await page.setViewportSize({ width: 360, height: 800 });
  await expect(police.getByRole('heading', { name: 'Police / Action Fraud' })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await noSeriousAxe(page, 'the obligations ledger');
  await page.setViewportSize({ width: 1280, height: 720 });
  // The trust knew two hours before it declared: the lead says so, and the clocks count from then.
  const earlier = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).format(new Date(Date.now() - 2 * 3600 * 1000)).replace(', ', 'T');
  await page.locator('summary').filter({ hasText: 'The organisation knew earlier than the declaration' }).click();
  await page.getByLabel('When it became aware (UK time)').fill(earlier);
  await page.getByLabel('How it knew then').fill('The ward reported locked screens two hours before.');
  await page.getByRole('button', { name: 'Set when we became aware' }).click();
  await expect(page.getByRole('region', { name: 'Timeline' })).toContainText('every reporting clock counts from it: The ward reported locked screens two hours before.');
  await page.locator('summary').filter({ hasText: 'Report text for the DSPT incident reporting tool' }).click();
  await expect(page.getByLabel('Copy this into the tool')).toHaveValue(/reference CSOC-2026-0077/);
  await expect(page.getByLabel('Copy this into the tool')).toHaveValue(/ODS code RJ1/);

  // A task marked not applicable, another reassigned, each with a reason.
  const row = (name: RegExp) => tasks.getByRole('row', { name });
  const contain = (await tasks.getByRole('rowheader').nth(1).textContent())!.replace(/^\d+\. /, '').split('How')[0].trim();
  await page.locator('summary').filter({ hasText: `Not applicable: ${contain}` }).click();
  await page.getByLabel(`Why “${contain}” does not apply`).fill('No machines on that network');
  await page.getByRole('button', { name: `Not applicable: ${contain}` }).click();
  await expect(row(new RegExp(contain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))).toContainText('Not applicable');
  const third = (await tasks.getByRole('rowheader').nth(2).textContent())!.replace(/^\d+\. /, '').split('How')[0].trim();
  await page.locator('summary').filter({ hasText: `Reassign: ${third}` }).click();
  const reassign = page.locator('details[open]').filter({ hasText: `Reassign: ${third}` });
  await reassign.getByLabel('Email of the person to take it').fill('helen.marsh@demo.wardline.test');
  await reassign.getByLabel(`Why “${third}” is reassigned`).fill('Helen covers this tonight');
  await reassign.getByRole('button', { name: `Reassign: ${third}` }).click();
  await expect(row(new RegExp(third.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))).toContainText('Helen Marsh');
  await expect(page.getByRole('region', { name: 'Timeline' })).toContainText('reassigned to Helen Marsh: Helen covers this tonight');
  await noSeriousAxe(page, '/incidents/:reference');

  // The timeline is whole, the incident prints with the time it was read.
  await page.getByRole('link', { name: 'Printable version' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Ransomware');
  await expect(page.getByText(/Printed from Wardline; read at/)).toBeVisible();
  await expect(page.getByText('Loggist: Helen Marsh', { exact: true })).toBeVisible();
  await noSeriousAxe(page, '/incidents/:reference/print');
  await page.goto('/admin/timelines');
  await expect(page.getByRole('status').filter({ hasText: /timelines are whole/ })).toBeVisible();
  await noSeriousAxe(page, '/admin/timelines');

  // Without JavaScript, the Gold commander (a lead, not an admin) works his own task.
  const tom = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await signIn(tom, TOM, '/orgs');
  await tom.goto(incidentUrl);
  const mine = (await tom.locator('summary').filter({ hasText: /^Not applicable: / }).first().textContent())!.replace('Not applicable: ', '').trim();
  await tom.locator('summary').filter({ hasText: `Not applicable: ${mine}` }).first().click();
  await tom.getByLabel(`Why “${mine}” does not apply`).fill('Handled by the trust board instead');
  await tom.getByRole('button', { name: `Not applicable: ${mine}` }).click();
  await expect(tom.getByRole('table', { name: 'Runbook tasks' }).getByRole('row', { name: new RegExp(mine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) })).toContainText('Not applicable');
});

test('a supplier declares and opens linked incidents at every organisation it serves', async ({ page }) => {
  await signIn(page, CHRIS, '/orgs');
  await declare(page, 'A supplier told us they have been attacked');
  const served = page.getByRole('region', { name: 'Organisations this supplier serves' });
  await expect(served).toContainText('Not yet told:');
  await served.getByRole('button', { name: 'Open linked incidents at 2 organisations' }).click();
  const linked = served.getByRole('table', { name: 'Linked incidents' });
  await expect(linked.getByRole('row')).toHaveCount(3);
  await expect(linked).toContainText('King\'s College Hospital NHS Foundation Trust');
  await expect(linked).toContainText('Guy\'s and St Thomas\' NHS Foundation Trust');
  await expect(linked).toContainText('Declared');
  await noSeriousAxe(page, 'supplier incident');
});
