// The surveyors' field app (/field/) in headless Chromium as a 360×800 phone against the real
// server: offline work, sync, and sync's bad paths. (Forms and the list: field_forms.test.js; the
// inbox: field_inbox.test.js; the shared world: lib/fieldworld.js.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, ROOT, ADMIN_PASSWORD } from './lib/server.js';
import { Api } from './lib/api.js';
import { phone, fieldSignIn, installed, tab, syncNow, localAll, b2sum, PHOTOS, SITE, assertNoErrors } from './lib/field.js';
import { fieldWorld } from './lib/fieldworld.js';

let srv, api, admin, surveyor, supervisor;
const { phoneTest, newOutfall, phoneWithOutfall, outfallsNamed, fail } =
  fieldWorld((w) => ({ srv, api, admin, surveyor, supervisor } = w));

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

phoneTest('a batch whose answer was lost is sent again unchanged, and the server keeps it once', async ({ page }) => {
  const id = await phoneWithOutfall(page, '答复丢失的排口');
  const bodies = [];
  await page.route('**/v1/sync', async (route) => {
    bodies.push(route.request().postData());
    await route.fetch(); // the server applies it ...
    await route.abort('connectionreset'); // ... and the answer never reaches the phone
  });
  assert.match(await syncNow(page), /同步未完成/);
  assert.equal((await outfallsNamed('答复丢失的排口')).length, 1, 'the server applied the batch');
  const sealed = (await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state === 'sealed');
  assert.equal(sealed.length, 2, 'the changes wait, sealed in their batch');
  await page.unroute('**/v1/sync');
  page.on('request', (r) => { if (r.url().endsWith('/v1/sync')) bodies.push(r.postData()); });
  assert.match(await syncNow(page), /上次同步/);
  assert.equal(bodies.length, 2);
  assert.equal(bodies[1], bodies[0], 'the same bytes again: same batch_id, device_seq and changes');
  assert.equal((await outfallsNamed('答复丢失的排口')).length, 1, 'nothing twice');
  // Answered (the outfall is a duplicate suspect: earlier tests left outfalls at this spot).
  const states = (await localAll(page, surveyor.username, 'outbox')).map((c) => c.state);
  assert.deepEqual(states, ['duplicate', 'done']);
  assert.equal((await api.outfall(supervisor.token, id)).version, '1');
  // More syncs on the outbox do not pile up listeners for the sync's state: the app's network
  // line and the outbox on screen hold one each, whatever the number of redraws.
  const listening = await syncStateListeners(page);
  assert.match(await syncNow(page), /上次同步/);
  assert.match(await syncNow(page), /上次同步/);
  assert.equal(await syncStateListeners(page), listening);
  assert.ok(listening <= 2, `${listening} syncstate listeners`);
});

// How many 'syncstate' listeners the page's document holds (Chromium's own count, through CDP).
async function syncStateListeners(page) {
  const cdp = await page.context().newCDPSession(page);
  const { result } = await cdp.send('Runtime.evaluate', { expression: 'document' });
  const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
  await cdp.detach();
  return listeners.filter((l) => l.type === 'syncstate').length;
}

phoneTest('a photo upload cut off midway goes on from the offset the server kept', async ({ page }) => {
  await phoneWithOutfall(page, '大照片排口', ['large-12mp.jpg']);
  const patches = [];
  let cut = false;
  await page.route('**/v1/photos/*', async (route) => {
    const r = route.request();
    if (r.method() === 'PATCH') {
      patches.push(Number(await r.headerValue('upload-offset')));
      if (patches.length === 3 && !cut) {
        cut = true;
        await route.abort('connectionreset');
        return;
      }
    }
    await route.continue();
  });
  assert.match(await syncNow(page), /同步未完成/);
  assert.match(await syncNow(page), /上次同步/);
  const size = 3888263;
  const chunk = 512 * 1024;
  // Pieces 1 and 2 landed; the third was cut off and is sent again from where the server stood.
  assert.deepEqual(patches.slice(0, 4), [0, chunk, 2 * chunk, 2 * chunk]);
  assert.equal(patches.length, Math.ceil(size / chunk) + 1);
  const hash = b2sum(join(PHOTOS, 'large-12mp.jpg'));
  const info = await api.ok('GET', `/v1/photos/${hash}/info`, { token: surveyor.token });
  assert.equal(Number(info.size), size);
});

phoneTest('a sign-in that expires before a sync keeps every change; signing in again sends them', async ({ page }) => {
  await phoneWithOutfall(page, '过期后同步的排口');
  const session = (await localAll(page, surveyor.username, 'kv')).find((v) => v && v.token);
  await api.ok('POST', '/v1/auth/logout', { token: session.token }); // the token ends elsewhere
  assert.match(await syncNow(page), /同步未完成：登录已失效|同步未完成/);
  assert.match(await page.textContent('#banner'), /登录已过期/);
  assert.equal((await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state === 'queued').length, 2);
  await page.click('#sync-now');
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#username', surveyor.username);
  await page.fill('#password', surveyor.password);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-loaded="true"]');
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('过期后同步的排口')).length, 1);
});

phoneTest('a server error keeps everything and says so in Chinese; the next sync sends it', async ({ page }) => {
  await phoneWithOutfall(page, '服务器出错时的排口');
  await page.route('**/v1/sync', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":"server_busy","message":"busy"}' }));
  assert.match(await syncNow(page), /同步未完成：服务器繁忙/);
  assert.equal((await outfallsNamed('服务器出错时的排口')).length, 0);
  await page.unroute('**/v1/sync');
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('服务器出错时的排口')).length, 1);
});

phoneTest('a batch refused as too large is split and sent in consecutive smaller batches', async ({ page }) => {
  await phoneWithOutfall(page, '拆分批次的排口');
  const seqs = [];
  let refused = false;
  await page.route('**/v1/sync', async (route) => {
    const body = JSON.parse(route.request().postData());
    seqs.push([body.deviceSeq, body.changes.length]);
    if (!refused) {
      refused = true;
      await route.fulfill({ status: 413, contentType: 'application/json', body: '{"code":"body_too_large","message":"too large"}' });
      return;
    }
    await route.continue();
  });
  assert.match(await syncNow(page), /上次同步/);
  assert.deepEqual(seqs, [['1', 2], ['1', 1], ['2', 1]]);
  assert.equal((await outfallsNamed('拆分批次的排口')).length, 1);
});

phoneTest('signing out keeps the unsent work for its user only; signing in again resumes it', async ({ page }) => {
  await phoneWithOutfall(page, '退出前未同步的排口');
  await tab(page, 'me');
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  // Another surveyor on the same phone sees none of it.
  const other = await api.createUser(admin, 'qian.field', 'qian-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  await page.fill('#username', other.username);
  await page.fill('#password', other.password);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-loaded="true"]');
  assert.equal(await page.isVisible('#outbox-count'), false);
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('退出前未同步的排口')).length, 0);
  await tab(page, 'me');
  await page.click('#logout');
  await page.fill('#username', surveyor.username);
  await page.fill('#password', surveyor.password);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-loaded="true"]');
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('退出前未同步的排口')).length, 1);
  const device = (await localAll(page, surveyor.username, 'kv')).find((v) => v && v.id && v.nextSeq);
  assert.equal(device.nextSeq, 2, 'the same key and numbering as before signing out');
});

test('a new version of the app waits for the user and keeps the changes waiting to be sent', { timeout: 90000 }, async () => {
  // A server of its own, serving a copy of web/ that is then updated in place, as a deployment is.
  const web = join(srv.root, 'web-copy');
  await cp(join(ROOT, 'web'), web, { recursive: true });
  const own = await startServer(['--web', web]);
  const ownApi = new Api(own.url);
  const ownAdmin = await ownApi.login('admin', ADMIN_PASSWORD);
  const user = await ownApi.createUser(ownAdmin, 'wang.update', 'wang-update-password-1', 'ROLE_SURVEYOR', ['410882']);
  const p = await phone({ url: own.url });
  const { page } = p;
  let kept = false;
  try {
    await fieldSignIn(page, own.url, user);
    await installed(page);
    await newOutfall(page, '更新前保存的排口');
    const sw = join(web, 'field/sw.js');
    await writeFile(sw, (await readFile(sw, 'utf8')).replace(/const VERSION = '[^']*'/, "const VERSION = 'field-test-next'"));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.waitForSelector('#update:not([hidden])');
    assert.equal((await localAll(page, user.username, 'outbox')).filter((c) => c.state === 'queued').length, 2);
    await page.click('#update-reload');
    await page.waitForFunction(async () => (await caches.keys()).join() === 'field-test-next');
    await page.waitForSelector('#view[data-loaded="true"]');
    assert.equal((await localAll(page, user.username, 'outbox')).filter((c) => c.state === 'queued').length, 2);
    assert.match(await syncNow(page), /上次同步/);
    const list = await ownApi.ok('GET', '/v1/outfalls?limit=10', { token: ownAdmin });
    assert.deepEqual(list.outfalls.map((o) => o.name), ['更新前保存的排口']);
    assertNoErrors(p.pageErrors);
  } catch (e) {
    fail();
    kept = true;
    await page.screenshot({ path: join(srv.root, 'update.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await p.close();
    await own.stop(kept);
  }
});

phoneTest('a phone an administrator revoked says so and keeps its work; signing in again is not offered as the cure', async ({ page }) => {
  await phoneWithOutfall(page, '设备停用后的排口');
  const device = (await localAll(page, surveyor.username, 'kv')).find((v) => v && v.id && v.nextSeq);
  await api.ok('DELETE', `/v1/devices/${device.id}`, { token: admin });
  assert.match(await syncNow(page), /同步未完成：这部手机已被管理员停用/);
  assert.match(await page.textContent('#banner'), /已被管理员停用/);
  assert.doesNotMatch(await page.textContent('#banner'), /登录已过期/);
  assert.equal((await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state !== 'done').length, 2);
  assert.equal((await outfallsNamed('设备停用后的排口')).length, 0);
});
