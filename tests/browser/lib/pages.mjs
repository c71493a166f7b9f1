// What the dashboard's browser tests share: signing in, submitting a form,
// checking a page's markup, and a tag to tell one run's data apart.

import { admin, assert, base } from './harness.mjs';

/** A short tag, different on every run, to tell this run's data apart. */
export const tag = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 7);

/** Signs in through the login form and waits for the overview. */
export async function signIn(page, key = admin) {
  await page.goto(base + '/login');
  await page.click('#key-sign-in summary');
  await page.fill('#key', key);
  await page.click('[data-testid=key-submit]');
  await page.locator('#main-nav').waitFor();
}

/** Submits a form by clicking `button` (a selector or a locator) and waits for the page it leads to. */
export async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), (typeof button === 'string' ? page.locator(button) : button).click()]);
}

/** Checks that ids are unique and that every label names a form field. */
export async function wellFormed(page, where) {
  const problems = await page.evaluate(() => {
    const out = [];
    const seen = new Set();
    for (const el of document.querySelectorAll('[id]')) {
      if (seen.has(el.id)) out.push('duplicate id ' + el.id);
      seen.add(el.id);
    }
    for (const label of document.querySelectorAll('label[for]')) {
      const target = document.getElementById(label.htmlFor);
      if (!target || !['INPUT', 'SELECT', 'TEXTAREA', 'OUTPUT'].includes(target.tagName)) out.push('label for ' + label.htmlFor);
    }
    return out;
  });
  assert.deepEqual(problems, [], where);
}
