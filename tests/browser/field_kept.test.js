// The field app keeps what is not yet safe off the server's machine (issue 22): a synced batch
// stays on the phone, exactly as signed, until the server's answer says an off-machine backup
// holds it; after the server is restored from a backup (a new store epoch) the phone sends every
// kept batch again, in device_seq order, before any new one, and the restored server ends up
// with their changes and photos. Real servers, a real `outfallctl backup` / `restore`; the
// backup horizon in each sync answer (acknowledged_seq, durable_seq, store_epoch) is set by the
// test on the real server's answer where a case needs it exact or a bucket would be needed
// (durable_seq); the restores take the server's own epoch, which `outfallctl restore` makes anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, ROOT, ADMIN_PASSWORD } from './lib/server.js';
import { Api } from './lib/api.js';
import { phone, fieldSignIn, tab, syncNow, localAll, b2sum, PHOTOS, assertNoErrors } from './lib/field.js';
import { fieldWorld } from './lib/fieldworld.js';

let srv, surveyor;
const { phoneTest, newOutfall, phoneWithOutfall, outfallsNamed, fail } =
  fieldWorld((w) => ({ srv, surveyor } = w));

const OUTFALLCTL = process.env.OUTFALLCTL || resolve(ROOT, (process.env.OUTFALLD || 'build/asan/outfalld').replace(/outfalld$/, 'outfallctl'));

// Sends the phone's API requests (all of them with all: true, else only POST /v1/sync) to
// h.target and writes the backup horizon h sets into each sync answer, as the server numbers it
// (docs/sync.md, "Kept until durable"): acknowledged_seq the next number for a new batch_id and
// the sequence's end (h.nextAck) for a replay, h.durable (null: left unset) and h.epoch (null:
// the server's own, which a restore makes anew). With
// h.real the server's own answer goes through untouched (into h.lastAnswer). Each sync body goes
// to h.bodies; h.beforeAnswer(body), when set, runs before the answer.
async function horizon(page, h, all = false) {
  h.bodies = h.bodies || [];
  h.acks = h.acks || new Map();
  h.nextAck = h.nextAck || 100;
  await page.route(all ? '**/v1/**' : '**/v1/sync', async (route) => {
    const r = route.request();
    const u = new URL(r.url());
    const response = await route.fetch({ url: h.target + u.pathname + u.search });
    if (!u.pathname.endsWith('/v1/sync') || response.status() !== 200) {
      await route.fulfill({ response });
      return;
    }
    const body = r.postData();
    h.bodies.push(body);
    const answer = await response.json();
    h.lastAnswer = answer;
    if (h.real) {
      await route.fulfill({ response, json: answer });
      return;
    }
    const batchId = JSON.parse(body).batchId;
    if (!h.acks.has(batchId)) h.acks.set(batchId, (h.nextAck += 10));
    answer.acknowledgedSeq = String(h.nextAck > h.acks.get(batchId) && h.replayEnd ? h.nextAck : h.acks.get(batchId));
    if (h.durable !== null) answer.durableSeq = String(h.durable);
    if (h.epoch) answer.storeEpoch = h.epoch; // else the server's own
    if (h.beforeAnswer) await h.beforeAnswer(body);
    await route.fulfill({ response, json: answer });
  });
}

phoneTest('a synced batch is kept, exactly as signed, until the server says a backup holds it, then dropped with its photos\' originals', async ({ page }) => {
  await phoneWithOutfall(page, '等待备份的排口');
  const h = { target: srv.url, epoch: 'epoch-1', durable: 0 };
  await horizon(page, h);
  assert.match(await syncNow(page), /上次同步/);
  assert.equal((await outfallsNamed('等待备份的排口')).length, 1, 'the server applied the batch');
  let kept = await localAll(page, surveyor.username, 'kept');
  assert.equal(kept.length, 1);
  assert.equal(kept[0].body, h.bodies[0], 'the exact body sent');
  assert.equal(kept[0].acknowledged_seq, h.acks.get(JSON.parse(h.bodies[0]).batchId));
  assert.equal(kept[0].epoch, 'epoch-1');
  assert.equal(kept[0].change_ids.length, 2);
  assert.match(kept[0].sig, /^[A-Za-z0-9+/]{86}==$/);
  assert.equal(await page.textContent('#kept-status'), '1 批已同步，等待服务器备份确认（确认前保留在手机上）');
  // The server holds the photos, but a restored server might not: the originals stay.
  let photos = await localAll(page, surveyor.username, 'photos');
  assert.ok(photos.every((p) => p.uploaded && String(p.blob).startsWith('blob:')), 'originals kept');

  // A backup short of it: still kept (the oldest kept batch goes again, the server answers its
  // first results and applies nothing twice). Other phones' batches moved the sequence on: the
  // replay is answered the sequence's end, and the kept batch keeps its own number.
  h.durable = kept[0].acknowledged_seq - 1;
  h.nextAck += 50;
  h.replayEnd = true;
  assert.match(await syncNow(page), /上次同步/);
  assert.equal(h.bodies[1], h.bodies[0]);
  assert.equal(h.lastAnswer.acknowledgedSeq, String(h.nextAck));
  assert.deepEqual((await localAll(page, surveyor.username, 'kept')).map((k) => k.acknowledged_seq), [kept[0].acknowledged_seq]);
  assert.equal((await outfallsNamed('等待备份的排口')).length, 1, 'nothing twice');

  // A backup that holds it: dropped, and the originals of its photos with it.
  h.durable = kept[0].acknowledged_seq;
  assert.match(await syncNow(page), /上次同步/);
  kept = await localAll(page, surveyor.username, 'kept');
  assert.deepEqual(kept, []);
  assert.equal(await page.isVisible('#kept-status'), false);
  photos = await localAll(page, surveyor.username, 'photos');
  assert.ok(photos.every((p) => p.blob === null && String(p.thumb).startsWith('blob:')), 'originals gone, thumbnails stay');

  // The server as it is, with no off-machine backup configured: its answer has the epoch and
  // the batch's number but no durable_seq, and nothing is kept.
  h.real = true;
  await newOutfall(page, '没有备份的服务器上的排口', ['qinhe-outfall-a-1.jpg']);
  assert.match(await syncNow(page), /上次同步/);
  assert.match(h.lastAnswer.storeEpoch, /^[0-9a-f]{32}$/);
  assert.ok(Number(h.lastAnswer.acknowledgedSeq) > 0);
  assert.equal(h.lastAnswer.durableSeq, undefined);
  assert.deepEqual(await localAll(page, surveyor.username, 'kept'), []);
  assert.equal((await outfallsNamed('没有备份的服务器上的排口')).length, 1);
});

phoneTest('a phone with no room to keep a batch records the answer all the same and says the batch is unprotected until a backup holds it', async ({ page }) => {
  await phoneWithOutfall(page, '手机存储已满时同步的排口');
  const h = { target: srv.url, epoch: 'epoch-full', durable: 0 };
  await horizon(page, h);
  // The phone's storage is full for what would be kept (IndexedDB's QuotaExceededError).
  await page.evaluate(() => {
    window.__put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (this.name === 'kept') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return window.__put.apply(this, args);
    };
  });
  assert.match(await syncNow(page), /上次同步/);
  assert.deepEqual(await localAll(page, surveyor.username, 'kept'), []);
  const states = (await localAll(page, surveyor.username, 'outbox')).filter((c) => c.state === 'queued' || c.state === 'sealed');
  assert.deepEqual(states, [], 'the answer was recorded');
  assert.equal((await outfallsNamed('手机存储已满时同步的排口')).length, 1);
  assert.equal(await page.textContent('#kept-refused'), '1 批因手机存储空间不足未保留副本：服务器在下次备份前出故障时，这些记录需重新录入');
  await page.evaluate(() => { IDBObjectStore.prototype.put = window.__put; });
  // A backup that holds it: the note goes.
  h.durable = h.nextAck;
  await newOutfall(page, '存储恢复后同步的排口', ['no-exif.jpg']);
  assert.match(await syncNow(page), /上次同步/);
  assert.equal(await page.isVisible('#kept-refused'), false);
});

test('after the server is restored from a backup, the phone sends every kept batch again, in order and exactly as signed, before a new one, and the restored server has their changes and photos', { timeout: 180000 }, async () => {
  const one = await startServer();
  const apiOne = new Api(one.url);
  const admin = await apiOne.login('admin', ADMIN_PASSWORD);
  const user = await apiOne.createUser(admin, 'zhao.field', 'zhao-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const scratch = await mkdtemp(join(tmpdir(), 'outfall-kept-')); // the backup and its restore
  const p = await phone({ url: one.url });
  const { page } = p;
  let two = null;
  try {
    await fieldSignIn(page, one.url, user);
    const h = { target: one.url, epoch: null, durable: 0 };
    await horizon(page, h, true);
    // Batch 1: in the backup.
    await newOutfall(page, '备份之前的排口', ['qinhe-outfall-a-1.jpg']);
    assert.match(await syncNow(page), /上次同步/);
    const backup = join(scratch, 'backup');
    execFileSync(OUTFALLCTL, ['backup', backup, '--data', join(one.root, 'data')]);
    h.durable = h.nextAck; // the backup holds batch 1's mark
    // Batches 2 and 3, each with a photo: acknowledged after the backup, kept.
    await newOutfall(page, '备份之后的排口甲', ['qinhe-outfall-a-2.jpg']);
    assert.match(await syncNow(page), /上次同步/);
    await newOutfall(page, '备份之后的排口乙', ['large-12mp.jpg']);
    assert.match(await syncNow(page), /上次同步/);
    const kept = (await localAll(page, user.username, 'kept')).sort((a, b) => a.device_seq - b.device_seq);
    assert.deepEqual(kept.map((k) => k.device_seq), [2, 3], 'batch 1 dropped when the backup held it');
    const epochBefore = h.lastAnswer.storeEpoch;
    assert.match(epochBefore, /^[0-9a-f]{32}$/);
    assert.deepEqual(kept.map((k) => k.epoch), [epochBefore, epochBefore]);
    assert.equal(await page.textContent('#kept-status'), '2 批已同步，等待服务器备份确认（确认前保留在手机上）');

    // The machine dies; its database comes back from the backup on another one.
    await one.stop();
    const restored = join(scratch, 'restored');
    execFileSync(OUTFALLCTL, ['restore', backup, '--data', restored]);
    two = await startServer([], { data: restored });
    const apiTwo = new Api(two.url);
    const adminTwo = await apiTwo.login('admin', ADMIN_PASSWORD);
    const named = async (name) => ((await apiTwo.ok('GET', '/v1/outfalls?limit=1000', { token: adminTwo })).outfalls || [])
      .filter((o) => o.name === name);
    assert.equal((await named('备份之前的排口')).length, 1);
    assert.equal((await named('备份之后的排口甲')).length, 0, 'the backup predates batch 2');

    // A new change waits too; the phone syncs with the restored server (the restore made a new
    // epoch).
    await newOutfall(page, '恢复之后的排口');
    h.target = two.url;
    h.durable = 0;
    const sentBefore = h.bodies.length;
    let resendShown = '';
    h.beforeAnswer = async (body) => {
      if (body !== kept[1].body) return;
      await page.waitForFunction(() => /正在重新发送/.test(document.querySelector('#sync-status')?.textContent || ''));
      resendShown = await page.textContent('#sync-status');
    };
    assert.match(await syncNow(page), /上次同步/);
    const sent = h.bodies.slice(sentBefore).map((b) => JSON.parse(b));
    assert.deepEqual(sent.map((b) => b.deviceSeq), ['2', '3', '4'], 'kept batches first, in order, then the new one');
    assert.equal(h.bodies[sentBefore], kept[0].body, 'exactly as signed');
    assert.equal(h.bodies[sentBefore + 1], kept[1].body, 'exactly as signed');
    assert.equal(resendShown, '服务器已从备份恢复 — 正在重新发送 1 批');
    for (const name of ['备份之前的排口', '备份之后的排口甲', '备份之后的排口乙', '恢复之后的排口']) {
      assert.equal((await named(name)).length, 1, name);
    }
    // The photos uploaded after the backup came again from the phone, which had kept them.
    for (const f of ['qinhe-outfall-a-2.jpg', 'large-12mp.jpg']) {
      const info = await apiTwo.ok('GET', `/v1/photos/${b2sum(join(PHOTOS, f))}/info`, { token: adminTwo });
      assert.ok(Number(info.size) > 0, f);
    }
    // Kept again under the new epoch until the restored server's backup holds them.
    const epochAfter = h.lastAnswer.storeEpoch;
    assert.match(epochAfter, /^[0-9a-f]{32}$/);
    assert.notEqual(epochAfter, epochBefore, 'outfallctl restore made a new epoch');
    const again = await localAll(page, user.username, 'kept');
    assert.deepEqual(again.map((k) => k.epoch), [epochAfter, epochAfter, epochAfter]);
    // The phone pulls the restored server's feed from what it holds: the new outfalls show.
    await tab(page, 'list');
    assert.match(await page.textContent('#view'), /恢复之后的排口/);
    assertNoErrors(p.pageErrors);
  } catch (e) {
    fail();
    await page.screenshot({ path: join(one.root, 'restore.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await p.close();
    if (two) await two.stop();
    await one.stop().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
});

test('a phone enrolled after the backup the server was restored from enrolls again and sends what it kept', { timeout: 180000 }, async () => {
  const one = await startServer();
  const apiOne = new Api(one.url);
  const admin = await apiOne.login('admin', ADMIN_PASSWORD);
  const user = await apiOne.createUser(admin, 'sun.field', 'sun-field-password-1', 'ROLE_SURVEYOR', ['410882']);
  const scratch = await mkdtemp(join(tmpdir(), 'outfall-kept-')); // the backup and its restore
  const backup = join(scratch, 'backup');
  execFileSync(OUTFALLCTL, ['backup', backup, '--data', join(one.root, 'data')]); // before the phone
  const p = await phone({ url: one.url });
  const { page } = p;
  let two = null;
  try {
    await fieldSignIn(page, one.url, user);
    const h = { target: one.url, epoch: null, durable: 0 };
    await horizon(page, h, true);
    await newOutfall(page, '新手机备份之后的排口', ['no-gps.jpg']);
    assert.match(await syncNow(page), /上次同步/);
    assert.equal((await localAll(page, user.username, 'kept')).length, 1);

    await one.stop();
    const restored = join(scratch, 'restored');
    execFileSync(OUTFALLCTL, ['restore', backup, '--data', restored]);
    two = await startServer([], { data: restored });
    h.target = two.url;
    // The restored server knows neither the phone's sign-in nor its device: sign in again, sync.
    assert.match(await syncNow(page), /同步未完成/);
    await page.click('#sync-now');
    await page.waitForSelector('#login-view:not([hidden])');
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
    await page.waitForSelector('#view[data-loaded="true"]');
    assert.match(await syncNow(page), /上次同步/);
    const apiTwo = new Api(two.url);
    const adminTwo = await apiTwo.login('admin', ADMIN_PASSWORD);
    const list = await apiTwo.ok('GET', '/v1/outfalls?limit=1000', { token: adminTwo });
    assert.equal((list.outfalls || []).filter((o) => o.name === '新手机备份之后的排口').length, 1);
    assertNoErrors(p.pageErrors);
  } catch (e) {
    fail();
    throw e;
  } finally {
    await p.close();
    if (two) await two.stop();
    await one.stop().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  }
});
