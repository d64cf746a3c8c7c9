// Printable sign boards (web/signboards.js) against the real server in headless Chromium: from
// the outfall's page one board (the QR code fetched with the token and shown, the code, name,
// river, responsible party and 12369); from the inventory the boards of the rows shown that have
// a code, one A4 page each when printed; an outfall without a board says why in Chinese;
// English, 360 px, no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signIn } from './lib/browser.js';
import { create, creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882';

let srv, api, sup, browser, page;
const ids = [];
const codes = [];
let pending = '';

browserWorld({
  serverArgs: ['--public-url', 'https://hb.jiaozuo.example'],
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'biaozhi.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    const li = await api.createUser(admin, 'biaozhi.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    const phone = await api.enroll(li.token, 'phone-boards');
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5 };
    const batch = [
      create({ ...base, lat: 35.11, lon: 112.91, name: '标志牌排口甲',
        responsibleParty: { name: '沁阳某化工厂', creditCode: creditCode('91410882MA44XQ7J6') } }),
      create({ ...base, lat: 35.13, lon: 112.95, name: '标志牌排口乙' }),
      create({ ...base, lat: 35.15, lon: 112.97, name: '待审排口' })];
    await api.sync(li.token, phone, batch);
    for (const c of batch.slice(0, 2)) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
      ids.push(c.entityId);
      codes.push(d.outfall.code);
    }
    pending = batch[2].entityId;
  },
});

const boards = () => page.locator('#signboards-view section.signboard:not(.failed)');

test('a sign board from the outfall page and the boards of the inventory, one A4 page each', { timeout: 90000 }, async () => {
  await page.goto(srv.url + '/');
  await signIn(page, srv.url, sup);
  await page.evaluate((id) => { location.hash = '#outfall/' + id; }, ids[0]);
  await page.waitForSelector('#outfall-view[data-state="ready"]');
  await page.click('#outfall-signboard');
  await page.waitForSelector('#signboards-view[data-loaded="true"]');
  assert.equal(await boards().count(), 1);
  const b = boards().first();
  assert.equal(await b.getAttribute('data-code'), codes[0]);
  assert.equal(await b.locator('.sign-code').textContent(), codes[0]);
  assert.equal(await b.locator('.sign-name').textContent(), '标志牌排口甲');
  assert.equal(await b.locator('.sign-river').textContent(), '沁河');
  assert.equal(await b.locator('.sign-party').textContent(), '沁阳某化工厂');
  assert.match(await b.locator('.sign-hotline').textContent(), /监督举报电话：12369/);
  // The QR code came through the token as SVG and shows from a blob: URL.
  assert.match(await b.locator('img.sign-qr').getAttribute('src'), /^blob:/);
  await page.waitForFunction(() => document.querySelector('#signboards-view img.sign-qr').naturalWidth > 0);

  // From the inventory: the approved rows shown (the pending one has no code, so no board).
  await page.click('#nav-inventory');
  await page.waitForSelector('#inventory-view[data-state="ready"]');
  assert.equal(await page.locator('#inventory-view').getAttribute('data-rows'), '3');
  await page.click('#inventory-signboards');
  await page.waitForSelector('#signboards-view[data-loaded="true"]');
  assert.equal(await boards().count(), 2);
  assert.deepEqual((await boards().evaluateAll((s) => s.map((x) => x.dataset.code))).sort(), codes.slice().sort());
  assert.equal(await page.locator(`#signboards-view section.signboard[data-code="${codes[1]}"] .sign-party`).textContent(), '（待认定）');

  // Printed: the header and buttons are gone, each board ends its A4 page.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.bar').isVisible(), false);
  assert.equal(await page.locator('#signboards-print').isVisible(), false);
  assert.equal(await boards().first().evaluate((e) => getComputedStyle(e).breakAfter), 'page');
  await page.emulateMedia({ media: 'screen' });

  // An outfall that has no board (not approved): the reason in Chinese.
  await page.evaluate((id) => { location.hash = '#signboards/' + id; }, pending);
  await page.waitForSelector('#signboards-view[data-loaded="true"] section.signboard.failed');
  assert.match(await page.locator('#signboards-view .failed').textContent(), /无法生成/);
  assert.doesNotMatch(await page.locator('#signboards-view .failed').textContent(), /not_approved|not approved/i);

  // English and a phone's width.
  await page.evaluate((id) => { location.hash = '#signboards/' + id; }, ids[0]);
  await page.waitForSelector('#signboards-view[data-loaded="true"] section.signboard:not(.failed)');
  await page.click('#lang');
  assert.equal(await boards().first().locator('.sign-title').textContent(), 'Outfall sign board');
  await page.setViewportSize({ width: 360, height: 800 });
  assert.ok(await boards().first().evaluate((e) => e.getBoundingClientRect().right <= 360), 'the board fits 360 px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#lang');
  const raw = (await page.evaluate(() => document.body.innerText)).match(/\b(?:sign|nav)\.[a-z][\w.]*/g);
  assert.equal(raw, null, 'untranslated message keys on the page');
  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
