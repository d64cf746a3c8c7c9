// Random inspections (双随机、一公开) in the console (web/draws.js) against the real server, in
// headless Debian Chromium: a supervisor of 沁阳市 makes a draw in the browser (division, how many,
// two inspectors of other counties, deadline), sees it listed (GET /v1/inspections/draws) and
// opened (seed published, picks with inspector, state, result and date, an approved result
// included), and verifies it: the browser recomputes the picks from the published facts and shows
// 「核验一致」. A copy changed on its way (request interception) is shown as not matching, with
// what differs. A form missing its inspectors and a draw the server refuses are shown in Chinese,
// nothing drawn; a retried submit draws once. English on the switch; 360 px; no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openView } from './lib/browser.js';
import { create, observe } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882'; // 沁阳市
let srv, api, admin, sup, surveyor, phone, insp, inspPhone, browser, page, pageErrors;
let drawId = '';
const outfalls = []; // {id, code, lat, lon} approved in 沁阳市

const ui = browserWorld({
  keys: /\b(?:app|nav|draws|value|err|code)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, browser, page, pageErrors } = w);
    admin = w.adminToken;
    sup = await api.createUser(admin, 'zhou.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    surveyor = await api.createUser(admin, 'zhou.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    insp = await api.createUser(admin, 'wu.inspector', 'inspector-pass-1', 'ROLE_SURVEYOR', ['410883']);
    await api.createUser(admin, 'zheng.inspector', 'inspector-pass-2', 'ROLE_SURVEYOR', ['410821']);
    phone = await api.enroll(surveyor.token, 'phone-survey');
    inspPhone = await api.enroll(insp.token, 'phone-inspector');
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5, type: 'OUTFALL_TYPE_MUNICIPAL_WWTP' };
    // Five treatment-plant outfalls (weight 3 in a weighted draw) and two others (weight 1).
    const batch = [0, 1, 2, 3, 4].map((i) => create({ ...base, lat: 35.1 + i * 0.01, lon: 112.92, name: `抽查候选排口${i}` }))
      .concat([5, 6].map((i) => create({ ...base, type: 'OUTFALL_TYPE_OTHER', lat: 35.1 + i * 0.01, lon: 112.92, name: `抽查候选排口${i}` })));
    const r = await api.sync(surveyor.token, phone, batch);
    assert.ok(r.results.every((x) => x.status === 'CHANGE_STATUS_APPLIED'), JSON.stringify(r.results));
    for (const c of batch) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
      outfalls.push({ id: c.entityId, code: d.outfall.code, lat: c.outfall.lat, lon: c.outfall.lon });
    }
  },
});

// Fills inspector row i of the form.
async function inspector(i, name, division) {
  await page.locator('.draw-inspector-name').nth(i).fill(name);
  await page.locator('.draw-inspector-division').nth(i).selectOption(division);
}

const drawCount = async () => ((await api.ok('GET', '/v1/inspections/draws', { token: sup.token })).draws || []).length;

ui('a form without inspectors is refused in Chinese before anything is sent', async () => {
  await openView(page, srv.url, sup, 'draws');
  assert.equal(await page.textContent('#draws-view h2'), '双随机、一公开');
  assert.match(await page.textContent('#draws-status'), /还没有抽查批次/);
  await page.fill('#draw-sample', '2');
  await page.click('#draw-submit');
  assert.match(await page.textContent('#draw-error'), /请至少填写一名检查人员/);
  assert.equal(await drawCount(), 0);
});

ui('a draw the server refuses (inspectors all of the outfalls\' county) shows the reason in Chinese, nothing drawn', async () => {
  await openView(page, srv.url, sup, 'draws');
  await page.fill('#draw-sample', '2');
  await inspector(0, 'local.inspector', DIV);
  await page.click('#draw-submit');
  await page.waitForSelector('#draw-error');
  const text = await page.textContent('#draw-error');
  assert.match(text, /没有可以派往这个排口的检查人员/);
  assert.doesNotMatch(text, /no inspector|division/);
  assert.equal(await drawCount(), 0);
  assert.equal(await page.locator('#draw-submit').isDisabled(), false, 'the button is back once answered');
});

ui('a supervisor draws in the browser: one draw for a submit retried, listed and opened with its seed and picks', async () => {
  await openView(page, srv.url, sup, 'draws');
  await page.locator(`.draw-divisions input[value="${DIV}"]`).check();
  await page.fill('#draw-sample', '3');
  await page.fill('#draw-deadline', '2099-12-31');
  await inspector(0, insp.username, '410883');
  await inspector(1, 'zheng.inspector', '410821');
  // The first answer is lost: the button is disabled while it runs, a second press sends the
  // same draw id, and the server answers the draw it made.
  let posts = 0;
  const ids = [];
  await page.route('**/v1/inspections/draws', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    posts++;
    ids.push(JSON.parse(route.request().postData()).drawId);
    if (posts === 1) {
      await route.fetch(); // the server draws ...
      return route.abort('connectionreset'); // ... and the answer never arrives
    }
    return route.continue();
  });
  await page.click('#draw-submit');
  await page.waitForSelector('#draw-error');
  assert.match(await page.textContent('#draw-error'), /无法连接服务器/);
  await page.click('#draw-submit');
  await page.waitForSelector('#draw-detail[data-draw-id]');
  await page.unroute('**/v1/inspections/draws');
  assert.equal(posts, 2);
  assert.equal(ids[0], ids[1], 'the retry sends the same draw id');
  assert.equal(await drawCount(), 1, 'one draw made');
  drawId = ids[0];
  assert.equal(await page.getAttribute('#draw-detail', 'data-draw-id'), drawId);

  // Listed, with its divisions, size and deadline in Chinese.
  const row = page.locator(`#draws-view tr[data-draw-id="${drawId}"]`);
  assert.match(await row.textContent(), /zhou\.sup/);
  assert.match(await row.textContent(), /沁阳市/);
  assert.match(await row.textContent(), /3 \/ 7/);
  assert.match(await row.textContent(), /2099-12-31/);
  // Opened: the published seed and the picks with their inspector and state.
  const pub = await api.ok('GET', `/public/inspections/${drawId}`);
  assert.equal(await page.textContent('#draw-seed-published'), pub.seed);
  const picks = page.locator('#draw-detail table.draw-picks tbody tr');
  assert.equal(await picks.count(), 3);
  for (let i = 0; i < 3; i++) {
    const cells = await picks.nth(i).locator('td').allTextContents();
    assert.equal(cells[1], pub.picks[i].code);
    assert.equal(cells[3], pub.picks[i].inspector);
    assert.equal(cells[4], '待检查');
  }
  const detail = await page.textContent('#draw-detail');
  assert.doesNotMatch(detail, /INSPECTION_|undefined/);
});

ui('an approved result shows with its finding and date; the draw verifies in the browser: 核验一致', async () => {
  // The inspector sends a result for a pick of theirs; the supervisor approves it.
  const pub = await api.ok('GET', `/public/inspections/${drawId}`);
  const mine = pub.picks.find((p) => p.inspector === insp.username);
  const o = outfalls.find((x) => x.code === mine.code);
  const change = observe(o.id, { lat: o.lat, lon: o.lon }, [], {
    observedAtMs: String(Date.now() - 60000), inspectionDrawId: drawId, inspectionResult: 'INSPECTION_RESULT_COMPLIANT', notes: '未见排放' });
  const s = await api.sync(insp.token, inspPhone, [change]);
  assert.equal(s.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(s.results));
  await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
    decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE_INSPECTION', observationId: change.entityId,
    outfallId: o.id, baseVersion: '1' } });

  await openView(page, srv.url, sup, 'draws');
  await page.click(`#draws-view tr[data-draw-id="${drawId}"] button.draw-open`);
  await page.waitForSelector('#draw-detail[data-draw-id]');
  const row = page.locator(`#draw-detail tr[data-code="${mine.code}"]`);
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[4], '结果已批准');
  assert.equal(cells[5], '合格');
  assert.notEqual(cells[6], '—');
  assert.match(cells[6], /\d{4}\/\d{1,2}\/\d{1,2}/);

  await page.click('#draw-verify-button');
  await page.waitForSelector('#draw-verify[data-result="match"]');
  assert.match(await page.textContent('#draw-verify'), /核验一致/);
});

ui('a tampered copy of the draw (a pick changed on its way) is shown as not matching, with what differs', async () => {
  await openView(page, srv.url, sup, 'draws');
  await page.route(`**/public/inspections/${drawId}`, async (route) => {
    const res = await route.fetch();
    const d = await res.json();
    // Another inspector for the first pick: the published answer no longer follows from the seed.
    const other = d.picks[0].inspector === insp.username ? 'zheng.inspector' : insp.username;
    d.picks[0].inspector = other;
    await route.fulfill({ response: res, json: d });
  });
  await page.click(`#draws-view tr[data-draw-id="${drawId}"] button.draw-open`);
  await page.waitForSelector('#draw-detail[data-draw-id]');
  await page.click('#draw-verify-button');
  await page.waitForSelector('#draw-verify[data-result="mismatch"]');
  const text = await page.textContent('#draw-verify');
  assert.match(text, /核验不一致/);
  assert.match(text, /第 1 个：公布 \S+ 检查 \S+，计算得 \S+ 检查 \S+/);
  await page.unroute(`**/public/inspections/${drawId}`);

  // A candidate's weight changed: the candidate list no longer hashes to the published hash.
  await page.route(`**/public/inspections/${drawId}`, async (route) => {
    const res = await route.fetch();
    const d = await res.json();
    d.candidates[0].weight = 7;
    await route.fulfill({ response: res, json: d });
  });
  await page.click(`#draws-view tr[data-draw-id="${drawId}"] button.draw-open`);
  await page.waitForSelector('#draw-detail[data-draw-id]');
  await page.click('#draw-verify-button');
  await page.waitForSelector('#draw-verify[data-result="mismatch"]');
  assert.match(await page.textContent('#draw-verify'), /候选排口名单哈希不符/);
  await page.unroute(`**/public/inspections/${drawId}`);
});

ui('a weighted draw under a seed published in advance verifies too; a bad seed is refused before sending', async () => {
  await openView(page, srv.url, sup, 'draws');
  await page.check('#draw-weighted');
  await page.fill('#draw-sample', '4');
  await inspector(0, insp.username, '410883');
  await inspector(1, 'zheng.inspector', '410821');
  await page.fill('#draw-seed', 'not-hex');
  await page.click('#draw-submit');
  assert.match(await page.textContent('#draw-error'), /随机种子应为 64 位十六进制数字/);
  assert.equal(await drawCount(), 1);
  const seed = '5eed'.repeat(16);
  await page.fill('#draw-seed', seed);
  await page.click('#draw-submit');
  await page.waitForSelector(`#draw-detail[data-draw-id]:not([data-draw-id="${drawId}"])`);
  assert.equal(await drawCount(), 2);
  assert.equal(await page.textContent('#draw-seed-published'), seed);
  const pub = await api.ok('GET', `/public/inspections/${await page.getAttribute('#draw-detail', 'data-draw-id')}`);
  assert.deepEqual(pub.candidates.map((c) => c.weight).sort(), [1, 1, 3, 3, 3, 3, 3]);
  assert.equal(pub.previousDrawId, drawId);
  assert.equal(await page.locator('#draw-detail table.draw-picks tbody tr').count(), 4);
  await page.click('#draw-verify-button');
  await page.waitForSelector('#draw-verify[data-result="match"]');
  assert.match(await page.textContent('#draw-verify'), /核验一致/);
});

ui('in English on the switch, readable at 360 px, no CSP violation', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  await openView(page, srv.url, sup, 'draws');
  await page.click(`#draws-view tr[data-draw-id="${drawId}"] button.draw-open`);
  await page.waitForSelector('#draw-detail[data-draw-id]');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 360 + 1, `the page is ${wide} px wide at 360`);
  await page.click('#lang');
  assert.equal(await page.textContent('#draws-view h2'), 'Random inspections');
  await page.click('#draw-verify-button');
  await page.waitForSelector('#draw-verify[data-result="match"]');
  assert.match(await page.textContent('#draw-verify'), /Verified: it matches/);
  assert.match(await page.textContent('#draw-detail'), /Result approved/);
  await page.click('#lang');
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
