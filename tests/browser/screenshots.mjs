// Saves PNG screenshots of Plaudit pages, for the docs.
//
//   node tests/browser/screenshots.mjs <base-url> <out-dir> [path ...]
//
// Each path becomes <out-dir>/<name>.png (`/demo` → demo.png, `/` → home.png).
// `/demo` is shown in use: a question asked, its answer thumbed down with a
// reason, and the end-of-conversation prompt open. Other pages are taken as they load.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './lib/harness.mjs';

const [baseArg, outDir, ...paths] = process.argv.slice(2);
if (!baseArg || !outDir) {
  console.error('usage: node screenshots.mjs <base-url> <out-dir> [path ...]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');

const scenes = {
  async '/demo'(page) {
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
};

mkdirSync(outDir, { recursive: true });
const browser = await launch();
try {
  for (const path of paths.length ? paths : ['/demo']) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 }, locale: 'en-US' });
    await page.goto(base + path);
    if (scenes[path]) await scenes[path](page);
    await page.waitForTimeout(200);
    const name = path.replace(/^\/+|\/+$/g, '').replace(/[^a-z0-9]+/gi, '-') || 'home';
    const file = join(outDir, name + '.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(file);
    await page.close();
  }
} finally {
  await browser.close();
}
