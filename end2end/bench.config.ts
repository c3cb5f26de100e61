import { defineConfig } from '@playwright/test';

// Benchmarks, not tests: scripts/bench-pages.sh starts a release build on fresh demo data
// and runs these against it. They print figures for docs/BENCHMARKS.md and assert nothing
// about time.
const port = Number(process.env.WARDLINE_BENCH_PORT ?? 3500);

export default defineConfig({
  testDir: './bench',
  timeout: 600_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 360, height: 780 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    },
  },
});
