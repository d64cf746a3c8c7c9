// The console's inventory (台账) and the outfall's page (一口一档) through the real server, on a
// 1280 px desk and a 360 px phone: search by code and by name, each filter, paging with "load
// more", the map's labelled points (no tiles), a row opening the page (also linked as
// #outfall/<id>), the page's sections with Chinese labels (photo EXIF facts and the distance from
// the site included), and a bad filter's Chinese error.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { firstSeenAtStart, ADMIN_PASSWORD, ROOT } from './lib/server.js';
import { create, observe, creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';
import { request } from './lib/http.js';

const DIV = '410882'; // 沁阳市
const MZ = '410883'; // 孟州市: the paging records only
let srv, api, admin, sup, li, phoneLi, page, pageErrors;
const ids = {};

const ui = browserWorld({
  serverArgs: ['--backdate-days', '36500'],
  keys: /\b(?:app|nav|inv|page|detail|col|value|err|photo|code|f|flag)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, page, pageErrors } = w);
    admin = w.adminToken;
    // The chemical works' lifecycle is dated in 2023 (an overdue plan): see firstSeenAtStart.
    sup = await api.createUser(admin, 'zhang.kz', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410800']);
    li = await api.createUser(admin, 'li.kz', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV, MZ]);
    phoneLi = await api.enroll(li.token, 'phone-inv');

    // The fixture photo's EXIF says 35.08621 N, 112.95124 E: the outfall sits 100 m or so north.
    const site = { lat: 35.08711, lon: 112.95124 };
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 4 };
    const batch = [
      create({ ...base, ...site, name: '沁河北岸化工排口', type: 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE', landmark: '化工路桥下' }),
      create({ ...base, lat: 35.1, lon: 112.9, name: '城北污水处理厂排口', type: 'OUTFALL_TYPE_MUNICIPAL_WWTP' }),
      create({ ...base, lat: 35.12, lon: 112.92, name: '校验不过排口', type: 'OUTFALL_TYPE_OTHER',
        responsibleParty: { name: '某厂', creditCode: 'NOT-A-CREDIT-CODE!' } }),
    ];
    // 130 records in 孟州市 for paging: two pages of 100.
    const many = [];
    for (let i = 0; i < 130; i++) {
      many.push(create({ riverCode: 'huanghe', divisionCode: MZ, lat: 34.9 + i * 0.001, lon: 112.8, name: `黄河分页排口${i}`,
        type: 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED' }));
    }
    const r = await api.sync(li.token, phoneLi, batch);
    assert.ok(r.results.every((x) => x.status === 'CHANGE_STATUS_APPLIED'), JSON.stringify(r.results));
    for (let i = 0; i < many.length; i += 50) await api.sync(li.token, phoneLi, many.slice(i, i + 50));
    [ids.chem, ids.plant, ids.flagged] = batch.map((c) => c.entityId);

    // A photo with EXIF (time and position), seen at the chemical works' outfall.
    const bytes = await readFile(join(ROOT, 'tests/fixtures/photos/qinhe-outfall-a-1.jpg'));
    ids.photo = '247c25790e29dd5bc0a660f775e154eb667dc4a0556419662134187b48624359';
    const put = await request(`${srv.url}/v1/photos/${ids.photo}`, {
      method: 'PUT', headers: { Authorization: `Bearer ${li.token}`, 'Content-Type': 'image/jpeg' }, body: bytes,
    });
    assert.ok(put.status === 201 || put.status === 200, put.text);
    const ob = await api.sync(li.token, phoneLi, [observe(ids.chem, site, [{ hash: ids.photo, kind: 'PHOTO_KIND_NEAR' }], { colour: '灰黑' })]);
    assert.equal(ob.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(ob.results));

    // Approve the two good records; trace the chemical works and set its plan, long overdue.
    const approve = async (id) => api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
      decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: id, baseVersion: '1' } });
    await approve(ids.chem);
    await approve(ids.plant);
    const move = async (id, base, body) => (await api.ok('POST', '/v1/programme/transitions', { token: sup.token, body: {
      transitionId: randomUUID(), outfallId: id, baseVersion: String(base), ...body } })).outfall.version;
    firstSeenAtStart(srv, ids.chem);
    let v = await move(ids.chem, 2, { toStage: 'LIFECYCLE_STAGE_FOUND', effectiveDate: '2023-03-01' });
    v = await move(ids.chem, v, { toStage: 'LIFECYCLE_STAGE_TRACED', effectiveDate: '2023-04-01',
      responsibleParty: { name: '沁阳市某化工有限公司', creditCode: creditCode('91410882MA44R7LT1') }, partyBasis: 'PARTY_BASIS_TRACED' });
    await move(ids.chem, v, { toStage: 'LIFECYCLE_STAGE_PLANNED', effectiveDate: '2023-05-01',
      plan: { measure: 'REMEDIATION_MEASURE_REGULARIZE', deadline: '2023-12-31', notes: '规范化整治' } });
    ids.plantCode = (await api.outfall(sup.token, ids.plant)).code;
    ids.chemCode = (await api.outfall(sup.token, ids.chem)).code;
  },
});

// Opens the console at hash (signed in as the supervisor) and waits for the inventory's answer.
async function inventoryAt(hash) {
  await page.goto(`${srv.url}/${hash}`);
  await page.waitForSelector('body[data-ready="true"]');
  if (await page.locator('#login-view').isVisible()) {
    await page.fill('#username', sup.username);
    await page.fill('#password', sup.password);
    await page.click('#login-submit');
  }
  await page.waitForSelector('#inventory-view:not([hidden])[data-state="ready"], #inventory-view:not([hidden])[data-state="error"]');
}

const rowIds = () => page.locator('#inventory-view tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.outfallId));

// Submits the form with the filter name set to value (a select's option or the search text).
async function search(name, value) {
  await page.goto(`${srv.url}/#inventory`);
  await inventoryAt('#inventory');
  const e = page.locator(`#inv-${name}`);
  if (name === 'overdue') await e.check();
  else if (name === 'q') await e.fill(value);
  else await e.selectOption(value);
  await page.click('#inv-search');
  await page.waitForSelector('#inventory-view[data-state="ready"], #inventory-view[data-state="error"]');
  return rowIds();
}

ui('the header\'s 台账 opens the inventory: every outfall, a page of 100 with more on demand', async () => {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#username', sup.username);
  await page.fill('#password', sup.password);
  await page.click('#login-submit');
  await page.waitForSelector('#review-view:not([hidden])');
  await page.click('#nav-inventory');
  await page.waitForSelector('#inventory-view[data-state="ready"]');
  assert.equal(await page.textContent('#inventory-view h2'), '排污口台账');
  assert.equal(await page.locator('#inventory-view tbody tr').count(), 100);
  assert.match(await page.textContent('#inventory-status'), /已显示 100 个排口，还有更多/);
  await page.click('#inventory-more');
  await page.waitForSelector('#inventory-view[data-state="ready"][data-rows="133"]');
  const all = await rowIds();
  assert.equal(new Set(all).size, 133, 'no row twice');
  assert.equal(await page.locator('#inventory-more').count(), 0);
  // Chinese column heads and labels, no raw enum names.
  const head = await page.textContent('#inventory-view thead');
  for (const w of ['排口编码', '名称', '受纳河流', '行政区', '排口类型', '所处阶段', '审核状态', '标记']) assert.ok(head.includes(w), w);
  const body = await page.textContent('#inventory-view tbody');
  assert.doesNotMatch(body, /OUTFALL_TYPE_|LIFECYCLE_STAGE_|REVIEW_STATE_|credit_code_invalid/);
});

ui('search by part of the name, and by the code', async () => {
  assert.deepEqual(await search('q', '化工'), [ids.chem]);
  assert.deepEqual(await search('q', ids.plantCode), [ids.plant]);
  assert.equal(await page.textContent(`#inventory-view tr[data-outfall-id="${ids.plant}"] td.name`), '城北污水处理厂排口');
  assert.match(page.url(), /#inventory\?q=/, 'the search is in the address, to link');
});

ui('each filter: division, river, type, stage, flag, overdue', async () => {
  assert.equal((await search('division', MZ)).length, 100);
  assert.deepEqual((await search('river', 'qinhe')).sort(), [ids.chem, ids.plant, ids.flagged].sort());
  assert.deepEqual(await search('type', 'OUTFALL_TYPE_MUNICIPAL_WWTP'), [ids.plant]);
  assert.deepEqual(await search('stage', 'LIFECYCLE_STAGE_PLANNED'), [ids.chem]);
  assert.equal(await page.textContent(`#inventory-view tr[data-outfall-id="${ids.chem}"] td[data-stage]`), '一口一策');
  assert.deepEqual(await search('stage', 'LIFECYCLE_STAGE_FOUND'), [ids.plant]);
  assert.deepEqual(await search('flag', 'credit_code_invalid'), [ids.flagged]);
  assert.equal(await page.textContent(`#inventory-view tr[data-outfall-id="${ids.flagged}"] td:last-child`), '统一社会信用代码校验不通过');
  assert.deepEqual(await search('overdue'), [ids.chem]);
  // The choices are in Chinese.
  assert.ok((await page.locator('#inv-stage option').allTextContents()).includes('溯源'));
  assert.ok((await page.locator('#inv-type option').allTextContents()).includes('城镇污水处理厂排污口'));
});

ui('the map shows a labelled point per outfall listed (no tiles configured)', async () => {
  await search('river', 'qinhe');
  await page.waitForFunction(() => document.querySelectorAll('#inventory-map path.leaflet-interactive').length === 3);
  const labels = await page.locator('#inventory-map .leaflet-tooltip').allTextContents();
  assert.ok(labels.includes(ids.plantCode), labels.join(' '));
  assert.ok(labels.includes('校验不过排口'), 'an outfall without a code is labelled by name');
  assert.equal(await page.locator('#inventory-map img.leaflet-tile').count(), 0);
});

ui('a bad filter in a link gives the Chinese error, not the server\'s English', async () => {
  await inventoryAt('#inventory?type=NOPE');
  await page.waitForSelector('#inventory-view[data-state="error"]');
  const text = await page.textContent('#inventory-status');
  assert.match(text, /查询失败：请求中的参数无效/);
  assert.doesNotMatch(text, /must be|type/);
});

ui('a row opens the outfall\'s page: every section, labelled in Chinese', async () => {
  await search('q', '化工');
  await page.click(`#inventory-view tr[data-outfall-id="${ids.chem}"] button.open`);
  await page.waitForSelector('#outfall-view:not([hidden])[data-state="ready"]');
  assert.equal(new URL(page.url()).hash, `#outfall/${ids.chem}`);
  for (const s of ['facts', 'stage', 'party', 'plan', 'evidence', 'position', 'photos', 'observations', 'inspections', 'history']) {
    assert.equal(await page.locator(`#outfall-view section[data-section="${s}"]`).count(), 1, s);
  }
  assert.equal(await page.locator('#outfall-actions').count(), 1, 'the box for lifecycle actions');
  const stage = await page.textContent('#outfall-view section[data-section="stage"]');
  assert.match(stage, /一口一策/);
  assert.match(stage, /排查日期\s*2023-03-01/);
  assert.match(stage, /溯源日期\s*2023-04-01/);
  const party = await page.textContent('#outfall-view section[data-section="party"]');
  assert.match(party, /沁阳市某化工有限公司/);
  assert.match(party, /责任认定依据\s*溯源认定/);
  const plan = await page.textContent('#outfall-view section[data-section="plan"]');
  assert.match(plan, /整治措施\s*规范/);
  assert.match(plan, /整治期限\s*2023-12-31/);
  // The photo's EXIF facts and its distance from the site (about 100 m).
  await page.waitForSelector('#outfall-view .photo-card dd[data-fact="distance"]');
  const dist = await page.textContent('#outfall-view .photo-card dd[data-fact="distance"]');
  const m = Number(dist.replace(/[^\d]/g, ''));
  assert.ok(m >= 95 && m <= 105, dist);
  assert.match(await page.textContent('#outfall-view .photo-card dd[data-fact="where"]'), /35\.086210, 112\.951240/);
  assert.match(await page.textContent('#outfall-view .photo-card dd[data-fact="time"]'), /2026/);
  assert.match(await page.textContent('#outfall-view .photo-card dd[data-fact="kind"]'), /近景/);
  const all = await page.textContent('#outfall-view');
  assert.doesNotMatch(all, /LIFECYCLE_STAGE_|PARTY_BASIS_|REMEDIATION_MEASURE_|OUTFALL_TYPE_|REVIEW_STATE_/);
  // The history names the stage changes and the plan, in Chinese.
  const hist = await page.textContent('#outfall-view section[data-section="history"]');
  assert.match(hist, /所处阶段一口一策/);
  assert.match(hist, /责任认定依据溯源认定/);
  assert.doesNotMatch(hist, /programme\./);
  // The audit trail: who approved it and took each step, when, in words (reviewers only).
  const audit = await page.textContent('#outfall-view section[data-section="audit"]');
  assert.match(audit, /审计记录/);
  assert.match(audit, /批准入库/);
  assert.match(audit, /溯源/);
  assert.match(audit, /一口一策/);
  assert.match(audit, /完成/);
  assert.doesNotMatch(audit, /review\.|programme\.|FOUND|TRACED|->/);
});

ui('the page is linked as #outfall/<id>, and an unknown id says so in Chinese', async () => {
  await page.goto(`${srv.url}/#outfall/${ids.plant}`);
  await page.waitForSelector('#outfall-view[data-state="ready"]');
  assert.match(await page.textContent('#outfall-view h2'), new RegExp(ids.plantCode));
  await page.goto(`${srv.url}/#outfall/00000000-0000-4000-8000-000000000000`);
  await page.waitForSelector('#outfall-view[data-state="error"]');
  assert.match(await page.textContent('#outfall-view .error'), /排口加载失败：/);
  assert.doesNotMatch(await page.textContent('#outfall-view .error'), /no outfall|not found/i);
});

ui('on a 360 px phone the inventory and the page fit the width', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await search('q', '化工');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `the inventory scrolls sideways (${wide} px)`);
    await page.click(`#inventory-view tr[data-outfall-id="${ids.chem}"] button.open`);
    await page.waitForSelector('#outfall-view[data-state="ready"]');
    const wide2 = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide2 <= 360, `the page scrolls sideways (${wide2} px)`);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});
