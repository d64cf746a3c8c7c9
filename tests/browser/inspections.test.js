// Inspection results (双随机、一公开) in the console (web/review.js), in headless Debian Chromium
// against the real server: a supervisor draws a round of two approved outfalls in 沁阳市; the
// inspector the draw sent sends both results from a phone through signed sync. The console shows
// each result (draw, finding, notes, time, photo) and decides THE RESULT, not the outfall: one is
// approved (after a lost answer, retried under the same decision id) and then shows on the public
// draw page; the other is returned with a comment, after a stale version reloaded it. Last, the
// same review's other new refusal: a phone's outfall whose credit code fails its check character
// shows the credit_code_invalid flag, and its approval is refused with the reason in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signIn } from './lib/browser.js';
import { create, observe } from './lib/api.js';
import { browserWorld } from './lib/world.js';
import { png, blake2b256 } from './lib/png.js';

const DIV = '410882';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INSPECTED_AT_MS = '1764295200000'; // 2025-11-28 10:00 China Standard Time

let srv, api, sup, surveyor, phone, insp, inspPhone, browser, page, drawId, photo;
let pageErrors = [];
const outfalls = []; // [{id, code}] of the two drawn outfalls
const results = []; // [{id (the observation), outfallId, change}] of the two results

const ui = browserWorld({
  keys: /\b(?:inspection|decide|done|err|code|detail|f|flag)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, browser, page, pageErrors } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'qian.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    surveyor = await api.createUser(admin, 'qian.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    insp = await api.createUser(admin, 'sun.inspector', 'inspector-pass-1', 'ROLE_SURVEYOR', ['410800']);
    phone = await api.enroll(surveyor.token, 'phone-survey');
    inspPhone = await api.enroll(insp.token, 'phone-inspector');

    // Two approved outfalls on the 沁河.
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5, type: 'OUTFALL_TYPE_MUNICIPAL_WWTP' };
    const batch = [create({ ...base, lat: 35.101, lon: 112.921, name: '抽查排口甲' }),
      create({ ...base, lat: 35.121, lon: 112.951, name: '抽查排口乙' })];
    const r = await api.sync(surveyor.token, phone, batch);
    assert.deepEqual(r.results.map((x) => x.status), ['CHANGE_STATUS_APPLIED', 'CHANGE_STATUS_APPLIED']);
    for (const c of batch) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
      outfalls.push({ id: c.entityId, code: d.outfall.code, lat: c.outfall.lat, lon: c.outfall.lon });
    }

    // A round drawing both, with one inspector from another county: both picks are theirs.
    drawId = randomUUID();
    await api.ok('POST', '/v1/inspections/draws', { token: sup.token, body: {
      drawId, divisionCodes: [DIV], riverCode: 'qinhe', sample: 2,
      inspectors: [{ name: insp.username, divisionCode: '410883' }] } });
    const pub = await api.ok('GET', `/public/inspections/${drawId}`);
    assert.deepEqual(pub.picks.map((p) => p.code).sort(), outfalls.map((o) => o.code).sort());
    assert.deepEqual(pub.picks.map((p) => p.inspector), [insp.username, insp.username]);

    // The inspector's phone sends both results (the first with a photo) through signed sync.
    const bytes = png(64, 48, [30, 120, 200]);
    photo = await api.putPhoto(insp.token, bytes, blake2b256(bytes));
    const changes = outfalls.map((o, i) => observe(o.id, { lat: o.lat, lon: o.lon },
      i === 0 ? [{ hash: photo, kind: 'PHOTO_KIND_NEAR' }] : [], {
        observedAtMs: INSPECTED_AT_MS, inspectionDrawId: drawId,
        inspectionResult: i === 0 ? 'INSPECTION_RESULT_COMPLIANT' : 'INSPECTION_RESULT_ISSUES_FOUND',
        notes: i === 0 ? '标志牌完好，未见排放' : '排口有异味',
      }));
    const s = await api.sync(insp.token, inspPhone, changes);
    assert.deepEqual(s.results.map((x) => x.status), ['CHANGE_STATUS_APPLIED', 'CHANGE_STATUS_APPLIED'], JSON.stringify(s.results));
    changes.forEach((c, i) => results.push({ id: c.entityId, outfallId: outfalls[i].id }));
  },
});

// A test in the browser: a screenshot on failure, no script error, no untranslated key.

// Opens the console signed in as the supervisor (signing in when needed), the queue loaded.
async function signedIn() {
  await signIn(page, srv.url, sup);
  await page.waitForSelector('#queue-pane[data-state="ready"]');
}

const item = (outfallId) =>
  page.locator(`#queue-list li[data-kind="REVIEW_ITEM_KIND_INSPECTION"][data-outfall-id="${outfallId}"] button`);

// Opens the inspection result r from a fresh queue; resolves when version shows.
async function openResult(r, version) {
  await page.click('#queue-refresh');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  await item(r.outfallId).click();
  await page.waitForSelector(`.detail[data-kind="REVIEW_ITEM_KIND_INSPECTION"] .inspection[data-observation-id="${r.id}"][data-version="${version}"]`);
}

// Waits until the notice bar shows a notice of kind whose text matches want (a RegExp, or a
// string for the whole text): an earlier notice still showing does not count.
async function expectNotice(kind, want) {
  const [src, whole] = want instanceof RegExp ? [want.source, false] : [want, true];
  await page.waitForFunction(([k, text, exact]) => {
    const n = document.querySelector('#notice');
    if (!n || n.hidden || n.dataset.kind !== k) return false;
    return exact ? n.textContent === text : new RegExp(text).test(n.textContent);
  }, [kind, src, whole]);
  return page.textContent('#notice');
}

const fact = (f) => page.textContent(`.inspection-facts tr[data-field="${f}"] td`);

ui('the console shows the result and approves it, retried under one decision id, and the public page then shows it', async () => {
  await signedIn();
  const [r] = results;
  assert.equal(await item(r.outfallId).locator('.result').textContent(), '合格');
  await openResult(r, 1);
  // The result itself: draw, finding, notes, time, state and its photo, loaded through the API.
  assert.equal(await fact('inspection_draw_id'), drawId);
  assert.equal(await fact('inspection_result'), '合格');
  assert.equal(await fact('notes'), '标志牌完好，未见排放');
  assert.match(await fact('observed_at_ms'), /2025/);
  assert.equal(await fact('inspection_state'), '尚未审核');
  await page.waitForFunction(() => {
    const i = document.querySelector('.inspection .thumb img');
    return i && i.complete && i.naturalWidth === 64 && i.src.startsWith('blob:');
  });
  assert.equal(await page.getAttribute('.inspection .thumb', 'data-hash'), photo);
  // The form decides the result, not the outfall: no approve/return/reject of the record here.
  assert.equal(await page.locator('#decide-approve, #decide-return, #decide-reject').count(), 0);
  assert.equal(await page.locator('#inspection-approve').count(), 1);

  // The connection fails on every try of the first click (nothing reaches the server); the
  // second click goes through under the same decision id.
  const sent = [];
  await page.route('**/v1/review/decisions', async (route) => {
    sent.push(route.request().postDataJSON());
    return sent.length <= 3 ? route.abort('connectionreset') : route.continue();
  });
  try {
    await page.click('#inspection-approve');
    await expectNotice('error', /无法连接服务器|操作失败/);
    assert.equal(sent.length, 3);
    await page.click('#inspection-approve');
    await expectNotice('ok', '抽查结果已批准，公开页面将显示这一结果。');
  } finally {
    await page.unroute('**/v1/review/decisions');
  }
  assert.equal(sent.length, 4);
  assert.match(sent[0].decisionId, UUID_RE);
  assert.ok(sent.every((d) => d.decisionId === sent[0].decisionId), 'one decision id until success');
  assert.equal(sent[3].kind, 'DECISION_KIND_APPROVE_INSPECTION');
  assert.equal(sent[3].observationId, r.id);
  assert.equal(sent[3].outfallId, r.outfallId);
  assert.equal(sent[3].baseVersion, '1');

  // The public draw page shows the approved result; the outfall itself was not decided again.
  const pub = await api.ok('GET', `/public/inspections/${drawId}`);
  const pick = pub.picks.find((p) => p.code === outfalls[0].code);
  assert.equal(pick.result, 'INSPECTION_RESULT_COMPLIANT');
  assert.equal(pick.inspectedAtMs, INSPECTED_AT_MS);
  const other = pub.picks.find((p) => p.code === outfalls[1].code);
  assert.equal(other.result, undefined, 'the other result is not approved');
  const ob = await api.ok('GET', `/v1/observations/${r.id}`, { token: sup.token });
  assert.equal(ob.inspectionState, 'REVIEW_STATE_APPROVED');
  const o = await api.outfall(sup.token, r.outfallId);
  assert.equal(o.reviewState, 'REVIEW_STATE_APPROVED');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  assert.equal(await item(r.outfallId).count(), 0, 'off the queue');
});

ui('returning a result needs a comment; a stale version reloads it; then it goes back to the inspector', async () => {
  await signedIn();
  const [, r] = results;
  await openResult(r, 1);
  assert.equal(await fact('inspection_result'), '发现问题');

  // No comment: refused in the page, nothing sent.
  let posts = 0;
  const count = (q) => { if (q.url().endsWith('/v1/review/decisions')) posts++; };
  page.on('request', count);
  await page.click('#inspection-return');
  await expectNotice('error', '退回时请填写意见，告诉检查人员需要补正什么。');
  assert.equal(posts, 0);

  // Meanwhile the inspector corrects the notes: the console's version is stale.
  const e = await api.sync(insp.token, inspPhone, [{
    changeId: randomUUID(), entityId: r.id, baseVersion: '1', clientTimeMs: String(Date.now()),
    observation: { notes: '排口有异味，已取样' } }]);
  assert.equal(e.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(e.results));
  await page.fill('#inspection-comment', '请补拍近景照片');
  await page.click('#inspection-return');
  await expectNotice('error', /已被修改/);
  await page.waitForSelector(`.inspection[data-observation-id="${r.id}"][data-version="2"]`);
  assert.equal(await fact('notes'), '排口有异味，已取样');

  await page.fill('#inspection-comment', '请补拍近景照片');
  await page.click('#inspection-return');
  await expectNotice('ok', '抽查结果已退回检查人员。');
  page.off('request', count);
  assert.equal(posts, 2, 'the stale try and the return');
  const ob = await api.ok('GET', `/v1/observations/${r.id}`, { token: sup.token });
  assert.equal(ob.inspectionState, 'REVIEW_STATE_RETURNED');
  const pub = await api.ok('GET', `/public/inspections/${drawId}`);
  assert.equal(pub.picks.find((p) => p.code === outfalls[1].code).result, undefined, 'a returned result never shows');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  assert.equal(await item(r.outfallId).count(), 0, 'off the queue');
  assert.equal((await api.ok('GET', `/v1/observations/${r.id}`, { token: insp.token })).inspectionState, 'REVIEW_STATE_RETURNED');
});

ui('in English the result, its labels and the refusal texts read in English', async () => {
  await signedIn();
  // Both languages hold every message, the new ones included.
  const gaps = await page.evaluate(async () => {
    const { MESSAGES } = await import('/web/i18n.js');
    const diff = (a, b) => Object.keys(a).filter((k) => !(k in b));
    return [MESSAGES.ui, MESSAGES.labels].flatMap((d) => [...diff(d.zh, d.en), ...diff(d.en, d.zh)]);
  });
  assert.deepEqual(gaps, []);
  const texts = await page.evaluate(async () => {
    const { MESSAGES } = await import('/web/i18n.js');
    const { ERRORS } = await import('/web/errors.js'); // the server's codes: the catalogue
    const keys = ['code.inspection.not_open', 'code.inspection.not_found', 'code.inspection.comment_required',
      'code.inspection.invalid_decision', 'code.decision_id_reused', 'code.credit_code_invalid', 'flag.credit_code_invalid'];
    const known = (k) => ERRORS[k.replace(/^code\./, '')] || {};
    return keys.map((k) => [MESSAGES.ui.zh[k] ?? MESSAGES.labels.zh[k] ?? known(k).zh,
      MESSAGES.ui.en[k] ?? MESSAGES.labels.en[k] ?? known(k).en]);
  });
  for (const [zh, en] of texts) {
    assert.match(zh, /[\u4e00-\u9fff]/);
    assert.match(en, /^[A-Z][ -~]+$/);
  }
  // A result sent again by the inspector is back on the queue and reads in English.
  const [, r] = results;
  const e = await api.sync(insp.token, inspPhone, [{
    changeId: randomUUID(), entityId: r.id, baseVersion: '3', clientTimeMs: String(Date.now()),
    observation: { notes: 'Sample taken; near photo added' } }]);
  assert.equal(e.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(e.results));
  await page.click('#lang');
  try {
    await openResult(r, 4);
    assert.equal(await fact('inspection_result'), 'Issues found');
    assert.equal(await page.textContent('#inspection-return'), 'Return to the inspector');
    await page.click('#inspection-return');
    await expectNotice('error', 'Please give a comment when returning: tell the inspector what to correct.');
  } finally {
    await page.click('#lang');
  }
});

ui('a credit code failing its check character is flagged, and approving the outfall says why it is refused', async () => {
  // 91410882MA44XQ7J6 + its check character is valid; any other last character is not.
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let sum = 0;
  const first17 = '91410882MA44XQ7J6';
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(first17[i]) * (3 ** i % 31);
  const right = alphabet[(31 - (sum % 31)) % 31];
  const bad = first17 + alphabet[(alphabet.indexOf(right) + 1) % 31];
  const c = create({ riverCode: 'qinhe', divisionCode: DIV, lat: 35.141, lon: 112.971, accuracyM: 5, name: '信用代码有误排口',
    responsibleParty: { name: '沁阳某化工有限公司', creditCode: bad } });
  const r = await api.sync(surveyor.token, phone, [c]);
  assert.equal(r.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(r.results));
  await signedIn();
  await page.click('#queue-refresh');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  await page.locator(`#queue-list li[data-kind="REVIEW_ITEM_KIND_PENDING"][data-outfall-id="${c.entityId}"] button`).click();
  await page.waitForSelector(`.detail[data-outfall-id="${c.entityId}"]`);
  assert.equal(await page.textContent('.sec-flags li[data-flag="credit_code_invalid"]'), '统一社会信用代码校验不通过');
  assert.equal(await page.textContent('.fields tr[data-field="responsible_party.credit_code"] td'), bad);
  await page.click('#decide-approve');
  await expectNotice('error', /统一社会信用代码校验位不正确/);
  assert.equal((await api.outfall(sup.token, c.entityId)).reviewState, 'REVIEW_STATE_PENDING');
  await page.click('#lang');
  try {
    await page.waitForSelector('.sec-flags li[data-flag="credit_code_invalid"]');
    assert.equal(await page.textContent('.sec-flags li[data-flag="credit_code_invalid"]'), 'Credit code fails its check');
    await page.click('#decide-approve');
    await expectNotice('error', /credit code fails its check character/);
  } finally {
    await page.click('#lang');
  }
});
