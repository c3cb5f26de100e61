import { test, expect } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signIn, signInAndEnrol } from './helpers';

// This test runs its own server, so that it can stop it: the pack must still read after.
const bin = process.env.WARDLINE_BIN ?? 'target/debug/wardline';
const port = Number(process.env.WARDLINE_E2E_PORT ?? 3210) + 7;
const base = `http://127.0.0.1:${port}`;

async function answering(url: string, within = 30_000): Promise<void> {
  const until = Date.now() + within;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

test.describe('on a server of its own', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  test.beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wardline-break-glass-'));
    const env = {
      ...process.env,
      WARDLINE_DATABASE_URL: `sqlite://${join(dir, 'pack.db')}`,
      WARDLINE_ADDR: `127.0.0.1:${port}`,
      RUST_LOG: 'warn',
    };
    execFileSync(bin, ['demo'], { env, cwd: '..', stdio: 'ignore' });
    server = spawn(bin, ['serve'], { env, cwd: '..', stdio: 'ignore' });
    await answering(`${base}/orgs`);
  });

  test.afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  // First, while the server is up: an incident names the catalogued systems it hits.
  test('staff tick the affected systems from the catalogue and the asset shows the incident', async ({ browser }) => {
    const admin = await (await browser.newContext({ baseURL: base })).newPage();
    await signInAndEnrol(admin, 'gareth.lloyd@demo.wardline.test');
    await admin.goto('/orgs/G85028/assets');
    await admin.locator('body[data-hydrated]').waitFor({ state: 'attached' });
    await admin.getByLabel('CSV to import').fill(
      'name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\n' +
        'EMIS Web,software,owen.fraser@demo.wardline.test,,GP clinical record,yes,,,,,\n' +
        'Reception PC 3,hardware,nadia.kowalski@demo.wardline.test,,Appointments,no,Windows,7,2020-01-14,,EMIS Web\n',
    );
    await admin.getByRole('button', { name: 'Import assets' }).click();
    await expect(admin.getByRole('status')).toContainText('2 added');

    const staff = await (await browser.newContext({ baseURL: base })).newPage();
    await signIn(staff);
    await staff.goto('/declare');
    await staff.getByLabel('A ransom message is on a screen, or files will not open').check();
    await staff.getByLabel('Where is it happening?').fill('Reception');
    await staff.getByRole('group', { name: /systems are affected/ }).getByLabel('Reception PC 3').check();
    await staff.getByRole('button', { name: 'Declare incident' }).click();
    await expect(staff.getByRole('heading', { level: 1 })).toContainText('Ransomware');
    const reference = staff.url().split('/').pop()!;
    const affected = staff.getByRole('region', { name: 'Systems affected' });
    await expect(affected.getByRole('link', { name: 'Reception PC 3' })).toBeVisible();
    await expect(affected).toContainText('Out of support');
    await affected.getByRole('link', { name: 'Reception PC 3' }).click();
    await expect(staff.getByRole('heading', { level: 1, name: 'Reception PC 3' })).toBeVisible();
    await expect(staff.getByRole('link', { name: reference })).toBeVisible();
    await expect(staff.getByRole('list', { name: 'Depends on' }).getByRole('link', { name: 'EMIS Web' })).toBeVisible();
  });

  test('prints contacts, escalation and runbooks, and still reads with the server stopped', async ({ browser }) => {
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await signIn(page);
    await page.goto('/orgs/G85028/break-glass');
    await expect(page.getByRole('heading', { level: 1, name: 'Break-glass pack: Stockwell Group Practice' })).toBeVisible();
    const contacts = page.getByRole('table', { name: /Contact tree/ });
    await expect(contacts.getByRole('cell', { name: 'Gareth Lloyd' }).first()).toBeVisible();
    await expect(page.getByRole('heading', { name: 'If nobody answers' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: 'Ransomware' })).toBeVisible();
    await expect(page.getByText(/version \d+ · generated/).first()).toBeAttached();

    // The page registered its worker; once it controls the page, a reload keeps a copy.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: /Break-glass pack/ })).toBeVisible();

    // Wardline goes down. The pack still opens, whole; other pages do not.
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    server = undefined;
    await expect.poll(async () => {
      try {
        await fetch(`${base}/orgs`);
        return 'up';
      } catch {
        return 'down';
      }
    }).toBe('down');
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Break-glass pack: Stockwell Group Practice' })).toBeVisible();
    await expect(page.getByRole('table', { name: /Contact tree/ }).getByRole('cell', { name: 'Gareth Lloyd' }).first()).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: 'Ransomware' })).toBeVisible();
    const other = await page.goto('/orgs').then(
      () => 'loaded',
      () => 'failed',
    );
    expect(other).toBe('failed');
    await context.close();
  });
});
