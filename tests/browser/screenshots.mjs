// Saves PNG screenshots of Plaudit's pages, for the docs.
//
//   node tests/browser/screenshots.mjs <base-url> <admin-key> <out-dir> [scene ...]
//
// Each scene becomes <out-dir>/<scene>.png; without scene names, all of them.
// Dashboard pages are taken signed in with the admin key, 1280 pixels wide
// (`overview-phone` 390); `/demo` is shown in use: a question asked, its
// answer thumbed down with a reason, and the end-of-conversation prompt open.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { api, launch } from './lib/harness.mjs';

const [baseArg, adminKey, outDir, ...names] = process.argv.slice(2);
if (!baseArg || !adminKey || !outDir) {
  console.error('usage: node screenshots.mjs <base-url> <admin-key> <out-dir> [scene ...]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function signIn(page) {
  await page.goto(base + '/login');
  await page.click('#key-sign-in summary');
  await page.fill('#key', adminKey);
  await page.click('[data-testid=key-submit]');
  await page.locator('#main-nav').waitFor();
}

/** A conversation worth showing: thumbs on its answers and a negative reason. */
async function telling() {
  const list = await api('GET', '/v1/conversations?feedback=downvote&limit=500');
  const items = list.body.items.filter((c) => c.thumbs_down > 0 && c.satisfaction.negative_reason);
  items.sort((a, b) => b.message_count - a.message_count || b.thumbs_up + b.thumbs_down - (a.thumbs_up + a.thumbs_down));
  if (!items.length) throw new Error('no thumbed-down conversation with a reason in the demo data');
  return items[0].id;
}

// name → { path, signIn, viewport, fullPage, show(page) }: `show` runs after the page loads.
const scenes = {
  overview: { path: '/', signIn: true, fullPage: true },
  inbox: { path: '/inbox?feedback=downvote', signIn: true },
  transcript: {
    signIn: true,
    fullPage: true,
    async show(page) {
      await page.goto(base + '/inbox/' + encodeURIComponent(await telling()));
      await page.locator('[data-testid=negative-reason]').focus();
      await page.locator('#negative-reason-text').waitFor();
    },
  },
  review: { path: '/review', signIn: true },
  gaps: { path: '/gaps', signIn: true },
  golden: { path: '/golden', signIn: true },
  settings: { path: '/settings', signIn: true },
  login: { path: '/login' },
  'overview-phone': { path: '/', signIn: true, viewport: PHONE, fullPage: true },
  // Last: it adds feedback, which the other scenes would show.
  demo: {
    path: '/demo',
    fullPage: true,
    async show(page) {
      for (const question of ['When will my order arrive?', 'My discount code doesn\u2019t work.']) {
        await page.fill('#question', question);
        await page.click('#send');
        await page.locator('li.msg.assistant[data-message-id] plaudit-thumbs button').nth(0).waitFor();
        await page.waitForTimeout(100);
      }
      const second = page.locator('li.msg.assistant[data-message-id]').nth(1);
      await page.locator('li.msg.assistant[data-message-id]').nth(0).locator('plaudit-thumbs button[data-value="positive"]').click();
      await second.locator('plaudit-thumbs button[data-value="negative"]').click();
      await second.locator('plaudit-thumbs textarea').fill('It does not say why my code was refused');
      await page.click('#end');
      await page.locator('plaudit-prompt h2').waitFor();
      await page.locator('plaudit-prompt [data-code="SATISFACTION_STARS"] button[data-value="4"]').click();
    },
  },
};

const chosen = names.length ? names : Object.keys(scenes);
for (const name of chosen) {
  if (!scenes[name]) {
    console.error(`unknown scene ${name}; the scenes are: ${Object.keys(scenes).join(', ')}`);
    process.exit(2);
  }
}

mkdirSync(outDir, { recursive: true });
const browser = await launch();
try {
  for (const name of chosen) {
    const scene = scenes[name];
    const context = await browser.newContext({ viewport: scene.viewport || DESKTOP, locale: 'en-US' });
    const page = await context.newPage();
    if (scene.signIn) await signIn(page);
    if (scene.path) await page.goto(base + scene.path);
    if (scene.show) await scene.show(page);
    await page.waitForTimeout(200);
    const file = join(outDir, name + '.png');
    await page.screenshot({ path: file, fullPage: Boolean(scene.fullPage) });
    console.log(file);
    await context.close();
  }
} finally {
  await browser.close();
}
