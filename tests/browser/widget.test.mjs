// The widget and the demo page, end to end in headless Chromium.

import { createServer } from 'node:http';

import { api, assert, base, eventually, run, test } from './lib/harness.mjs';

const PAYLOADS = ['<script>window.__pwned=1</script>', '"><img src=x onerror="window.__pwned=1">'];
const XSS = PAYLOADS.join(' ');
const LAYOUT = new Set(['height', 'width', 'block-size', 'inline-size', 'perspective-origin', 'transform-origin']);

/** The public key the demo page embeds. */
async function publicKey() {
  const html = await (await fetch(base + '/demo')).text();
  const match = html.match(/data-key="([^"]+)"/);
  assert.ok(match, 'the demo page embeds the widget with a key');
  return match[1];
}

/** The demo bot (the first one the generator made). */
async function demoBot() {
  const bots = await api('GET', '/v1/bots');
  const bot = bots.body.items.find((b) => b.name === 'Shop assistant');
  assert.ok(bot, 'the demo has its shop bot');
  return bot.id;
}

async function ask(page, question) {
  const before = await page.locator('li.msg.assistant[data-message-id]').count();
  await page.fill('#question', question);
  await page.click('#send');
  const answer = page.locator('li.msg.assistant[data-message-id]').nth(before);
  await answer.waitFor();
  await answer.locator('plaudit-thumbs button[data-value="negative"]').waitFor();
  return answer;
}

const pressed = (locator) => eventually(async () => (await locator.getAttribute('aria-pressed')) === 'true');
const released = (locator) => eventually(async () => (await locator.getAttribute('aria-pressed')) === 'false');

test('demo: a thumbs-down with its reason and the CSAT answers reach the API', async ({ page }) => {
  const overviewBefore = await api('GET', '/v1/analytics/overview');
  await page.goto(base + '/demo');
  const answer = await ask(page, 'When will my order arrive?');
  await assert.doesNotReject(answer.locator('.text').textContent());
  const messageId = await answer.getAttribute('data-message-id');

  const down = answer.locator('plaudit-thumbs button[data-value="negative"]');
  assert.equal(await down.getAttribute('aria-label'), 'Not helpful');
  await down.click();
  await pressed(down);
  await answer.locator('plaudit-thumbs textarea').fill('The estimate for Austria is wrong');
  await answer.locator('plaudit-thumbs button.submit').click();
  await eventually(async () => (await answer.locator('plaudit-thumbs [role=status]').textContent()).includes('Thanks'));

  await page.click('#end');
  const prompt = page.locator('plaudit-prompt');
  await prompt.locator('h2').waitFor();
  assert.equal(await prompt.locator('h2').textContent(), 'How was this conversation?');
  await prompt.locator('[data-code="HELPFUL_THUMBS"] button[data-value="down"]').click();
  await pressed(prompt.locator('[data-code="HELPFUL_THUMBS"] button[data-value="down"]'));
  await prompt.locator('[data-code="SATISFACTION_STARS"] button[data-value="2"]').click();
  await pressed(prompt.locator('[data-code="SATISFACTION_STARS"] button[data-value="2"]'));
  await prompt.locator('textarea').fill('Slow and vague');
  await prompt.locator('button.submit').click();
  await prompt.locator('.done').waitFor();
  assert.equal(await prompt.locator('.done').textContent(), 'Thank you for your feedback!');

  const conversationId = await page.evaluate(() => window.plauditDemo.session.conversationId);
  const transcript = await api('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
  assert.equal(transcript.status, 200, transcript.text);
  assert.equal(transcript.body.status, 'ended');
  const rated = transcript.body.messages.find((m) => m.id === messageId);
  assert.equal(rated.feedback.down, 1);
  const [record] = rated.feedback.records;
  assert.equal(record.feedback_type, 'negative');
  assert.equal(record.reason, 'The estimate for Austria is wrong');
  assert.equal(record.source, 'end_user');
  const csat = Object.fromEntries(transcript.body.csat.map((a) => [a.question_code, a]));
  assert.equal(csat.HELPFUL_THUMBS.value, 'down');
  assert.equal(csat.HELPFUL_THUMBS.negative_reason, 'Slow and vague');
  assert.equal(String(csat.SATISFACTION_STARS.value), '2');
  assert.equal(csat.SATISFACTION_STARS.negative_reason, 'Slow and vague');
  assert.equal(transcript.body.satisfaction.value, 'negative');

  // No cache: the dashboard's figures move at once.
  const inbox = await api('GET', '/v1/conversations?feedback=downvote&limit=500');
  assert.ok(inbox.body.items.some((c) => c.id === conversationId), 'the conversation is in the inbox as negative');
  const overview = await api('GET', '/v1/analytics/overview');
  assert.equal(
    overview.body.message_feedback.thumbs_down.count,
    overviewBefore.body.message_feedback.thumbs_down.count + 1,
  );
});

test('the prompt asks every question: a thumbs-down and its reason first, the stars after', async ({ page }) => {
  await page.goto(base + '/demo');
  await ask(page, 'Do you ship to Norway?');
  await page.click('#end');
  const prompt = page.locator('plaudit-prompt');
  await prompt.locator('h2').waitFor();
  await prompt.locator('[data-code="HELPFUL_THUMBS"] button[data-value="down"]').click();
  await prompt.locator('textarea').fill('It did not know');
  await prompt.locator('button.submit').click();
  // The reason is in; the stars are still asked.
  await eventually(async () => (await prompt.locator('textarea').count()) === 0);
  assert.equal(await prompt.locator('.done').count(), 0);
  const stars = prompt.locator('[data-code="SATISFACTION_STARS"] button[data-value="2"]');
  await stars.click();
  await prompt.locator('.done').waitFor();

  const conversationId = await page.evaluate(() => window.plauditDemo.session.conversationId);
  const transcript = await api('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
  const csat = Object.fromEntries(transcript.body.csat.map((a) => [a.question_code, a]));
  assert.equal(csat.HELPFUL_THUMBS.value, 'down');
  assert.equal(csat.HELPFUL_THUMBS.negative_reason, 'It did not know');
  // A low rating after the reason carries it too.
  assert.equal(String(csat.SATISFACTION_STARS.value), '2');
  assert.equal(csat.SATISFACTION_STARS.negative_reason, 'It did not know');
});

test('a busy server (429, then 503) is asked again after its Retry-After, and the thumb lands', async ({ page }) => {
  await page.goto(base + '/demo');
  const answer = await ask(page, 'Can I pay by invoice?');
  const messageId = await answer.getAttribute('data-message-id');
  const attempts = [];
  await page.route('**/v1/feedback', async (route) => {
    attempts.push(Date.now());
    if (attempts.length === 1) {
      return route.fulfill({ status: 429, headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: 'rate_limited', message: 'slow down' }) });
    }
    if (attempts.length === 2) {
      return route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"unavailable","message":"x"}' });
    }
    return route.continue();
  });
  const up = answer.locator('plaudit-thumbs button[data-value="positive"]');
  await up.click();
  await eventually(async () => (await answer.locator('plaudit-thumbs [role=status]').textContent()).includes('Thanks'), { timeout: 10000 });
  assert.equal(attempts.length, 3);
  assert.ok(attempts[1] - attempts[0] >= 1000, `waited for Retry-After: ${attempts[1] - attempts[0]} ms`);
  const conversationId = await page.evaluate(() => window.plauditDemo.session.conversationId);
  const transcript = await api('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
  assert.equal(transcript.body.messages.find((m) => m.id === messageId).feedback.up, 1);
});

test('thumbs toggle: switching, then taking a thumb back', async ({ page }) => {
  await page.goto(base + '/demo');
  const answer = await ask(page, 'Can I pay with PayPal?');
  const messageId = await answer.getAttribute('data-message-id');
  const up = answer.locator('plaudit-thumbs button[data-value="positive"]');
  const down = answer.locator('plaudit-thumbs button[data-value="negative"]');
  await up.click();
  await pressed(up);
  await down.click();
  await pressed(down);
  await released(up);
  await down.click();
  await released(down);
  const badges = async () => {
    const conversationId = await page.evaluate(() => window.plauditDemo.session.conversationId);
    const t = await api('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
    return t.body.messages.find((m) => m.id === messageId).feedback;
  };
  await eventually(async () => {
    const b = await badges();
    return b.up === 0 && b.down === 0 && b.records.length === 0;
  });
  // A reload shows the thumb given earlier as pressed.
  await up.click();
  await pressed(up);
  const session = await page.evaluate(() => window.plauditDemo.session);
  await page.evaluate(({ id, token, messageId }) => {
    const host = document.createElement('div');
    host.id = 'again';
    document.body.appendChild(host);
    window.Plaudit.conversation({ id, token, locale: 'en' });
    window.Plaudit.rate(host, messageId);
  }, { id: session.conversationId, token: session.token, messageId });
  await pressed(page.locator('#again plaudit-thumbs button[data-value="positive"]'));

  // The prompt takes the focus, and Escape closes it.
  await page.click('#end');
  const first = page.locator('plaudit-prompt button[data-value="up"]');
  await first.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'PLAUDIT-PROMPT');
  await page.keyboard.press('Escape');
  await page.locator('plaudit-prompt').waitFor({ state: 'detached' });
});

test('a required reason is asked before the thumb is recorded', async ({ page }) => {
  const bot = await demoBot();
  const patched = await api('PATCH', `/v1/bots/${bot}/settings`, { require_reason_negative: true });
  assert.equal(patched.status, 200, patched.text);
  try {
    await page.goto(base + '/demo');
    const answer = await ask(page, 'Is the return label free?');
    const down = answer.locator('plaudit-thumbs button[data-value="negative"]');
    await down.click();
    const box = answer.locator('plaudit-thumbs textarea');
    await box.waitFor();
    assert.equal(await box.getAttribute('aria-required'), 'true');
    assert.equal(await down.getAttribute('aria-pressed'), 'false', 'nothing is recorded without the reason');
    // Keyboard only: type the reason, tab to the button, press it.
    await box.focus();
    await page.keyboard.type('Labels cost 5 euros in my country');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await pressed(down);
    const messageId = await answer.getAttribute('data-message-id');
    const session = await page.evaluate(() => window.plauditDemo.session);
    const t = await api('GET', `/v1/conversations/${encodeURIComponent(session.conversationId)}`);
    const [record] = t.body.messages.find((m) => m.id === messageId).feedback.records;
    assert.equal(record.reason, 'Labels cost 5 euros in my country');
  } finally {
    await api('PATCH', `/v1/bots/${bot}/settings`, { require_reason_negative: false });
  }
});

test('no prompt when the bot has conversation rating turned off', async ({ page }) => {
  const bot = await demoBot();
  const off = await api('PATCH', `/v1/bots/${bot}/rating-config`, { conv_rating_active: false, conv_rating_popup_active: false });
  assert.equal(off.status, 200, off.text);
  try {
    await page.goto(base + '/demo');
    await ask(page, 'Can I pay with PayPal?');
    await page.click('#end');
    await page.locator('#error').waitFor();
    assert.match(await page.locator('#error').textContent(), /turned off/);
    assert.equal(await page.locator('plaudit-prompt').count(), 0);
  } finally {
    await api('PATCH', `/v1/bots/${bot}/rating-config`, { conv_rating_active: true, conv_rating_popup_active: true });
  }
});

test('XSS: markup in questions, answers, reasons and prompt copy shows as text and never runs', async ({ browser }) => {
  const bot = await demoBot();
  const copy = {
    title: 'T ' + PAYLOADS[0],
    negative_reason: 'R ' + PAYLOADS[1],
    negative_placeholder: 'P ' + PAYLOADS[1],
    negative_button: 'B ' + PAYLOADS[0],
    after_submission: 'A ' + XSS,
  };
  const put = await api('PUT', `/v1/bots/${bot}/csat-copy/fr-CA`, copy);
  assert.equal(put.status, 200, put.text);

  const context = await browser.newContext({ locale: 'fr-CA' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(base + '/demo');
    const question = 'Question ' + XSS;
    const answer = await ask(page, question);
    assert.equal(await page.locator('li.msg.user .text').first().textContent(), question);
    assert.ok((await answer.locator('.text').textContent()).includes(XSS), 'the fallback answer quotes the question as text');

    await answer.locator('plaudit-thumbs button[data-value="negative"]').click();
    const form = answer.locator('plaudit-thumbs form');
    await form.waitFor();
    assert.equal(await form.locator('label').textContent(), copy.negative_reason);
    assert.equal(await form.locator('textarea').getAttribute('placeholder'), copy.negative_placeholder);
    assert.equal(await form.locator('button.submit').textContent(), copy.negative_button);
    const reason = 'Reason ' + XSS;
    await form.locator('textarea').fill(reason);
    await form.locator('button.submit').click();
    await form.waitFor({ state: 'detached' });

    await page.click('#end');
    const prompt = page.locator('plaudit-prompt');
    await prompt.locator('h2').waitFor();
    assert.equal(await prompt.locator('h2').textContent(), copy.title);
    await prompt.locator('[data-code="HELPFUL_THUMBS"] button[data-value="down"]').click();
    await prompt.locator('textarea').fill(reason);
    await prompt.locator('button.submit').click();
    // Every configured question is asked: the stars come after the reason.
    await prompt.locator('[data-code="SATISFACTION_STARS"] button[data-value="4"]').click();
    await prompt.locator('.done').waitFor();
    assert.equal(await prompt.locator('.done').textContent(), copy.after_submission);

    assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined');
    assert.equal(await page.locator('img').count(), 0, 'no element was made from the payloads');
    assert.deepEqual(errors, []);

    const conversationId = await page.evaluate(() => window.plauditDemo.session.conversationId);
    const t = await api('GET', `/v1/conversations/${encodeURIComponent(conversationId)}`);
    assert.equal(t.body.messages[0].content, question);
    const rated = t.body.messages.find((m) => m.feedback && m.feedback.records.length);
    assert.equal(rated.feedback.records[0].reason, reason);
    assert.equal(t.body.csat[0].negative_reason, reason);
  } finally {
    await context.close();
  }
});

test("styles: the widget's CSS does not leak into a host page on another origin, nor the page's into it", async ({ page }) => {
  const key = await publicKey();
  // The host page is served from another origin (another port), as a customer's site would be.
  const hostPage = `<!doctype html><html><head><style>
        body { font-family: Georgia, serif; color: rgb(10, 20, 30); margin: 13px; }
        button { background: rgb(255, 0, 0); font-size: 31px; border: 4px dashed blue; }
        h2, p, textarea, section { color: rgb(0, 128, 0); letter-spacing: 3px; }
        .answer { padding: 7px; }
      </style></head><body>
        <p id="para">A paragraph of the host page.</p>
        <button id="host-button">A button of the host page</button>
        <div class="answer" id="answer">An answer of the host's assistant.</div>
        <div id="prompt-here"></div>
      </body></html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(hostPage);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `http://127.0.0.1:${server.address().port}`;
  try {
    await page.goto(host + '/');
    const snapshot = () =>
      page.evaluate(() =>
        ['body', '#para', '#host-button', '#answer'].map((selector) => {
          const style = getComputedStyle(document.querySelector(selector));
          const all = {};
          for (const name of style) all[name] = style.getPropertyValue(name);
          return [selector, all];
        }),
      );
    const before = await snapshot();

    const chat = await fetch(base + '/demo/chat', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'How do I return a jacket?' }),
    }).then((r) => r.json());
    await page.evaluate(
      ({ src, key }) =>
        new Promise((resolve, reject) => {
          const script = document.createElement('script');
          script.src = src;
          script.dataset.key = key;
          script.onload = resolve;
          script.onerror = reject;
          document.head.appendChild(script);
        }),
      { src: base + '/widget.js', key },
    );
    await page.evaluate(async (chat) => {
      window.Plaudit.conversation({ id: chat.conversation_id, token: chat.token, locale: 'en' });
      window.Plaudit.rate(document.getElementById('answer'), chat.message_id);
      await window.Plaudit.endConversation({ container: document.getElementById('prompt-here') });
    }, chat);
    // Cross-origin calls work: the thumb is recorded from the host's origin.
    const down = page.locator('#answer plaudit-thumbs button[data-value="negative"]');
    await down.click();
    await pressed(down);
    await page.locator('#answer plaudit-thumbs textarea').waitFor();

    const after = await snapshot();
    for (let i = 0; i < before.length; i++) {
      const [selector, was] = before[i];
      const now = after[i][1];
      // Sizes follow the content the widget adds; every other property must stay put.
      const changed = Object.keys(was).filter((name) => !LAYOUT.has(name) && was[name] !== now[name]);
      assert.deepEqual(changed, [], `computed style of ${selector} changed: ${changed.join(', ')}`);
    }
    const inside = await page.evaluate(() => {
      const thumbs = document.querySelector('#answer plaudit-thumbs').shadowRoot;
      const prompt = document.querySelector('#prompt-here plaudit-prompt').shadowRoot;
      const button = getComputedStyle(thumbs.querySelector('button'));
      const title = getComputedStyle(prompt.querySelector('h2'));
      return {
        background: button.backgroundColor,
        fontSize: button.fontSize,
        borderStyle: button.borderTopStyle,
        titleColor: title.color,
        titleSpacing: title.letterSpacing,
        titleFont: title.fontFamily,
      };
    });
    assert.notEqual(inside.background, 'rgb(255, 0, 0)');
    assert.notEqual(inside.fontSize, '31px');
    assert.notEqual(inside.borderStyle, 'dashed');
    assert.notEqual(inside.titleColor, 'rgb(0, 128, 0)');
    assert.notEqual(inside.titleSpacing, '3px');
    assert.ok(!inside.titleFont.includes('Georgia'), inside.titleFont);
  } finally {
    server.close();
  }
});

await run();
