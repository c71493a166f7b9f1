// Webhooks in the dashboard's settings, end to end in headless Chromium: an
// admin adds a webhook pointing at a receiver started here, copies its secret
// (shown once), sends a test, and sees the delivery arrive, signed with that
// secret, and the webhook's health follow; a refused form says why; a webhook
// is turned off, on again, and deleted.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

import { api, assert, admin, base, eventually, run, test } from './lib/harness.mjs';
import { signIn, submit, tag, wellFormed } from './lib/pages.mjs';

/** A receiver on a free port that answers 204 and keeps what it got. */
async function receiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => server.close() };
}

/** Whether a Standard Webhooks signature header holds the signature of this delivery with `secret`. */
function signedWith(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest('base64');
  return headers['webhook-signature'].split(' ').includes('v1,' + expected);
}

/** The webhook of the API whose description is `description`. */
async function byDescription(description) {
  const list = await api('GET', '/v1/webhooks');
  assert.equal(list.status, 200, list.text);
  return list.body.items.find((w) => w.description === description);
}

test('webhooks: an admin adds one, sees its secret once, sends a test and sees it delivered and healthy', async ({ page }) => {
  const hook = await receiver();
  try {
    const description = `Support ${tag()} <img src=x onerror="window.__pwned=1">`;
    await signIn(page);
    await submit(page, '[data-testid=nav-settings]');
    await page.locator('[data-testid=webhooks-panel]').waitFor();
    await submit(page, '[data-testid=manage-webhooks]');
    assert.equal(new URL(page.url()).pathname, '/settings/webhooks');
    assert.equal(await page.locator('h1').textContent(), 'Webhooks');
    assert.equal(await page.locator('[data-testid=nav-settings]').getAttribute('aria-current'), 'page');
    await wellFormed(page, 'webhooks');

    await page.fill('#webhook-url', `${hook.url}/hooks/a-secret-path`);
    await page.check('#event-feedback-created');
    await page.check('#event-vote-created');
    await page.fill('#webhook-description', description);
    await submit(page, '[data-testid=create-webhook]');

    // The secret, this once; the URL's path is masked.
    const secret = (await page.locator('[data-testid=webhook-secret-value]').textContent()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{30,}$/);
    const row = page.locator('[data-testid=webhook-row]', { hasText: description });
    assert.equal((await row.locator('[data-testid=webhook-url]').textContent()).trim(), `${hook.url}/****`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the description is shown as text');
    const made = await byDescription(description);
    assert.ok(made, 'the API lists the new webhook');
    assert.deepEqual(made.events, ['feedback.created', 'vote.created']);
    assert.equal(made.secret, undefined);

    // Opened again, the page does not show it.
    await page.goto(base + '/settings/webhooks');
    assert.equal(await page.locator('[data-testid=webhook-secret]').count(), 0);
    assert.ok(!(await page.content()).includes(secret));
    assert.equal(await row.locator('[data-testid=webhook-state]').textContent(), 'active');
    assert.match(await row.locator('[data-testid=webhook-last-success]').textContent(), /never/);

    // A test from the list leads to the webhook's deliveries.
    await submit(page, row.locator('[data-testid=webhook-test]'));
    assert.equal(new URL(page.url()).pathname, `/settings/webhooks/${made.id}`);
    assert.match(await page.locator('[data-testid=notice]').textContent(), /test \(a ping\) is queued/);
    await wellFormed(page, 'webhook');
    const ping = page.locator('[data-testid=delivery-row][data-event-type=ping]');
    assert.equal(await ping.count(), 1);

    // The worker delivers it; the page shows the answer and the health.
    await eventually(async () => {
      await page.reload();
      return (await ping.getAttribute('data-status')) === 'succeeded';
    }, { timeout: 20000, interval: 300 });
    assert.match(await ping.textContent(), /HTTP 204/);
    assert.match(await page.locator('[data-testid=webhook-health] [data-testid=webhook-last-success]').textContent(), /UTC/);
    assert.equal(await page.locator('[data-testid=webhook-health] [data-testid=webhook-state]').textContent(), 'active');
    assert.equal(await page.locator('[data-testid=webhook-health] [data-testid=webhook-pending]').textContent(), '0');
    assert.equal(await page.locator('[data-testid=webhook-health] [data-testid=webhook-failed]').textContent(), '0');

    // It reached the receiver, signed with the secret shown once.
    const got = await eventually(() => hook.received.find((r) => r.body.includes(made.id)));
    assert.equal(got.path, '/hooks/a-secret-path');
    assert.equal(got.headers['webhook-id'], await ping.getAttribute('data-delivery-id'));
    assert.equal(JSON.parse(got.body).type, 'ping');
    assert.ok(signedWith(secret, got.headers, got.body), 'the signature verifies with the secret shown once');

    // The Settings page lists it with its health.
    await page.goto(base + '/settings');
    const listed = page.locator('[data-testid=webhooks-panel] [data-testid=webhook-row]', { hasText: description });
    assert.match(await listed.locator('[data-testid=webhook-last-success]').textContent(), /UTC/);
    assert.equal(await listed.locator('[data-testid=webhook-state]').textContent(), 'active');
  } finally {
    hook.close();
  }
});

test('webhooks: a refused form says why and keeps what was typed; off, on and delete', async ({ page }) => {
  const description = `Refused ${tag()}`;
  await signIn(page);
  await page.goto(base + '/settings/webhooks');
  await page.fill('#webhook-url', 'ftp://hooks.example.com/x');
  await page.check('#event-csat-answered');
  await page.fill('#webhook-description', description);
  await submit(page, '[data-testid=create-webhook]');
  assert.match(await page.locator('[data-testid=form-error]').textContent(), /url: must be an https URL/);
  assert.equal(await page.inputValue('#webhook-url'), 'ftp://hooks.example.com/x');
  assert.equal(await page.inputValue('#webhook-description'), description);
  assert.ok(await page.isChecked('#event-csat-answered'));
  assert.equal(await byDescription(description), undefined);

  // Fixed, with only the negative ones, in the Slack format.
  await page.fill('#webhook-url', 'http://127.0.0.1:9/slack/T000/B000/XXXX');
  await page.check('#webhook-only-negative');
  await page.selectOption('#webhook-format', 'slack');
  await submit(page, '[data-testid=create-webhook]');
  await page.locator('[data-testid=webhook-secret]').waitFor();
  const made = await byDescription(description);
  assert.equal(made.format, 'slack');
  assert.equal(made.only_negative, true);

  const row = page.locator('[data-testid=webhook-row]', { hasText: description });
  await submit(page, row.locator('[data-testid=webhook-open]'));
  await submit(page, '[data-testid=webhook-turn-off]');
  assert.equal(await page.locator('[data-testid=webhook-health] [data-testid=webhook-state]').textContent(), 'off');
  assert.equal((await byDescription(description)).active, false);
  await submit(page, '[data-testid=webhook-turn-on]');
  assert.equal(await page.locator('[data-testid=webhook-health] [data-testid=webhook-state]').textContent(), 'active');
  assert.equal((await byDescription(description)).active, true);

  await page.check('[data-testid=webhook-delete-confirm]');
  await submit(page, '[data-testid=webhook-delete-submit]');
  assert.equal(new URL(page.url()).pathname, '/settings/webhooks');
  assert.match(await page.locator('[data-testid=notice]').textContent(), /deleted/);
  assert.equal(await byDescription(description), undefined);
});

await run();
