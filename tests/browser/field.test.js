// The surveyors' field app (/field/) in headless Chromium as a 360×800 phone against the real
// server: offline work, photos, sync and its bad paths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, createHash } from 'node:crypto';
import { readFile, readdir, writeFile, cp } from 'node:fs/promises';
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
  // Earlier tests left outfalls at this spot: the duplicate question comes first, and it is new.
  await page.waitForSelector('#add-observation, #duplicate-dialog');
  if (await page.isVisible('#duplicate-dialog')) await page.click('#dup-new');
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
});

// Signs in on a fresh phone and saves one new outfall (online, before any sync of it).
async function phoneWithOutfall(page, name, photos) {
  await fieldSignIn(page, srv.url, surveyor);
  await page.waitForFunction(() => !document.querySelector('#net')?.textContent.includes('同步中'));
  await newOutfall(page, name, photos);
  return decodeURIComponent(page.url().split('#o/')[1]);
}

async function outfallsNamed(name) {
  const list = await api.ok('GET', '/v1/outfalls?limit=1000', { token: supervisor.token });
  return (list.outfalls || []).filter((o) => o.name === name);
}

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
});

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

phoneTest('with location denied the app says so in Chinese and a pin placed by hand is recorded as such', async () => {
  const p = await phone({ geolocation: false });
  try {
    const { page } = p;
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
    assertNoErrors(p.pageErrors);
  } catch (e) {
    failed++;
    throw e;
  } finally {
    await p.close();
  }
});

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

// A supervisor's decision on an outfall record.
function decide(kind, outfallId, baseVersion, comment) {
  return api.ok('POST', '/v1/review/decisions', { token: supervisor.token, body: {
    decisionId: randomUUID(), kind, outfallId, baseVersion: String(baseVersion), comment } });
}

phoneTest('a record the supervisor returned shows in the inbox with the comment; the correction goes back for review', async ({ page }) => {
  const id = await phoneWithOutfall(page, '待退回的排口');
  assert.match(await syncNow(page), /上次同步/);
  await decide('DECISION_KIND_RETURN', id, 1, '请补充责任主体名称和联系电话');
  assert.match(await syncNow(page), /上次同步/);
  assert.ok(Number(await page.textContent('#inbox-count')) >= 1, 'the to-do badge counts it');
  await tab(page, 'inbox');
  const item = page.locator(`#inbox-list li[data-kind="returned"][data-id="${id}"]`);
  assert.match(await item.textContent(), /退回修改[\s\S]*待退回的排口[\s\S]*请补充责任主体名称和联系电话/);
  await item.locator('a').click();
  await page.waitForSelector('#edit-form');
  assert.match(await page.textContent('#edit-form .comment'), /审核意见：\s*请补充责任主体名称和联系电话/);
  await page.fill('#party-name', '沁阳市某村委会');
  await page.fill('#party-phone', '0391-5551234');
  await page.click('#save-edit');
  await page.waitForSelector('#add-observation');
  const [edit] = (await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state === 'queued');
  assert.deepEqual(edit.fields, { responsibleParty: { name: '沁阳市某村委会', phone: '0391-5551234' } }, 'only the changed fields');
  assert.equal(edit.base_version, 2);
  assert.match(await syncNow(page), /上次同步/);
  const o = await api.outfall(supervisor.token, id);
  assert.equal(o.reviewState, 'REVIEW_STATE_PENDING');
  assert.equal(o.responsibleParty.name, '沁阳市某村委会');
  await tab(page, 'inbox');
  assert.equal(await page.locator(`#inbox-list li[data-kind="returned"][data-id="${id}"]`).count(), 0, 'off the to-do list');
});

phoneTest('an inspection task assigned to this account is answered from the inbox, and a returned result is corrected in place', async ({ page }) => {
  // An approved outfall of 沁阳市, drawn for an inspector who covers the city.
  const inspector = await api.createUser(admin, 'sun.field', 'sun-field-password-1', 'ROLE_SURVEYOR', ['410800']);
  const dev = await api.enroll(supervisor.token, 'li-review-phone');
  const c = create({ name: '抽查的沁河排口', riverCode: 'qinhe', divisionCode: '410882', lat: 35.1203, lon: 112.9801, accuracyM: 5 });
  await api.sync(supervisor.token, dev, [c]);
  await decide('DECISION_KIND_APPROVE', c.entityId, 1);
  const drawId = randomUUID();
  const approved = await api.ok('GET', '/v1/outfalls?limit=1000&review_state=REVIEW_STATE_APPROVED', { token: supervisor.token });
  await api.ok('POST', '/v1/inspections/draws', { token: supervisor.token, body: {
    drawId, divisionCodes: ['410882'], sample: approved.outfalls.length, inspectors: [{ name: inspector.username, divisionCode: '410883' }] } });

  await fieldSignIn(page, srv.url, inspector);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  const item = page.locator(`#inbox-list li[data-kind="task"][data-id="${c.entityId}"]`);
  assert.match(await item.textContent(), /抽查任务[\s\S]*抽查的沁河排口[\s\S]*待检查/);
  await item.locator('a').click();
  await page.waitForSelector('#obs-form');
  assert.match(await page.textContent('#obs-form h2'), /双随机抽查/);
  await page.waitForSelector('#pos-chosen.ok');
  await page.click('#save-obs');
  assert.match(await page.textContent('#form-error'), /请先填写：抽查结论/);
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_ISSUES_FOUND');
  await page.fill('#o-notes', '排口周边有垃圾堆放');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  let tasks = await api.ok('GET', '/v1/inspections/tasks', { token: inspector.token });
  let task = tasks.tasks.find((x) => x.outfallId === c.entityId);
  assert.equal(task.state, 'INSPECTION_TASK_STATE_SUBMITTED');
  const obs = await api.ok('GET', `/v1/observations/${task.observationId}`, { token: supervisor.token });
  assert.equal(obs.inspectionResult, 'INSPECTION_RESULT_ISSUES_FOUND');
  assert.equal(obs.inspectionDrawId, drawId);

  // The supervisor sends it back; the inspector corrects the same observation.
  await api.ok('POST', '/v1/review/decisions', { token: supervisor.token, body: {
    decisionId: randomUUID(), kind: 'DECISION_KIND_RETURN_INSPECTION', outfallId: c.entityId,
    observationId: task.observationId, baseVersion: String(obs.version), comment: '请补拍排口近景照片' } });
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  assert.match(await item.textContent(), /结果被退回：请补拍排口近景照片/);
  await item.locator('a').click();
  await page.waitForSelector('#obs-form');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_ISSUES_FOUND');
  await page.setInputFiles('#photo-input', join(PHOTOS, 'qinhe-outfall-a-2.jpg'));
  await page.waitForSelector('#photo-list li');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  tasks = await api.ok('GET', '/v1/inspections/tasks', { token: inspector.token });
  task = tasks.tasks.find((x) => x.outfallId === c.entityId);
  assert.equal(task.state, 'INSPECTION_TASK_STATE_SUBMITTED', JSON.stringify(task));
  const again = await api.ok('GET', `/v1/observations/${task.observationId}`, { token: supervisor.token });
  assert.equal(again.photos.length, 1);
  await tab(page, 'inbox');
  assert.equal(await item.count(), 0);
});

phoneTest('an edit clashing with another phone\'s shows as a conflict with both values, in the outbox and the inbox', async ({ page }) => {
  const other = await api.createUser(admin, 'zhou.field', 'zhou-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const dev = await api.enroll(other.token, 'zhou-phone-1');
  const c = create({ name: '两人同时修改的排口', riverCode: 'qinhe', divisionCode: '410882', lat: 35.1401, lon: 112.9902, accuracyM: 5, landmark: '老码头' });
  await api.sync(other.token, dev, [c]);
  await fieldSignIn(page, srv.url, surveyor);
  assert.match(await syncNow(page), /上次同步/);
  await page.goto(`${srv.url}/field/#edit/${c.entityId}`);
  await page.waitForSelector('#edit-form');
  await page.fill('#landmark', '新码头东侧');
  await page.click('#save-edit');
  await page.waitForSelector('#add-observation');
  // Meanwhile the other phone changed the same field to something else.
  const { edit } = await import('./lib/api.js');
  await api.sync(other.token, dev, [edit(c.entityId, 1, { landmark: '老码头北侧' })]);
  assert.match(await syncNow(page), /上次同步/);
  const row = page.locator('#outbox-list li[data-state="conflict"]');
  assert.match(await row.textContent(), /修改排口：两人同时修改的排口[\s\S]*1 项与他人的修改冲突[\s\S]*受纳|地标|我的：新码头东侧；服务器：老码头北侧/);
  assert.match(await row.textContent(), /我的：新码头东侧；服务器：老码头北侧/);
  await tab(page, 'inbox');
  assert.equal(await page.locator(`#inbox-list li[data-kind="conflict"][data-id="${c.entityId}"]`).count(), 1);
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
    failed++;
    await page.screenshot({ path: join(srv.root, 'update.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await p.close();
    await own.stop(failed > 0);
  }
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

phoneTest('a change the server rejects stays on the phone with its reason in Chinese and opens again for correction', async ({ page }) => {
  // Issue 18's dead end, as it stands: a county inspector drawn to another county sees the task,
  // and the server refuses the result (outside_division). The phone keeps it and says why.
  const inspector = await api.createUser(admin, 'zheng.field', 'zheng-field-password-1', 'ROLE_SURVEYOR', ['410883']);
  const dev = await api.enroll(supervisor.token, 'li-review-phone-2');
  const c = create({ name: '跨县抽查的排口', riverCode: 'danhe', divisionCode: '410882', lat: 35.1602, lon: 112.9001, accuracyM: 5 });
  await api.sync(supervisor.token, dev, [c]);
  await decide('DECISION_KIND_APPROVE', c.entityId, 1);
  const approved = await api.ok('GET', '/v1/outfalls?limit=1000&review_state=REVIEW_STATE_APPROVED', { token: supervisor.token });
  await api.ok('POST', '/v1/inspections/draws', { token: supervisor.token, body: {
    drawId: randomUUID(), divisionCodes: ['410882'], sample: approved.outfalls.length, inspectors: [{ name: inspector.username, divisionCode: '410883' }] } });
  await fieldSignIn(page, srv.url, inspector);
  assert.match(await syncNow(page), /上次同步/);
  await tab(page, 'inbox');
  await page.locator(`#inbox-list li[data-kind="task"][data-id="${c.entityId}"] a`).click();
  await page.waitForSelector('#obs-form');
  await page.waitForSelector('#pos-chosen.ok');
  await page.selectOption('#inspection-result', 'INSPECTION_RESULT_COMPLIANT');
  await page.fill('#o-notes', '现场无排放');
  await page.click('#save-obs');
  await page.waitForSelector('#add-observation');
  assert.match(await syncNow(page), /上次同步/);
  const row = page.locator('#outbox-list li[data-state="rejected"]');
  assert.match(await row.textContent(), /抽查结果：跨县抽查的排口[\s\S]*被拒绝：不在您负责的行政区内（记录仍保存在手机上，可修改后重新提交）/);
  const kept = (await localAll(page, inspector.username, 'outbox')).find((x) => x.state === 'rejected');
  assert.equal(kept.result.reason, 'outside_division');
  await tab(page, 'inbox');
  assert.equal(await page.locator('#inbox-list li[data-kind="rejected"]').count(), 1);
  await tab(page, 'outbox');
  await page.click('#outbox-list li[data-state="rejected"] button.fix');
  await page.waitForSelector('#obs-form');
  assert.equal(await page.inputValue('#o-notes'), '现场无排放', 'the rejected change comes back to be corrected');
  assert.equal(await page.inputValue('#inspection-result'), 'INSPECTION_RESULT_COMPLIANT', 'as the task\'s result');
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
