import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, NADIA, signIn } from './helpers';

// Sam signs in nowhere else in the browser suite, so the wrong passwords and the
// plain sign-in below never meet the per-account rate limit other tests use up.
const SAM = 'sam.whitfield@demo.wardline.test';

test('a wrong password is refused with a message and nothing typed is lost', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByLabel('Email address').fill(SAM);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('do not match an account');
  await expect(page.getByLabel('Email address')).toHaveValue(SAM);
});

test('signing in takes you where you were going, and signing out ends it', async ({ page }) => {
  await page.goto('/orgs/RJZ');
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel('Email address').fill(SAM);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText("King's College Hospital NHS Foundation Trust");
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto('/orgs');
  await expect(page).toHaveURL(/\/sign-in/);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('signing in works as a plain form post', async ({ page }) => {
    await signIn(page, NADIA, '/orgs');
    await expect(page.getByRole('heading', { level: 1, name: 'Organisations' })).toBeVisible();
  });

  test('a refused plain form post keeps the email typed, never the password', async ({ page }) => {
    await page.goto('/sign-in');
    await page.getByLabel('Email address').fill(SAM);
    await page.getByLabel('Password').fill('not my password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('do not match an account');
    await expect(page.getByLabel('Email address')).toHaveValue(SAM);
    await expect(page.getByLabel('Password')).toHaveValue('');
  });
});

test('the account page lists your access and your sessions', async ({ page }) => {
  await signIn(page, NADIA, '/account');
  await expect(page.getByRole('heading', { level: 1, name: 'Your account' })).toBeVisible();
  await expect(page.locator('dl')).toContainText('Staff at');
  await expect(page.getByRole('table', { name: 'Your sessions' })).toContainText('(this one)');
});
