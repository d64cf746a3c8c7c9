// The surveyors' field app (/field/) in headless Chromium as a 360×800 phone against the real
// server: offline work, photos, sync and its bad paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, ROOT, ADMIN_PASSWORD } from './lib/server.js';
import { Api, create } from './lib/api.js';
import { phone, fieldSignIn, installed, tab, syncNow, localAll, b2sum, PHOTOS, SITE, assertNoErrors } from './lib/field.js';

let srv;
let api;
let admin;
let surveyor;
let supervisor;
let failed = 0;

before(async () => {
  srv = await startServer();
  api = new Api(srv.url);
  admin = await api.login('admin', ADMIN_PASSWORD);
  surveyor = await api.createUser(admin, 'wang.field', 'wang-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  supervisor = await api.createUser(admin, 'li.review', 'li-review-password-1', 'ROLE_SUPERVISOR', ['410882']);
});

after(async () => {
  await srv.stop(failed > 0);
});

// A test that keeps a screenshot in the server's folder when it fails.
function phoneTest(name, fn) {
  test(name, { timeout: 90000 }, async () => {
    const p = await phone({ url: srv.url });
    try {
      await fn(p);
      assertNoErrors(p.pageErrors);
    } catch (e) {
      failed++;
      const shot = join(srv.root, name.replace(/[^\w-]+/g, '_') + '.png');
      await p.page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.log(`# screenshot: ${shot}`);
      throw e;
    } finally {
      await p.close();
    }
  });
}

// Fills the new-outfall form at the emulated position: river, county, type, name, two photos
// and an observation. Resolves once it is saved (the outfall's page shows).
async function newOutfall(page, name, photos = ['qinhe-outfall-a-1.jpg', 'qinhe-outfall-a-2.jpg']) {
  await tab(page, 'new');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#river', 'qinhe');
  await page.selectOption('#division', '410882');
  await page.selectOption('#type', 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED');
  await page.fill('#name', name);
  await page.fill('#landmark', '沁河大桥下游 200 米左岸');
  await page.selectOption('#photo-kind', 'PHOTO_KIND_NEAR');
  await page.setInputFiles('#photo-input', photos.map((f) => join(PHOTOS, f)));
  await page.waitForFunction((n) => document.querySelectorAll('#photo-list li').length === n, photos.length);
  await page.selectOption('#o-flowing', 'true');
  await page.fill('#o-colour', '灰黑色');
  await page.fill('#o-notes', '晴天仍有排水');
  await page.click('#save-new');
  await page.waitForSelector('#add-observation');
}

phoneTest('offline: an outfall with two photos and an observation is made, survives a reload, and syncs whole once online', async ({ page, context }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await installed(page);
  await context.setOffline(true);
  await page.evaluate(() => window.dispatchEvent(new Event('offline')));
  await newOutfall(page, '沁河左岸排口 A');
  const id = decodeURIComponent(page.url().split('#o/')[1]);
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(await page.textContent('#outbox-count'), '2');

  // The phone is still offline: the service worker serves the app, IndexedDB keeps the work.
  await page.reload();
  await page.waitForSelector('#view[data-loaded="true"]');
  assert.match(await page.textContent('#view'), /沁河左岸排口 A/);
  assert.match(await page.textContent('#view'), /未同步/);

  await context.setOffline(false);
  const status = await syncNow(page);
  assert.match(status, /上次同步/);
  assert.equal(await page.isVisible('#outbox-count'), false);

  const o = await api.outfall(supervisor.token, id);
  assert.equal(o.name, '沁河左岸排口 A');
  assert.equal(o.riverCode, 'qinhe');
  assert.equal(o.reviewState, 'REVIEW_STATE_PENDING');
  assert.ok(Math.abs(o.lat - SITE.latitude) < 1e-6 && Math.abs(o.lon - SITE.longitude) < 1e-6);
  const changes = await api.ok('GET', '/v1/changes?since=0&limit=100', { token: supervisor.token });
  const obs = changes.feed.map((e) => e.observation).filter((x) => x && x.outfallId === id);
  assert.equal(obs.length, 1);
  assert.deepEqual(obs[0].photos.map((p) => p.hash).sort(),
    [b2sum(join(PHOTOS, 'qinhe-outfall-a-1.jpg')), b2sum(join(PHOTOS, 'qinhe-outfall-a-2.jpg'))].sort());
  assert.ok(!(obs[0].flags || []).includes('photos_pending'), 'both photos arrived before the batch');
  // The batch was signed by the phone's own enrolled device.
  const device = (await localAll(page, surveyor.username, 'kv')).find((v) => v && v.id && v.nextSeq);
  assert.match(device.id, /^field-[0-9a-f]{16}$/);
  assert.equal(device.nextSeq, 2);
  const history = await api.history(supervisor.token, id);
  assert.match(JSON.stringify(history), new RegExp(device.id));
  // The originals left the phone once the server had them; the thumbnails stay.
  const photos = await localAll(page, surveyor.username, 'photos');
  assert.equal(photos.length, 2);
  assert.ok(photos.every((p) => p.blob === null && p.uploaded && String(p.thumb).startsWith('blob:')));
});

phoneTest('the app files are all cached by the service worker, and the manifest makes it installable', async ({ page }) => {
  const sw = await readFile(join(ROOT, 'web/field/sw.js'), 'utf8');
  const listed = new Set(JSON.parse(sw.match(/const FILES = (\[[^\]]*\])/)[1].replace(/'/g, '"').replace(/,\s*\]/, ']')));
  const files = (await readdir(join(ROOT, 'web/field'))).filter((f) => /\.(js|css|html|png|svg|webmanifest)$/.test(f) && f !== 'sw.js');
  const vendor = (await readdir(join(ROOT, 'web/field/vendor'))).filter((f) => /\.(js|css)$/.test(f)).map((f) => 'vendor/' + f);
  for (const f of files.concat(vendor)) assert.ok(listed.has(f), `${f} is not cached by sw.js`);
  const res = await api.call('GET', '/field/manifest.webmanifest');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/manifest\+json/);
  const m = JSON.parse(res.raw);
  assert.equal(m.start_url, '/field/');
  assert.ok(m.icons.some((i) => i.sizes === '512x512'));
  const redirect = await api.call('GET', '/field');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/field/');
  await page.goto(srv.url + '/field/');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('h1'), '排污口外业采集');
  assert.ok(await page.isVisible('#login-view'));
});
