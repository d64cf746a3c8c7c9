// The field app in headless Chromium as a phone: a 360×800 touch screen in Chinese, location
// emulated (granted, or not), a persistent profile so the service worker and IndexedDB survive
// reloads, and helpers for what a surveyor does in it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './browser.js';
import { ROOT } from './server.js';

export const PHOTOS = join(ROOT, 'tests/fixtures/photos');
// Where qinhe-outfall-a-1.jpg says it was taken (its EXIF geotag), on the 沁河 in 沁阳市.
export const SITE = { latitude: 35.08621, longitude: 112.95124, accuracy: 5 };

// The 64 hex of the BLAKE2b-256 of a file (coreutils' b2sum, as docs/sync.md's photos section says).
export function b2sum(path) {
  return execFileSync('b2sum', ['-l', '256', path]).toString().split(' ')[0];
}

// Resolves with {context, page, pageErrors, close()}. geolocation: false for a phone whose user
// denied location.
export async function phone({ geolocation = SITE, url } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'outfall-phone-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, locale: 'zh-CN', viewport: { width: 360, height: 800 },
    isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    geolocation: geolocation || undefined, permissions: geolocation && url ? ['geolocation'] : [],
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  if (geolocation && url) await context.grantPermissions(['geolocation'], { origin: url });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  async function close() {
    await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  }
  return { context, page, pageErrors, close };
}

// Opens the app and signs in as user; resolves once the outfall list shows.
export async function fieldSignIn(page, url, user) {
  await page.goto(url + '/field/');
  await page.waitForSelector('body[data-ready="true"]');
  if (await page.locator('#login-view').isVisible()) {
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
  }
  await page.waitForSelector('#view[data-loaded="true"]');
}

// Waits until the service worker controls the page (the app is then on the phone).
export async function installed(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((res) => navigator.serviceWorker.addEventListener('controllerchange', res, { once: true }));
    }
  });
}

// Opens a tab of the app and waits for its view.
export async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector('#view[data-loaded="true"]');
}

// Presses "sync now" and waits for the sync to end and the outbox drawn again after it; resolves
// with the status line. The outbox redraws itself (web/field/boxes.js) once a sync ends, after
// reading the phone's database: the status line says "synced" before that redraw lands, and a
// test that went on at once to another view (page.goto) could see the late redraw replace it.
// So the wait is for a status line that was not on the page when the button was pressed, the
// same one for 300 ms.
export async function syncNow(page) {
  await tab(page, 'outbox');
  // A sync the app started by itself (the network came back) ends first.
  await page.waitForSelector('#sync-now:not([disabled])', { timeout: 60000 });
  await page.evaluate(() => document.querySelector('#sync-status')?.setAttribute('data-before-sync', ''));
  await page.click('#sync-now');
  const status = await page.waitForFunction(() => {
    const el = document.querySelector('#sync-status');
    const text = el?.textContent || '';
    const done = el && !el.hasAttribute('data-before-sync') && !document.querySelector('#sync-now')?.disabled &&
      document.querySelector('#view[data-loaded="true"]') && /上次同步|同步未完成/.test(text);
    if (!done) { window.__syncStatusSeen = null; return false; }
    if (!window.__syncStatusSeen || window.__syncStatusSeen.el !== el) window.__syncStatusSeen = { el, at: Date.now() };
    return Date.now() - window.__syncStatusSeen.at >= 300 && text;
  }, null, { timeout: 60000, polling: 100 });
  return status.jsonValue();
}

// The app's IndexedDB store name of user, read in the page: all its values.
export function localAll(page, username, store) {
  return page.evaluate(([u, s]) => new Promise((resolve, reject) => {
    const r = indexedDB.open('outfall-field:' + u);
    r.onsuccess = () => {
      const q = r.result.transaction(s).objectStore(s).getAll();
      q.onsuccess = () => { resolve(JSON.parse(JSON.stringify(q.result, (k, v) => (v instanceof Blob ? `blob:${v.size}` : v)))); r.result.close(); };
      q.onerror = () => reject(q.error);
    };
    r.onerror = () => reject(r.error);
  }), [username, store]);
}

export function assertNoErrors(pageErrors) {
  assert.deepEqual(pageErrors, [], 'script errors in the page');
}
