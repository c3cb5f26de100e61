import { defineConfig } from '@playwright/test';

// The server under test: the built `wardline` binary on a fresh SQLite file with the demo
// data, started by Playwright and awaited until it answers. scripts/test.sh sets
// WARDLINE_BIN to the binary cargo-leptos built.
const port = Number(process.env.WARDLINE_E2E_PORT ?? 3210);
const bin = process.env.WARDLINE_BIN ?? 'target/debug/wardline';
const db = 'end2end/.data/e2e.db';
// A real OpenID provider for the single sign-on journey (end2end/oidc/provider.mjs).
const providerPort = port + 1;
const provider = `http://127.0.0.1:${providerPort}`;
const ssoAccounts = JSON.stringify({
  sam: { claims: { email: 'sam.whitfield@demo.wardline.test', email_verified: true }, amr: ['pwd'] },
  stranger: { claims: { email: 'nobody.here@demo.wardline.test', email_verified: true } },
});

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
  webServer: [{
    cwd: '..',
    command: 'node end2end/oidc/provider.mjs',
    env: {
      OIDC_PORT: String(providerPort),
      OIDC_ACCOUNTS: ssoAccounts,
      OIDC_REDIRECT_URIS: `http://127.0.0.1:${port}/sso/test/callback`,
      OIDC_CLIENT_SECRET: 'e2e-client-secret',
    },
    url: `${provider}/.well-known/openid-configuration`,
    timeout: 30_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  }, {
    cwd: '..',
    command: `rm -rf end2end/.data && mkdir -p end2end/.data && ${bin} demo`
      + ` && printf e2e-client-secret > end2end/.data/sso.secret`
      + ` && ${bin} sso add --slug test --name "Test NHS login" --issuer ${provider} --client-id wardline`
      + ` --client-secret-file end2end/.data/sso.secret --domains demo.wardline.test`
      + ` && ${bin} serve`,
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
  }],
});
