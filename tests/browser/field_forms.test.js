// The field app's forms, list and pages on a 360×800 phone: installing it, the duplicate question,
// position, storage, drafts, search, languages, the clock, security and touch targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './lib/server.js';
import { create } from './lib/api.js';
import { phone, fieldSignIn, installed, tab, syncNow, localAll, PHOTOS, SITE } from './lib/field.js';
import { fieldWorld } from './lib/fieldworld.js';

let srv, api, admin, surveyor, supervisor;
const { phoneTest, outfallsNamed, decide } =
  fieldWorld((w) => ({ srv, api, admin, surveyor, supervisor } = w));

phoneTest('the app files are all cached by the service worker, and the manifest makes it installable', async ({ page }) => {
  const sw = await readFile(join(ROOT, 'web/field/sw.js'), 'utf8');
  const listed = new Set(JSON.parse(sw.match(/const FILES = (\[[^\]]*\])/)[1].replace(/'/g, '"').replace(/,\s*\]/, ']')));
  const files = (await readdir(join(ROOT, 'web/field'))).filter((f) => /\.(js|css|html|png|svg|webmanifest)$/.test(f) && f !== 'sw.js');
  const vendor = (await readdir(join(ROOT, 'web/field/vendor'))).filter((f) => /\.(js|css)$/.test(f)).map((f) => 'vendor/' + f);
  for (const f of files.concat(vendor)) assert.ok(listed.has(f), `${f} is not cached by sw.js`);
  // The vendored libraries are the pinned ones, unchanged (VENDOR.md; make vendor-check asks npm).
  const pinned = (await readFile(join(ROOT, 'web/field/vendor/VENDOR.md'), 'utf8')).matchAll(/^\| `([^`]+)` \|[^|]+\| ([0-9a-f]{64}) \|$/gm);
  let checked = 0;
  for (const [, file, sha] of pinned) {
    const bytes = await readFile(join(ROOT, 'web/field/vendor', file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, `vendor/${file} is not the pinned copy`);
    checked++;
  }
  assert.equal(checked, vendor.length, 'every vendored file is pinned in VENDOR.md');
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
  // Chromium's own verdict: nothing stops "add to home screen".
  await installed(page);
  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
});

phoneTest('a new outfall near a known one on the same river asks first whether it is the same one', async ({ page }) => {
  const other = await api.createUser(admin, 'zhao.field', 'zhao-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const dev = await api.enroll(other.token, 'zhao-phone-1');
  const known = create({ name: '已登记的沁河排口', riverCode: 'qinhe', divisionCode: '410882', lat: SITE.latitude + 0.0001, lon: SITE.longitude, accuracyM: 4 });
  await api.sync(other.token, dev, [known]);
  await fieldSignIn(page, srv.url, surveyor);
  await syncNow(page); // the county's outfalls come to the phone
  await tab(page, 'new');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#river', 'qinhe');
  await page.selectOption('#division', '410882');
  await page.fill('#name', '可能重复的排口');
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-1.jpg'));
  await page.waitForSelector('#photo-list li');
  await page.click('#save-new');
  await page.waitForSelector('#duplicate-dialog');
  assert.match(await page.textContent('#duplicate-dialog'), /是否为同一排口？[\s\S]*已登记的沁河排口 11 米/);
  await page.click(`#duplicate-dialog button.same[data-id="${known.entityId}"]`);
  await page.waitForSelector('#obs-form');
  assert.equal(decodeURIComponent(page.url().split('#obs/')[1]), known.entityId);
  assert.equal(await page.locator('#photo-list li').count(), 1, 'the photo comes along');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  const outbox = await localAll(page, surveyor.username, 'outbox');
  assert.equal(outbox.length, 1, 'no new outfall: one observation of the known one');
  assert.equal(outbox[0].kind, 'observation');
  assert.equal(outbox[0].fields.outfallId, known.entityId);
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('可能重复的排口')).length, 0);
});

phoneTest('with location denied the app says so in Chinese and a pin placed by hand is recorded as such', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await tab(page, 'new');
  await page.waitForFunction(() => /未获得定位权限/.test(document.querySelector('#pos-status')?.textContent || ''));
  assert.match(await page.textContent('#pos-chosen'), /尚未确定位置/);
  await page.selectOption('#river', 'qinhe');
  await page.selectOption('#division', '410882');
  await page.fill('#name', '手动标点的排口');
  await page.click('#save-new');
  assert.match(await page.textContent('#form-error'), /请先填写：位置/);
  await page.click('#pos-hand');
  await page.fill('#hand-lat', '35.0871');
  await page.fill('#hand-lon', '112.9525');
  await page.click('#pos-hand-ok');
  assert.match(await page.textContent('#pos-chosen'), /手动标点：35\.087100, 112\.952500/);
  await page.click('#save-new');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  const [o] = await outfallsNamed('手动标点的排口');
  assert.equal(o.positionByHand, true);
  assert.equal(o.accuracyM, undefined);
}, { geolocation: false });

phoneTest('a full phone refuses a photo with a clear message and keeps the form; it is saved once there is room', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await tab(page, 'new');
  await page.fill('#name', '存储已满时的排口');
  // A full disk, as IndexedDB reports it: every write fails with QuotaExceededError. (Chromium's
  // DevTools quota override does not reach IndexedDB in this build, so the error is made here.)
  await page.evaluate(() => {
    window.__put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
  });
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-1.jpg'));
  await page.waitForFunction(() => /存储空间已满/.test(document.querySelector('#banner')?.textContent || ''));
  assert.equal(await page.locator('#photo-list li').count(), 0);
  assert.equal(await page.inputValue('#name'), '存储已满时的排口', 'the form is still there');
  await page.evaluate(() => { IDBObjectStore.prototype.put = window.__put; });
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-1.jpg'));
  await page.waitForSelector('#photo-list li');
  const photos = await localAll(page, surveyor.username, 'photos');
  assert.equal(photos.length, 1);
});

phoneTest('in English the app reads in English', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await page.click('#lang');
  await tab(page, 'new');
  assert.equal(await page.textContent('#tab-new span'), 'New');
  assert.match(await page.textContent('#view'), /New outfall[\s\S]*Position[\s\S]*Photos/);
  assert.doesNotMatch(await page.textContent('#view'), /[\u4e00-\u9fff]/, 'no Chinese left in the English form');
  await page.click('#lang');
  assert.equal(await page.textContent('#tab-new span'), '新建');
});

phoneTest('a form being filled in survives closing the app', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await tab(page, 'new');
  await page.selectOption('#river', 'qinhe');
  await page.fill('#name', '未填完的排口');
  await page.fill('#o-notes', '下午再来补拍');
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-1.jpg'));
  await page.waitForSelector('#photo-list li');
  await page.waitForTimeout(500); // the draft is kept 300 ms after the last keystroke
  await page.goto('about:blank');
  await page.goto(srv.url + '/field/#new');
  await page.waitForSelector('#new-form');
  assert.equal(await page.inputValue('#name'), '未填完的排口');
  assert.equal(await page.inputValue('#river'), 'qinhe');
  assert.equal(await page.inputValue('#o-notes'), '下午再来补拍');
  assert.equal(await page.locator('#photo-list li').count(), 1);
});

phoneTest('the list finds outfalls by name, code and river, nearest first', async ({ page }) => {
  const other = await api.createUser(admin, 'wu.field', 'wu-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const dev = await api.enroll(other.token, 'wu-phone-1');
  // Three outfalls 2 km, 60 m and 500 m north of the phone, sent in that order.
  const at = (m) => SITE.latitude + m / 111195;
  const far = create({ name: '距离测试丙', riverCode: 'danhe', divisionCode: '410882', lat: at(2000), lon: SITE.longitude });
  const near = create({ name: '距离测试甲', riverCode: 'manghe', divisionCode: '410882', lat: at(60), lon: SITE.longitude });
  const mid = create({ name: '距离测试乙', riverCode: 'jihe', divisionCode: '410882', lat: at(500), lon: SITE.longitude });
  await api.sync(other.token, dev, [far, near, mid]);
  const d = await decide('DECISION_KIND_APPROVE', mid.entityId, 1);
  await fieldSignIn(page, srv.url, surveyor);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'list');
  await page.waitForFunction(() => /按距离排序/.test(document.querySelector('#list-where')?.textContent || ''));
  await page.fill('#search', '距离测试');
  await page.waitForFunction(() => document.querySelectorAll('#outfall-list li').length === 3);
  assert.deepEqual(await page.$$eval('#outfall-list li b', (bs) => bs.map((b) => b.textContent)), ['距离测试甲', '距离测试乙', '距离测试丙']);
  assert.match(await page.textContent('#outfall-list li:first-child'), /蟒河 · 60 米/);
  await page.fill('#search', '蟒河');
  await page.waitForFunction(() => document.querySelectorAll('#outfall-list li').length === 1);
  assert.match(await page.textContent('#outfall-list'), /距离测试甲/);
  await page.fill('#search', d.outfall.code);
  await page.waitForFunction(() => document.querySelectorAll('#outfall-list li').length === 1);
  await page.click('#outfall-list li a');
  await page.waitForSelector('#add-observation');
  assert.match(await page.textContent('#view'), /距离测试乙[\s\S]*已批准/);
  assert.match(await page.textContent('#view'), new RegExp(d.outfall.code));
});

phoneTest('a phone clock far from the server\'s is called out', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  await page.route('**/v1/changes*', async (route) => {
    const r = await route.fetch();
    await route.fulfill({ response: r, headers: { ...r.headers(), date: new Date(Date.now() + 3 * 3600e3).toUTCString() } });
  });
  await syncNow(page);
  assert.match(await page.textContent('#banner'), /手机时间与服务器相差约 180 分钟/);
});

phoneTest('the app is served with the console\'s security headers, and markup in a record shows as text', async ({ page }) => {
  for (const path of ['/field/', '/field/app.js', '/field/vendor/leaflet.js', '/field/nope.js']) {
    const r = await api.call('GET', path);
    assert.match(r.headers.get('content-security-policy'), /^default-src 'self'; script-src 'self'; style-src 'self';/, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
  }
  for (const path of ['/field/nope.js', '/field/.hidden.js', '/field/..%2fMakefile', '/field/vendor/..%2f..%2fMakefile', '/field/vendor/VENDOR.md']) {
    assert.equal((await api.call('GET', path)).status, 404, path);
  }
  const other = await api.createUser(admin, 'xss.field', 'xss-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const dev = await api.enroll(other.token, 'xss-phone-1');
  const evil = '<img src=x onerror="window.__xss=1">排口';
  const c = create({ name: evil, landmark: '<b>桥</b>', riverCode: 'weihe', divisionCode: '410882', lat: SITE.latitude + 0.002, lon: SITE.longitude });
  await api.sync(other.token, dev, [c]);
  await fieldSignIn(page, srv.url, surveyor);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'list');
  await page.fill('#search', 'onerror');
  await page.waitForFunction(() => document.querySelectorAll('#outfall-list li').length === 1);
  assert.equal(await page.textContent('#outfall-list li b'), evil);
  await page.click('#outfall-list li a');
  await page.waitForSelector('#add-observation');
  assert.match(await page.textContent('#view'), /<b>桥<\/b>/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('#view img[src="x"]').count(), 0);
});

phoneTest('on a 360 px phone every control is a large touch target, and a surveyor opening the console is sent to the app', async ({ page }) => {
  await fieldSignIn(page, srv.url, surveyor);
  for (const name of ['new', 'outbox', 'inbox', 'me', 'list']) {
    await tab(page, name);
    const small = await page.$$eval('button, input:not([type=file]), select, .tabs button', (es) => es
      .filter((e) => e.offsetParent !== null && !e.closest('.leaflet-container'))
      .map((e) => [e.id || e.textContent.trim().slice(0, 12), Math.round(e.getBoundingClientRect().height)])
      .filter(([, h]) => h < 40));
    assert.deepEqual(small, [], `controls under 40 px on ${name}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `${name} scrolls sideways (${wide} px)`);
  }
  await page.goto(srv.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#username', surveyor.username);
  await page.fill('#password', surveyor.password);
  await page.click('#login-submit');
  await page.waitForSelector('#surveyor-view:not([hidden])');
  assert.doesNotMatch(await page.textContent('body'), /没有审核权限/);
  assert.equal(await page.getAttribute('#surveyor-link', 'href'), '/field/');
  const h1 = await page.locator('h1').boundingBox();
  assert.ok(h1.height < 40, 'the console\'s title stays on one line');
});
