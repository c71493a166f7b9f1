// A small test runner for Plaudit's browser tests, on playwright-core and the
// system Chromium.
//
//   node tests/browser/<file>.test.mjs <base-url> <admin-key>
//
// A test file registers tests with `test(name, async ({ page, api, base }) => …)`
// and ends with `await run()`. Each test gets a fresh browser context; a
// failing test saves a screenshot under tests/browser/out/. The process exits
// non-zero when any test fails (or none ran), which fails `cargo test --test browser`.
// PLAUDIT_BROWSER_ONLY=<text> runs only the tests whose name contains it.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export { assert };

const here = dirname(fileURLToPath(import.meta.url));
export const OUT_DIR = join(here, '..', 'out');

const [baseArg, adminKey] = process.argv.slice(2);
if (!baseArg) {
  console.error('usage: node <file>.test.mjs <base-url> <admin-key>');
  process.exit(2);
}
/** The server under test, without a trailing slash. */
export const base = baseArg.replace(/\/+$/, '');
/** An admin key of the default account. */
export const admin = adminKey || process.env.PLAUDIT_ADMIN_KEY || '';

/** The Chromium to drive: PLAUDIT_CHROMIUM, else the Debian package's. */
export const CHROMIUM = process.env.PLAUDIT_CHROMIUM || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** Calls the JSON API with the admin key (or `key`); returns { status, body }. */
export async function api(method, path, body, key = admin, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      Authorization: 'Bearer ' + key,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: response.status, body: json, text };
}

/** Polls `fn` until it returns a truthy value (or throws its last error). */
export async function eventually(fn, { timeout = 5000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      last = new Error('condition still false');
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, interval));
  }
}

const tests = [];

/** Registers a test. `fn` receives { page, context, browser, base, admin, api }. */
export function test(name, fn) {
  tests.push({ name, fn });
}

/** Runs the registered tests one after the other and exits. */
export async function run() {
  const only = process.env.PLAUDIT_BROWSER_ONLY;
  const browser = await launch();
  let failed = 0;
  let ran = 0;
  for (const { name, fn } of tests) {
    if (only && !name.includes(only)) continue;
    ran += 1;
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    const started = Date.now();
    try {
      await fn({ page, context, browser, base, admin, api, errors });
      if (errors.length) throw new Error('uncaught errors in the page:\n' + errors.join('\n'));
      console.log(`ok    ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL  ${name}\n${(error && error.stack) || error}`);
      try {
        mkdirSync(OUT_DIR, { recursive: true });
        const file = join(OUT_DIR, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase() + '.png');
        await page.screenshot({ path: file, fullPage: true });
        console.log(`      screenshot: ${file}`);
      } catch { /* the page may be gone */ }
    } finally {
      await context.close();
    }
  }
  await browser.close();
  if (ran === 0) console.log(`no browser test matched PLAUDIT_BROWSER_ONLY=${only}`);
  else console.log(failed ? `${failed} of ${ran} browser tests failed` : `${ran} browser tests passed`);
  process.exit(failed || ran === 0 ? 1 : 0);
}
