import { defineConfig } from '@playwright/test';

// The server under test: the built `wardline` binary on a fresh SQLite file with the demo
// data, started by Playwright and awaited until it answers. scripts/test.sh sets
// WARDLINE_BIN to the binary cargo-leptos built.
const port = Number(process.env.WARDLINE_E2E_PORT ?? 3210);
const bin = process.env.WARDLINE_BIN ?? 'target/debug/wardline';
const db = 'end2end/.data/e2e.db';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    cwd: '..',
    command: `rm -rf end2end/.data && mkdir -p end2end/.data && ${bin} demo && ${bin} serve`,
    env: {
      WARDLINE_DATABASE_URL: `sqlite://${db}`,
      WARDLINE_ADDR: `127.0.0.1:${port}`,
      RUST_LOG: 'warn',
    },
    url: `http://127.0.0.1:${port}/orgs`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
