// Headless Debian Chromium for the console's tests: a persistent profile in a temporary folder,
// the page's script errors and console errors collected, and signing in to the console.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Resolves with {context, page, pageErrors, consoleErrors, close()}: one page in Chinese, 10 s
// for each wait.
export async function launch() {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}`);
  const profile = await mkdtemp(join(tmpdir(), 'outfall-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, locale: 'zh-CN', viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  const pageErrors = [];
  const consoleErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  async function close() {
    await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  }
  return { context, page, pageErrors, consoleErrors, close };
}

// Opens the console at url signed in as user {username, password} (signing in when needed) and
// waits for the review view.
export async function signIn(page, url, user) {
  if (!page.url().startsWith(url)) await page.goto(url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  if (await page.locator('#login-view').isVisible()) {
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
  }
  await page.waitForSelector('#review-view:not([hidden])');
}

// Loads the console afresh, signed in, and opens the header's view name (#nav-NAME) until it
// has loaded.
export async function openView(page, url, user, name) {
  await page.goto(url + '/');
  await signIn(page, url, user);
  await page.click(`#nav-${name}`);
  await page.waitForSelector(`#${name}-view[data-loaded="true"]`);
}

// A maker of tests in the browser: each takes a screenshot into the server's folder when it
// fails, and fails on a script error or an untranslated message key (keys: a RegExp of them, /g)
// left on the page. world() gives {page, pageErrors, root} once they exist; failed() counts.
export function uiTests(test, world, keys, { timeout = 30000, failed = () => {} } = {}) {
  return (name, fn) => test(name, { timeout }, async () => {
    const { page, pageErrors, root } = world();
    const before = pageErrors.length;
    try {
      await fn();
      assert.deepEqual(pageErrors.slice(before), [], 'script errors in the page');
      const raw = (await page.evaluate(() => document.body.innerText)).match(keys);
      assert.equal(raw, null, 'untranslated message keys on the page');
    } catch (e) {
      failed();
      const shot = join(root, name.replace(/[^\w-]+/g, '_') + '.png');
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.log(`# screenshot: ${shot}`);
      throw e;
    }
  });
}

// Makes every page context opens from now on count its requests in flight and note the time of
// its last change (a request starting or ending, the DOM changing), for quiet().
export async function watchActivity(context) {
  await context.addInitScript(() => {
    window.__inflight = 0;
    window.__lastChange = performance.now();
    const touch = () => { window.__lastChange = performance.now(); };
    const fetch0 = window.fetch;
    window.fetch = function (...args) {
      window.__inflight++;
      touch();
      return fetch0.apply(this, args).finally(() => { window.__inflight--; touch(); });
    };
    new MutationObserver(touch).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

// Waits until the page (its context watched by watchActivity) has no request in flight and has
// not changed for ms: what it shows once an answer has been drawn, without waiting a fixed time.
export async function quiet(page, ms = 150) {
  await page.waitForFunction((q) => window.__inflight === 0 && performance.now() - window.__lastChange >= q, ms, { polling: 50 });
}
