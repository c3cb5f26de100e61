import { test, expect } from '@playwright/test';
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NADIA, signIn, signInAndEnrol } from './helpers';

// Two Wardline instances on one PostgreSQL database, as behind a load balancer: a change
// made through one refreshes a page open on the other (LISTEN/NOTIFY). scripts/test.sh
// makes the database and names it in WARDLINE_E2E_POSTGRES.
const database = process.env.WARDLINE_E2E_POSTGRES;
const bin = process.env.WARDLINE_BIN ?? 'target/debug/wardline';
const root = path.resolve(__dirname, '..', '..');
const ports = [3231, 3232];
const GARETH = 'gareth.lloyd@demo.wardline.test';

test.skip(!database, 'needs WARDLINE_E2E_POSTGRES, a PostgreSQL database (scripts/test.sh makes one)');

const servers: ChildProcess[] = [];

function env(port: number) {
  return {
    ...process.env,
    WARDLINE_DATABASE_URL: database!,
    WARDLINE_ADDR: `127.0.0.1:${port}`,
    WARDLINE_SECRET_KEY_FILE: path.join(root, 'end2end', '.data', 'two-instances.key'),
    RUST_LOG: 'warn',
  };
}

async function ready(port: number) {
  for (let i = 0; i < 120; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`instance on ${port} did not become ready`);
}

test.beforeAll(async () => {
  fs.mkdirSync(path.join(root, 'end2end', '.data'), { recursive: true });
  execFileSync(bin, ['demo'], { cwd: root, env: env(ports[0]), stdio: 'ignore' });
  for (const port of ports) {
    servers.push(spawn(bin, ['serve'], { cwd: root, env: env(port), stdio: 'ignore' }));
  }
  await Promise.all(ports.map(ready));
});

test.afterAll(() => {
  for (const s of servers) s.kill('SIGTERM');
});

test('an acknowledgement through one instance refreshes the incident page open on the other', async ({ browser }) => {
  const [a, b] = ports.map((p) => `http://127.0.0.1:${p}`);
  // Nadia declares through instance A, and watches the incident through instance B.
  const declaring = await (await browser.newContext({ baseURL: a })).newPage();
  await signIn(declaring, NADIA, '/orgs');
  await declaring.goto('/declare');
  await declaring.getByLabel('A ransom message is on a screen, or files will not open').check();
  await declaring.getByLabel('Where is it happening?').fill('Reception PC');
  await declaring.getByRole('button', { name: 'Declare incident' }).click();
  await expect(declaring.getByRole('heading', { level: 1 })).toContainText('Ransomware');
  const incidentPath = new URL(declaring.url()).pathname;

  const watching = await (await browser.newContext({ baseURL: b })).newPage();
  await signIn(watching, NADIA, '/orgs');
  const listening = watching.waitForRequest(/\/live\/incidents\//);
  await watching.goto(incidentPath);
  await listening;
  const triage = watching
    .getByRole('table', { name: 'Runbook tasks' })
    .getByRole('row', { name: /Triage and declare the incident level/ });
  await expect(triage).toContainText('Waiting for acknowledgement');

  // Gareth acknowledges through instance A.
  const lead = await (await browser.newContext({ baseURL: a })).newPage();
  await signInAndEnrol(lead, GARETH);
  await lead.goto(incidentPath);
  await lead.getByRole('button', { name: 'Acknowledge: Triage and declare the incident level' }).click();
  await expect(lead.getByRole('table', { name: 'Runbook tasks' })
    .getByRole('row', { name: /Triage and declare the incident level/ })).toContainText('Acknowledged');

  // B's open page shows it within a second, without reloading.
  await expect(triage).toContainText('Acknowledged', { timeout: 1_000 });
  expect(new URL(watching.url()).pathname).toBe(incidentPath);
});
