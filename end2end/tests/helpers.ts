import { expect, Page } from '@playwright/test';

export const DEMO_PASSWORD = 'wardline-demo';
export const NADIA = 'nadia.kowalski@demo.wardline.test';

/** Signs in through the real form, as a person would, and waits to land on `next`. */
export async function signIn(page: Page, email = NADIA, next = '/orgs') {
  const landed = new RegExp(`${next.replace(/[/]/g, '\\/')}$`);
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  // The suite signs the same demo people in far more often than anyone does: when the
  // sign-in limit (ten at once from one address, then one every 3 s) answers, wait as a
  // person would and try again.
  for (let attempt = 0; ; attempt++) {
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (await page.waitForURL(landed, { timeout: 5_000 }).then(() => true, () => false)) return;
    const limited = await page.getByRole('alert').filter({ hasText: 'Too many attempts' }).isVisible();
    if (!limited || attempt >= 5) break;
    await page.waitForTimeout(3_500);
  }
  await expect(page).toHaveURL(landed);
}

/** RFC 6238 code for a base32 secret, as an authenticator app would show it. */
export function totp(secretBase32: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  }
  const bytes = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { createHmac } = require('node:crypto');
  const mac: Buffer = createHmac('sha1', bytes).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, '0');
}

/** Signs in a person whose role needs MFA and enrols them through the account page. */
/** Signs in and turns on two-step verification; gives the authenticator secret. */
export async function signInAndEnrol(page: Page, email: string): Promise<string> {
  await signIn(page, email, '/orgs').catch(() => undefined);
  await page.goto('/account');
  // The setup shows its secret through the interactive page: wait until it has hydrated.
  await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
  await page.getByRole('button', { name: 'Start setting up' }).click();
  const secret = (await page.locator('code.secret').textContent())!.trim();
  await page.getByLabel('6-digit code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expect(page.getByRole('list', { name: 'Recovery codes' })).toBeVisible();
  return secret;
}
