// The dashboard, end to end in headless Chromium: signing in, the inbox and
// its transcripts, the review queue, golden examples, settings, the whole
// loop from the demo chat to the dashboard, and escaping of user text.
//
// Tests that change data make their own bot (or conversation) first, so each
// one stands alone and in any order.

import { api, assert, admin, base, eventually, run, test } from './lib/harness.mjs';
import { signIn, submit, tag, wellFormed } from './lib/pages.mjs';

const PAYLOADS = ['<script>window.__pwned=1</script>', '"><img src=x onerror="window.__pwned=1">'];
const XSS = PAYLOADS.join(' ');

/** A short tag, different on every run, to tell this run's data apart. */
/** Checks that a JSON API call answered `status`, and gives its body. */
async function ok(method, path, body, status = [200, 201]) {
  const r = await api(method, path, body);
  assert.ok([status].flat().includes(r.status), `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** A bot of its own for one test. */
async function newBot(name) {
  return ok('POST', '/v1/bots', { name });
}

/**
 * A conversation of `bot` with one user question and one assistant answer per
 * pair of `turns` ([question, answer], ...). Returns its id and the answers' ids.
 */
async function conversation(bot, turns, { id = 'e2e-' + tag(), contact = 'e2e-visitor' } = {}) {
  await ok('PUT', `/v1/conversations/${id}`, { bot_id: bot, contact_id: contact, locale: 'en' });
  const answers = [];
  for (const [i, [question, answer]] of turns.entries()) {
    await ok('POST', `/v1/conversations/${id}/messages`, { id: `${id}-q${i}`, role: 'user', content: question });
    await ok('POST', `/v1/conversations/${id}/messages`, { id: `${id}-a${i}`, role: 'assistant', content: answer });
    answers.push(`${id}-a${i}`);
  }
  return { id, answers };
}

const cardValue = async (page, id) => Number((await page.locator(`#${id} .card-value`).textContent()).trim());
const rowIds = (page) =>
  page.locator('[data-testid=inbox-row]').evaluateAll((rows) => rows.map((r) => r.dataset.conversationId));

test('sign in: a wrong key shows the error, the admin key opens the overview, signing out closes it', async ({ page }) => {
  // Signed out, a page leads to the sign-in form.
  await page.goto(base + '/inbox');
  assert.equal(new URL(page.url()).pathname, '/login');

  await page.click('#key-sign-in summary');

  await page.fill('#key', 'plk_not_a_real_key');
  await submit(page, '[data-testid=key-submit]');
  const error = page.locator('[data-testid=login-error]');
  await error.waitFor();
  assert.match(await error.textContent(), /not valid/);
  assert.equal(await page.locator('#main-nav').count(), 0);

  // A public key is a real key, but not an admin one.
  const html = await (await fetch(base + '/demo')).text();
  const publicKey = html.match(/data-key="([^"]+)"/)[1];
  await page.click('#key-sign-in summary');
  await page.fill('#key', publicKey);
  await submit(page, '[data-testid=key-submit]');
  assert.match(await page.locator('[data-testid=login-error]').textContent(), /needs an admin key/);

  await signIn(page);
  assert.equal(new URL(page.url()).pathname, '/');
  await page.locator('#card-thumbs-up').waitFor();
  await page.locator('#card-thumbs-down').waitFor();
  await page.locator('#chart-csat').waitFor();
  const overview = await ok('GET', '/v1/analytics/overview');
  assert.equal(await cardValue(page, 'card-thumbs-up'), overview.message_feedback.thumbs_up.count);
  assert.equal(await cardValue(page, 'card-thumbs-down'), overview.message_feedback.thumbs_down.count);
  // A rise is good news for thumbs up and bad news for thumbs down.
  for (const [card, figure, better] of [['card-thumbs-up', 'thumbs_up', true], ['card-thumbs-down', 'thumbs_down', false]]) {
    const c = overview.message_feedback[figure].change_percent;
    if (!c) continue;
    const tone = c > 0 === better ? 'better' : 'worse';
    assert.equal(await page.locator(`#${card} .change`).getAttribute('class'), `change ${tone}`, card);
  }
  // The thumbs cards open the inbox's thumbs filter (not the satisfaction one).
  for (const [card, thumbs] of [['card-thumbs-up', 'up'], ['card-thumbs-down', 'down']]) {
    const href = new URL(await page.locator(`#${card}`).getAttribute('href'), base);
    assert.equal(href.searchParams.get('thumbs'), thumbs, card);
    assert.equal(href.searchParams.get('feedback'), null, card);
  }

  // Every section opens from the navigation.
  for (const [nav, heading] of [['inbox', 'Inbox'], ['review', 'Review queue'], ['golden', 'Golden examples'], ['settings', 'Settings']]) {
    await submit(page, `[data-testid=nav-${nav}]`);
    assert.equal(await page.locator('h1').textContent(), heading);
    assert.equal(await page.locator(`[data-testid=nav-${nav}]`).getAttribute('aria-current'), 'page');
    await wellFormed(page, nav);
  }

  await submit(page, '[data-testid=sign-out]');
  await page.goto(base + '/settings');
  assert.equal(new URL(page.url()).pathname, '/login');
});

test('inbox: the feedback and text filters show exactly what the API lists; a transcript shows badges and the reason on focus', async ({ page }) => {
  await signIn(page);
  await submit(page, '[data-testid=nav-inbox]');
  await page.selectOption('#feedback', 'downvote');
  await submit(page, '[data-testid=inbox-apply]');
  assert.equal(new URL(page.url()).searchParams.get('feedback'), 'downvote');

  const downvoted = await ok('GET', '/v1/conversations?feedback=downvote');
  assert.ok(downvoted.items.length > 0, 'the demo has conversations with negative feedback');
  assert.deepEqual(await rowIds(page), downvoted.items.map((c) => c.id));
  const pills = await page.locator('[data-testid=inbox-row] [data-satisfaction]').evaluateAll((ps) => ps.map((p) => p.dataset.satisfaction));
  assert.deepEqual([...new Set(pills)], ['negative']);
  assert.equal(await page.locator('[data-testid=inbox-next]').count(), downvoted.next_cursor ? 1 : 0);

  // The thumbs filter: conversations with a thumbs-down on an answer, whatever their satisfaction.
  await page.selectOption('#feedback', '');
  await page.selectOption('#thumbs', 'down');
  await submit(page, '[data-testid=inbox-apply]');
  const thumbedDown = await ok('GET', '/v1/conversations?thumbs=down');
  assert.ok(thumbedDown.items.length > 0 && thumbedDown.items.every((c) => c.thumbs_down > 0));
  assert.deepEqual(await rowIds(page), thumbedDown.items.map((c) => c.id));
  await page.selectOption('#thumbs', '');

  // Text search, with the feedback filter back to any.
  await page.selectOption('#feedback', '');
  await page.fill('#q', 'Refund');
  await submit(page, '[data-testid=inbox-apply]');
  const found = await ok('GET', '/v1/conversations?q=Refund');
  assert.ok(found.items.length > 0, 'the demo has conversations about refunds');
  const ids = await rowIds(page);
  assert.deepEqual(ids, found.items.map((c) => c.id));
  for (const id of ids.slice(0, 10)) {
    const t = await ok('GET', `/v1/conversations/${encodeURIComponent(id)}`);
    const text = [t.id, t.contact_id ?? '', ...t.messages.map((m) => m.content)].join('\n').toLowerCase();
    assert.ok(text.includes('refund'), `${id} mentions a refund`);
  }

  // Nothing matches: the empty state.
  await page.fill('#q', 'no conversation says this ' + tag());
  await submit(page, '[data-testid=inbox-apply]');
  await page.locator('[data-testid=inbox-empty]').waitFor();
  assert.equal(await page.locator('[data-testid=inbox-row]').count(), 0);

  // A thumbed-down conversation with a negative reason, from the downvote filter.
  const pick = downvoted.items.find((c) => c.thumbs_down > 0 && c.satisfaction.negative_reason);
  assert.ok(pick, 'a negative conversation with a thumbs-down and a reason');
  await page.goto(base + '/inbox?feedback=downvote');
  await submit(page, `[data-testid=inbox-row][data-conversation-id="${pick.id}"] [data-testid=conversation-link]`);
  assert.equal(new URL(page.url()).pathname, `/inbox/${pick.id}`);
  const transcript = await ok('GET', `/v1/conversations/${encodeURIComponent(pick.id)}`);
  const shown = transcript.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
  assert.equal(await page.locator('[data-testid=message][data-role=user], [data-testid=message][data-role=assistant]').count(), shown.length);
  const down = transcript.messages.filter((m) => m.feedback && m.feedback.down > 0);
  assert.equal(await page.locator('[data-testid=badge-down]').count(), down.length);
  for (const m of down) {
    const badge = page.locator(`[id="m-${m.id}"] [data-testid=badge-down]`);
    assert.equal((await badge.textContent()).trim(), String(m.feedback.down));
  }
  const card = page.locator('#satisfaction-card');
  assert.equal(await card.getAttribute('data-satisfaction'), 'negative');
  assert.equal((await card.locator('.pill').textContent()).trim(), 'Negative');

  // The negative reason is hidden until the reason gets the keyboard focus.
  const reason = page.locator('[data-testid=negative-reason]');
  const popover = page.locator('#negative-reason-text');
  assert.equal(await popover.isVisible(), false);
  await page.locator('#sat-title').click();
  await eventually(async () => {
    if (await reason.evaluate((el) => el === document.activeElement)) return true;
    await page.keyboard.press('Tab');
    return false;
  }, { timeout: 10000, interval: 20 });
  await eventually(() => popover.isVisible());
  assert.equal(await popover.textContent(), transcript.satisfaction.negative_reason);
  // And it goes away with the focus.
  await page.keyboard.press('Tab');
  await eventually(async () => !(await popover.isVisible()));
});

test('review: approve one, dismiss another, correct a third into a golden example', async ({ page }) => {
  const t = tag();
  const bot = await newBot('Review bot ' + t);
  const { answers } = await conversation(bot.id, [
    ['How long is the warranty?', 'Two years on everything.'],
    ['Do you ship to Norway?', 'Yes, within a week.'],
    ['Can I change my address after ordering?', 'No.'],
  ]);
  const give = (message_id, feedback_type, reason) =>
    ok('POST', '/v1/feedback', { message_id, feedback_type, reason, user_id: 'e2e-reviewer-' + t });
  const approved = await give(answers[0], 'positive');
  const dismissed = await give(answers[1], 'negative', 'Shipping to Norway takes two weeks');
  const corrected = await give(answers[2], 'negative', 'Too short and wrong');
  for (const f of [approved, dismissed, corrected]) assert.equal(f.status, 'pending');

  await signIn(page);
  await page.goto(base + '/review');
  await page.selectOption('#bot_id', bot.id);
  await submit(page, '#review-filters button[type=submit]');
  const items = page.locator('[data-testid=review-item]');
  assert.equal(await items.count(), 3);
  const item = (f) => page.locator(`[data-testid=review-item][data-feedback-id="${f.id}"]`);
  assert.match(await item(dismissed).locator('.exchange').textContent(), /Do you ship to Norway\?[\s\S]*Yes, within a week\.[\s\S]*Shipping to Norway takes two weeks/);

  // A negative item cannot be approved without a corrected answer: the browser holds the form back.
  await item(corrected).locator('[data-testid=review-approve]').click();
  assert.equal(await item(corrected).locator('[data-testid=review-corrected]').evaluate((el) => el.validity.valueMissing), true);
  assert.equal((await ok('GET', `/v1/feedback/${corrected.id}`)).status, 'pending');

  await submit(page, `[data-testid=review-item][data-feedback-id="${approved.id}"] [data-testid=review-approve]`);
  assert.equal(await page.locator('[data-testid=notice]').textContent(), 'Approved: it is now a golden example.');
  assert.equal(new URL(page.url()).searchParams.get('bot_id'), bot.id, 'the queue keeps its filter');
  assert.equal(await item(approved).count(), 0);
  const a = await ok('GET', `/v1/feedback/${approved.id}`);
  assert.equal(a.status, 'reviewed');
  assert.ok(a.reviewed_by && a.reviewed_at, 'the review is signed and dated');

  await submit(page, `[data-testid=review-item][data-feedback-id="${dismissed.id}"] [data-testid=review-dismiss]`);
  assert.equal(await page.locator('[data-testid=notice]').textContent(), 'Dismissed: it left the queue.');
  assert.equal(await item(dismissed).count(), 0);
  assert.equal((await ok('GET', `/v1/feedback/${dismissed.id}`)).status, 'dismissed');

  const better = 'Yes, within two hours of ordering: open the order and choose Change address. ' + t;
  await item(corrected).locator('[data-testid=review-corrected]').fill(better);
  await submit(page, `[data-testid=review-item][data-feedback-id="${corrected.id}"] [data-testid=review-approve]`);
  await page.locator('[data-testid=review-empty]').waitFor();
  const c = await ok('GET', `/v1/feedback/${corrected.id}`);
  assert.equal(c.status, 'reviewed');
  assert.equal(c.corrected_response, better);

  // Both approvals are golden examples now; the correction is the ideal answer.
  await submit(page, '[data-testid=nav-golden]');
  await page.selectOption('#bot_id', bot.id);
  await submit(page, '#golden-filters button[type=submit]');
  const rows = page.locator('[data-testid=golden-row]');
  assert.equal(await rows.count(), 2);
  const golden = (await ok('GET', `/v1/golden-examples?bot_id=${bot.id}`)).items;
  const fromCorrection = golden.find((g) => g.ideal_response === better);
  assert.ok(fromCorrection, 'the API lists the corrected answer as a golden example');
  const row = page.locator(`[data-testid=golden-row][data-golden-id="${fromCorrection.id}"]`);
  assert.equal(await row.locator('td[data-label="Question"]').textContent(), 'Can I change my address after ordering?');
  assert.equal(await row.locator('td[data-label="Ideal answer"]').textContent(), better);
  assert.match(await row.locator('td[data-label="From"]').textContent(), /correction/);
  const fromThumb = page.locator('[data-testid=golden-row]').filter({ hasText: 'Two years on everything.' });
  assert.equal(await fromThumb.count(), 1);
});

test('settings: saved changes reach the API; popup different from active is refused with the rule', async ({ page }) => {
  const bot = await newBot('Settings bot ' + tag());
  const before = await ok('GET', `/v1/bots/${bot.id}/settings`);
  assert.equal(before.require_reason_negative, false);

  await signIn(page);
  await submit(page, '[data-testid=nav-settings]');
  await page.selectOption('#bot-picker select', bot.id);
  await submit(page, '#bot-picker button[type=submit]');
  assert.equal(new URL(page.url()).searchParams.get('bot_id'), bot.id);

  const form = page.locator('#feedback-settings-form');
  await form.locator('#vote_window_seconds').fill('3600');
  await form.locator('#require_reason_negative').check();
  await submit(page, '[data-testid=feedback-settings-save]');
  assert.equal(await page.locator('[data-testid=notice]').textContent(), 'Review and vote settings saved.');
  const after = await ok('GET', `/v1/bots/${bot.id}/settings`);
  assert.equal(after.vote_window_seconds, 3600);
  assert.equal(after.require_reason_negative, true);
  assert.equal(after.require_reason_positive, before.require_reason_positive);
  assert.equal(after.auto_approve_positive, before.auto_approve_positive);
  // The page shows what was stored.
  assert.equal(await page.locator('#vote_window_seconds').inputValue(), '3600');
  assert.equal(await page.locator('#require_reason_negative').isChecked(), true);

  // Rating active but no popup: the API rule refuses it, next to the form.
  const rating = await ok('GET', `/v1/bots/${bot.id}/rating-config`);
  assert.equal(rating.conv_rating_active, true);
  assert.equal(rating.conv_rating_popup_active, true);
  await page.locator('#conv_rating_popup_active').uncheck();
  await submit(page, '[data-testid=rating-save]');
  const error = page.locator('#rating-form').locator('xpath=..').locator('[data-testid=form-error]');
  await error.waitFor();
  assert.match(await error.textContent(), /popup/);
  assert.deepEqual(await ok('GET', `/v1/bots/${bot.id}/rating-config`), rating, 'nothing changed');
  assert.equal(await page.locator('[data-testid=form-error]').count(), 1, 'only the rating form shows an error');

  // Both off together is allowed.
  await page.locator('#conv_rating_active').uncheck();
  await page.locator('#conv_rating_popup_active').uncheck();
  await submit(page, '[data-testid=rating-save]');
  assert.equal(await page.locator('[data-testid=notice]').textContent(), 'Rating configuration saved.');
  const off = await ok('GET', `/v1/bots/${bot.id}/rating-config`);
  assert.equal(off.conv_rating_active, false);
  assert.equal(off.conv_rating_popup_active, false);
});

test('the whole loop: a thumbs-down given on /demo shows in the inbox and on the overview', async ({ page, context }) => {
  await signIn(page);
  const downBefore = await cardValue(page, 'card-thumbs-down');

  const question = `Where is my parcel ${tag()}?`;
  const reason = 'It does not tell me where my parcel is';
  const chat = await context.newPage();
  await chat.goto(base + '/demo');
  await chat.fill('#question', question);
  await chat.click('#send');
  const answer = chat.locator('li.msg.assistant[data-message-id]').first();
  const down = answer.locator('plaudit-thumbs button[data-value="negative"]');
  await down.click();
  await eventually(async () => (await down.getAttribute('aria-pressed')) === 'true');
  await answer.locator('plaudit-thumbs textarea').fill(reason);
  await answer.locator('plaudit-thumbs button.submit').click();
  await eventually(async () => (await answer.locator('plaudit-thumbs [role=status]').textContent()).includes('Thanks'));
  const conversationId = await chat.evaluate(() => window.plauditDemo.session.conversationId);
  const messageId = await answer.getAttribute('data-message-id');
  await chat.close();

  await page.reload();
  assert.equal(await cardValue(page, 'card-thumbs-down'), downBefore + 1);

  await submit(page, '[data-testid=nav-inbox]');
  await page.fill('#q', question);
  await submit(page, '[data-testid=inbox-apply]');
  assert.deepEqual(await rowIds(page), [conversationId]);
  const row = page.locator('[data-testid=inbox-row]');
  assert.equal((await row.locator('.count.bad').textContent()).trim(), '1');

  await submit(page, '[data-testid=inbox-row] [data-testid=conversation-link]');
  const user = page.locator('[data-testid=message][data-role=user]').first();
  assert.equal(await user.locator('.content').textContent(), question);
  const rated = page.locator(`[id="m-${messageId}"]`);
  assert.equal((await rated.locator('[data-testid=badge-down]').textContent()).trim(), '1');
  assert.equal(await rated.locator('[data-testid=badge-up]').count(), 0);
  assert.equal(await rated.locator('.reason-chip.bad').textContent(), `\u201c${reason}\u201d`);
});

test('XSS: markup in a bot name, contact id, messages and reasons shows as text on every page and never runs', async ({ browser }) => {
  const t = tag();
  const bot = await newBot('Bot ' + XSS);
  const id = 'xss-' + t;
  await ok('PUT', `/v1/conversations/${id}`, { bot_id: bot.id, contact_id: 'Contact ' + XSS, locale: 'en' });
  const question = 'Question ' + XSS;
  const messages = [
    { id: `${id}-q0`, role: 'user', content: question },
    { id: `${id}-a0`, role: 'assistant', content: 'Answer ' + XSS },
    { id: `${id}-q1`, role: 'user', content: 'Again ' + XSS },
    { id: `${id}-a1`, role: 'assistant', content: 'Second answer ' + XSS },
  ];
  for (const m of messages) await ok('POST', `/v1/conversations/${id}/messages`, m);
  const reason = 'Reason ' + XSS;
  const pending = await ok('POST', '/v1/feedback', { message_id: `${id}-a0`, feedback_type: 'negative', reason, user_id: 'User ' + XSS });
  const toGolden = await ok('POST', '/v1/feedback', { message_id: `${id}-a1`, feedback_type: 'negative', reason, user_id: 'Other ' + XSS });
  const ideal = 'Ideal ' + XSS;
  await ok('POST', `/v1/feedback/${toGolden.id}/review`, { action: 'approve', corrected_response: ideal, note: 'Note ' + XSS });
  await ok('POST', `/v1/conversations/${id}/downvote`, { reason: 'Vote ' + XSS });
  await ok('POST', `/v1/conversations/${id}/csat`, { question_code: 'HELPFUL_THUMBS', value: 'down', negative_reason: 'CSAT ' + XSS });
  await ok('PUT', `/v1/bots/${bot.id}/csat-copy/en`, {
    title: 'Title ' + XSS,
    negative_reason: 'Why ' + XSS,
    negative_placeholder: 'Placeholder ' + XSS,
    negative_button: 'Send ' + XSS,
    after_submission: 'Thanks ' + XSS,
  });
  await ok('POST', '/v1/keys', { name: 'Key ' + XSS, role: 'server' });

  // Without the Content-Security-Policy, which would stop inline scripts anyway:
  // here only the escaping keeps the markup from running.
  const context = await browser.newContext({ bypassCSP: true, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.dismiss());
  try {
    await signIn(page);
    const pages = {
      '/': [],
      [`/inbox?bot_id=${bot.id}`]: ['Contact ' + XSS, 'Bot ' + XSS],
      [`/inbox?bot_id=${bot.id}&q=${encodeURIComponent(XSS)}`]: ['Contact ' + XSS],
      [`/inbox/${id}`]: ['Contact ' + XSS, question, 'Answer ' + XSS, 'Second answer ' + XSS, '\u201c' + reason + '\u201d', '\u201cVote ' + XSS + '\u201d', '\u201cCSAT ' + XSS + '\u201d'],
      [`/review?bot_id=${bot.id}`]: [question, 'Answer ' + XSS, reason],
      [`/golden?bot_id=${bot.id}`]: ['Again ' + XSS, ideal],
      [`/settings?bot_id=${bot.id}`]: ['Key ' + XSS],
    };
    for (const [path, texts] of Object.entries(pages)) {
      const response = await page.goto(base + path);
      assert.equal(response.status(), 200, path);
      assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined', path);
      assert.equal(await page.locator('img').count(), 0, `${path}: no element was made from the payloads`);
      assert.equal(await page.locator('script').count(), 0, `${path}: no script element`);
      await wellFormed(page, path);
      const body = await page.locator('body').innerText();
      for (const text of texts) assert.ok(body.includes(text), `${path} shows ${JSON.stringify(text)} as text`);
    }

    // Inside form fields and the bot picker, the payload is the value, as typed.
    await page.goto(`${base}/settings?bot_id=${bot.id}`);
    assert.equal(await page.locator('#copy-title').inputValue(), 'Title ' + XSS);
    assert.equal(await page.locator('#copy-after_submission').inputValue(), 'Thanks ' + XSS);
    assert.equal(await page.locator(`#bot-picker option[value="${bot.id}"]`).textContent(), 'Bot ' + XSS);
    await page.goto(`${base}/inbox?bot_id=${bot.id}&q=${encodeURIComponent(XSS)}`);
    assert.equal(await page.locator('#q').inputValue(), XSS);
    assert.deepEqual(await rowIds(page), [id]);

    // The satisfaction card's reason, on focus.
    await page.goto(`${base}/inbox/${id}`);
    await page.locator('[data-testid=negative-reason]').focus();
    await eventually(() => page.locator('#negative-reason-text').isVisible());
    assert.equal(await page.locator('#negative-reason-text').textContent(), 'CSAT ' + XSS);
    assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
    assert.deepEqual(errors, []);
    assert.equal((await ok('GET', `/v1/feedback/${pending.id}`)).reason, reason);
  } finally {
    await context.close();
  }
});

await run();
