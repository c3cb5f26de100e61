import { expect, Page } from '@playwright/test';

export const DEMO_PASSWORD = 'wardline-demo';
export const NADIA = 'nadia.kowalski@demo.wardline.test';

/** Signs in through the real form, as a person would, and waits to land on `next`. */
export async function signIn(page: Page, email = NADIA, next = '/orgs') {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[/]/g, '\\/')}$`));
}
