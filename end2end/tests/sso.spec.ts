import { test, expect } from '@playwright/test';

// The webServer configuration starts a real OpenID provider (oidc-provider) and tells
// Wardline about it as "Test NHS login"; its sign-in page takes an account name and any
// password.

test('at phone width a person signs in with their organisation\'s identity provider', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto('/sign-in?next=%2Ftasks');
  await page.getByRole('link', { name: 'Sign in with Test NHS login' }).click();
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await page.getByLabel('Account').fill('sam');
  await page.getByLabel('Password').fill('whatever the provider asks');
  await page.getByRole('button', { name: 'Sign in to the provider' }).click();
  await expect(page).toHaveURL(/\/tasks$/);
  await page.goto('/account');
  await expect(page.getByText('sam.whitfield@demo.wardline.test')).toBeVisible();
});

test('someone the provider vouches for but Wardline does not know is told what to do', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Sign in with Test NHS login' }).click();
  await page.getByLabel('Account').fill('stranger');
  await page.getByLabel('Password').fill('x');
  await page.getByRole('button', { name: 'Sign in to the provider' }).click();
  await expect(page).toHaveURL(/\/sign-in\?sso=no-account$/);
  await expect(page.getByRole('alert')).toContainText('Ask your organisation\'s Wardline admin for an invitation');
  await expect(page.getByLabel('Email address')).toBeVisible();
});
