import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn } from './helpers';

// Aisha (staff at King's) is signed in by no other browser test that makes tokens.
const AISHA = 'aisha.bello@demo.wardline.test';

test('at phone width a person makes an API token, uses it once, and revokes it', async ({ page, request }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await signIn(page, AISHA, '/account');
  const section = page.getByRole('region', { name: 'API tokens' });
  await expect(section.getByText('You have no API tokens.')).toBeVisible();
  await section.getByLabel('Name (what uses it)').fill('ward dashboard');
  await section.getByLabel('Organisations (ODS codes, optional)').fill('RJZ');
  await section.getByLabel('Read only').check();
  await section.getByRole('button', { name: 'Make the token' }).click();

  const secret = page.getByLabel('API token', { exact: true });
  await expect(secret).toHaveValue(/^wlt_/);
  const token = await secret.inputValue();
  await expect(page.getByRole('table', { name: 'Your API tokens' })).toContainText('ward dashboard');
  const axe = await new AxeBuilder({ page }).include('#api-tokens').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  const used = await request.get('/api/v1/orgs/RJZ', { headers: { Authorization: `Bearer ${token}` } });
  expect(used.status()).toBe(200);
  expect((await used.json()).org.code).toBe('RJZ');

  // Shown once: a reload no longer has it.
  await page.reload();
  await expect(page.getByLabel('API token', { exact: true })).toHaveCount(0);
  await page.getByRole('button', { name: 'Revoke ward dashboard' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The token is revoked' })).toBeVisible();
  const refused = await request.get('/api/v1/orgs/RJZ', { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  expect(refused.headers()['content-type']).toBe('application/problem+json');
});

test('the API reference page reads the OpenAPI document', async ({ page }) => {
  await page.goto('/api/v1/docs');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wardline API, version 1');
  await expect(page.getByRole('heading', { name: 'POST /api/v1/alerts' })).toBeVisible();
  await expect(page.getByRole('link', { name: '/api/v1/openapi.json' })).toBeVisible();
});
