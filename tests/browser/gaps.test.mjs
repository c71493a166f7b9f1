// Knowledge gaps, end to end in headless Chromium: paraphrased questions
// thumbed down in several conversations show as one group, its examples open
// their conversations, and the answer written on the page becomes a golden
// example. Each test makes its own bot, so they stand alone.

import { api, assert, base, run, test } from './lib/harness.mjs';
import { signIn, submit, tag, wellFormed } from './lib/pages.mjs';


async function ok(method, path, body) {
  const r = await api(method, path, body);
  assert.ok([200, 201].includes(r.status), `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** A conversation of `bot` where `question` got an answer, thumbed down. */
async function thumbedDown(bot, question) {
  const id = 'gap-' + tag();
  await ok('PUT', `/v1/conversations/${id}`, { bot_id: bot, contact_id: 'visitor-' + id });
  await ok('POST', `/v1/conversations/${id}/messages`, { id: `${id}-q`, role: 'user', content: question });
  await ok('POST', `/v1/conversations/${id}/messages`, { id: `${id}-a`, role: 'assistant', content: 'I do not know.' });
  await ok('POST', '/v1/feedback', { message_id: `${id}-a`, feedback_type: 'negative', user_id: 'visitor-' + id });
  return id;
}

/** Waits until the embedding worker has represented every question of `bot`. */
async function represented(bot) {
  for (let i = 0; i < 600; i++) {
    const listed = await ok('GET', `/v1/recommendations?bot_id=${bot}&limit=500`);
    if (listed.items.every((g) => !g.pending)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('questions still pending after a minute');
}

test('knowledge gaps: paraphrases from several conversations are one group, and its answer becomes a golden example', async ({ page }) => {
  const bot = await ok('POST', '/v1/bots', { name: 'Gaps ' + tag() });
  const xss = '<script>window.__pwned=1</script> do you deliver on sundays';
  const conversations = [];
  for (const q of ['Where is my order?', "where's my order??", "My order hasn't arrived, where is it"]) {
    conversations.push(await thumbedDown(bot.id, q));
  }
  await thumbedDown(bot.id, 'How do I reset my password');
  await thumbedDown(bot.id, xss);
  await represented(bot.id);

  await signIn(page);
  await submit(page, '[data-testid=nav-gaps]');
  assert.equal(await page.locator('h1').textContent(), 'Knowledge gaps');
  assert.equal(await page.locator('[data-testid=nav-gaps]').getAttribute('aria-current'), 'page');
  await page.selectOption('#bot_id', bot.id);
  await submit(page, '#gaps-filters button[type=submit]');

  const items = page.locator('[data-testid=gap-item]');
  assert.equal(await items.count(), 3);
  const first = items.first();
  assert.equal(await first.getAttribute('data-count'), '3', 'the three paraphrases, largest group first');
  assert.match(await first.locator('[data-testid=gap-question]').textContent(), /where.*order/i);
  const listed = await ok('GET', `/v1/recommendations?bot_id=${bot.id}`);
  assert.equal(await first.getAttribute('data-gap-id'), listed.items[0].id, 'the page shows the API\'s groups');
  assert.equal(typeof (await page.evaluate(() => window.__pwned)), 'undefined', 'user text stays text');
  assert.ok(await page.getByText(xss).count(), 'the question is shown as written');

  // The examples open their conversations.
  await first.locator('summary').click();
  const links = first.locator('[data-testid=gap-example] a');
  assert.equal(await links.count(), 3);
  await submit(page, `#gap-${listed.items[0].id} [data-testid=gap-example] a >> nth=0`);
  assert.ok(conversations.includes(decodeURIComponent(new URL(page.url()).pathname.split('/').pop())));
  await page.locator('[data-testid=transcript]').waitFor();
  await page.goBack();

  // Writing the answer: the group shows as answered, the answer is a golden example.
  const answer = 'You can follow your parcel from Account, Orders, Track.';
  const id = listed.items[0].id;
  await page.locator(`#gap-${id} [data-testid=gap-answer]`).fill(answer);
  await submit(page, `#gap-${id} [data-testid=gap-submit]`);
  assert.match(await page.locator('[data-testid=notice]').textContent(), /golden example/);
  await page.locator(`#gap-${id} [data-testid=gap-answered]`).waitFor();
  assert.equal(await page.locator(`#gap-${id} [data-testid=gap-form]`).count(), 0);
  assert.equal(await page.locator('[data-testid=gap-form]').count(), 2, 'the other groups are still open');
  const after = await ok('GET', `/v1/recommendations?bot_id=${bot.id}`);
  assert.equal(after.items[0].answered, true);

  await submit(page, '[data-testid=nav-golden]');
  const row = page.locator('[data-testid=golden-row]', { hasText: answer });
  assert.equal(await row.count(), 1);
  assert.equal(await row.locator('[data-testid=golden-from-gap]').count(), 1);
});

test('knowledge gaps: the demo shows groups, one of them answered, and the page is well formed', async ({ page }) => {
  await signIn(page);
  await page.goto(base + '/gaps');
  const items = page.locator('[data-testid=gap-item]');
  assert.ok((await items.count()) >= 3, 'the demo has knowledge gaps');
  assert.ok((await page.locator('[data-testid=gap-answered]').count()) >= 1, 'and one is answered');
  await wellFormed(page, '/gaps');
  // An empty answer is stopped by the browser: the field is required.
  const form = page.locator('[data-testid=gap-form]').first();
  await form.locator('[data-testid=gap-submit]').click();
  assert.equal(await form.locator('[data-testid=gap-answer]').evaluate((t) => t.validity.valueMissing), true);
  assert.equal(new URL(page.url()).pathname, '/gaps');
});

await run();
