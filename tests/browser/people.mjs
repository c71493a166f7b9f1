// People, end to end in headless Chromium: an admin invites a viewer from
// the dashboard, the viewer sets a password through the link and signs in
// with it, and cannot reach a reviewer's action; people sign in through a
// real OpenID Connect provider (oidc-provider.mjs), as an invited user or as
// a newcomer of the join domain, and strangers are turned away.
//
// Run by `cargo test --test browser` against a server configured for single
// sign-on: node people.mjs <base-url> <admin-key>. The provider's users are
// the ones the Rust side started it with (see SSO_USERS there).

import { assert, base, run, test } from './lib/harness.mjs';

async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), page.locator(button).click()]);
}

async function signInWithKey(page, key) {
  await page.goto(base + '/login');
  await page.click('#key-sign-in summary');
  await page.fill('#key', key);
  await submit(page, '[data-testid=key-submit]');
}

/** Through the provider's own login form, back to Plaudit. */
async function singleSignOn(page, email, password) {
  await page.goto(base + '/login');
  await submit(page, '[data-testid=sso-sign-in]');
  assert.ok(!page.url().startsWith(base), 'the browser is at the provider: ' + page.url());
  await page.fill('#login', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((url) => url.toString().startsWith(base)), page.click('#submit')]);
  await page.waitForLoadState('load');
}

test('an invited viewer sets a password, signs in with it, and cannot reach a reviewer action', async ({ page, browser, admin }) => {
  await signInWithKey(page, admin);
  await page.goto(base + '/users');
  await page.fill('#invite-email', 'pat@example.com');
  await page.fill('#invite-name', 'Pat <b>Viewer</b>');
  await page.selectOption('#invite-role', 'viewer');
  await submit(page, '[data-testid=invite-submit]');
  const link = await page.locator('[data-testid=invitation-link]').inputValue();
  assert.match(link, /\/invite\/pli_/);
  // The name is text, never markup.
  assert.equal(await page.locator('#users-table b').count(), 0);

  const context = await browser.newContext();
  const pat = await context.newPage();
  await pat.goto(link);
  await pat.fill('#password', 'short');
  await pat.fill('#confirm', 'short');
  // The browser's own check stops a short password; the server's too.
  await pat.locator('#password').evaluate((el) => el.removeAttribute('minlength'));
  await pat.locator('#confirm').evaluate((el) => el.removeAttribute('minlength'));
  await submit(pat, '[data-testid=invitation-submit]');
  assert.match(await pat.locator('[data-testid=invitation-error]').textContent(), /at least 12 characters/);
  await pat.fill('#password', 'a long enough password');
  await pat.fill('#confirm', 'a long enough password');
  await submit(pat, '[data-testid=invitation-submit]');
  assert.equal(new URL(pat.url()).pathname, '/');
  assert.match(await pat.locator('[data-testid=who]').textContent(), /Pat <b>Viewer<\/b> \(viewer\)/);

  // Signed out, the password signs in again.
  await pat.goto(base + '/logout');
  await submit(pat, '#logout-confirm button');
  await pat.fill('#email', 'pat@example.com');
  await pat.fill('#password', 'a long enough password');
  await submit(pat, '[data-testid=login-submit]');
  assert.equal(new URL(pat.url()).pathname, '/');

  // A viewer sees no review, golden examples or settings, and no answer form on gaps.
  for (const hidden of ['nav-review', 'nav-golden', 'nav-settings', 'nav-users', 'nav-audit']) {
    assert.equal(await pat.locator(`[data-testid=${hidden}]`).count(), 0, hidden);
  }
  await pat.goto(base + '/gaps');
  assert.equal(await pat.locator('[data-testid=gap-form]').count(), 0);
  // Typed in by hand, the reviewer's page answers 403.
  const response = await pat.goto(base + '/review');
  assert.equal(response.status(), 403);
  assert.match(await pat.locator('#error-message').textContent(), /needs the reviewer role/);
  await context.close();

  // The admin sees the person, and the change in the audit log.
  await page.goto(base + '/audit');
  assert.ok(await page.locator('[data-testid=audit-row][data-action="user.invited"]').count() >= 1);
  assert.ok(await page.locator('[data-testid=audit-row][data-action="user.joined"]').count() >= 1);
});

test('single sign-on: an invited user signs in through the provider with their role', async ({ page }) => {
  await singleSignOn(page, 'ana@example.com', 'ana password');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.locator('[data-testid=who]').textContent(), /\(reviewer\)/);
  const review = await page.goto(base + '/review');
  assert.equal(review.status(), 200);
});

test('single sign-on: a newcomer of the join domain joins as a viewer', async ({ page }) => {
  await singleSignOn(page, 'vic@partner.example', 'vic password');
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.locator('[data-testid=who]').textContent(), /Vic \(viewer\)/);
  assert.equal(await page.locator('[data-testid=nav-review]').count(), 0);
  const review = await page.goto(base + '/review');
  assert.equal(review.status(), 403);
});

test('single sign-on: strangers and unverified emails are turned away', async ({ page, browser }) => {
  await singleSignOn(page, 'zed@elsewhere.org', 'zed password');
  assert.match(await page.locator('[data-testid=sso-error]').textContent(), /has no user here/);
  assert.equal(await page.locator('#main-nav').count(), 0);
  const context = await browser.newContext();
  const eve = await context.newPage();
  await singleSignOn(eve, 'eve@partner.example', 'eve password');
  assert.match(await eve.locator('[data-testid=sso-error]').textContent(), /verified email/);
  await context.close();
  // A callback without the round trip's cookie signs nobody in.
  const forged = await page.goto(base + '/auth/oidc/callback?code=abc&state=def');
  assert.equal(forged.status(), 400);
});

await run();
