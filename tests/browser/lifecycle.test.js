// The console's lifecycle work through the real server: each step taken from the outfall's page
// (溯源, 一口一策, 整治完成, 销号, 保留) with its form, a refused step showing its Chinese reason and
// leaving the record as it was (read back through the history), the 「整治计划」 view's plans and
// overdue list (an overdue plan dated in 2023), acceptance of remediation evidence (accept, send
// back), the responsible-party list and the retained list with their CSV (labels beside codes),
// on a 1280 px desk and a 360 px phone, in English on request, with no script error or CSP
// violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { firstSeenAtStart } from './lib/server.js';
import { create, edit, observe, creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';
import { png, blake2b256 } from './lib/png.js';

const DIV = '410882'; // 沁阳市
let srv, api, admin, sup, li, phoneLi, browser, page, pageErrors;
const ids = {};
const site = { lat: 35.09, lon: 112.95 };

const inDays = (n) => new Date(Date.now() + 8 * 3600 * 1000 + n * 86400000).toISOString().slice(0, 10);

// Moves outfall id from version base with body (test set-up through the API); its new version.
async function move(id, base, body) {
  const r = await api.ok('POST', '/v1/programme/transitions', { token: sup.token, body: {
    transitionId: randomUUID(), outfallId: id, baseVersion: String(base), ...body } });
  return r.outfall.version;
}

const party = (name, first17) => ({ name, creditCode: creditCode(first17), phone: '0391-5551234' });

const ui = browserWorld({
  keys: /\b(?:app|nav|inv|page|detail|col|value|err|code|f|flag|lc|plans)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, browser, page, pageErrors } = w);
    admin = w.adminToken;
    // The server's own limit for dates (30 days back): the overdue plan's 2023 dates come with a
    // reason and evidence, as the page's backdated trace must.
    sup = await api.createUser(admin, 'wang.lc', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410800']);
    li = await api.createUser(admin, 'li.lc', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    phoneLi = await api.enroll(li.token, 'phone-lc');
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 4 };
    const batch = [
      create({ ...base, ...site, name: '全流程化工排口', type: 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE', entryMethod: 'ENTRY_METHOD_PIPE' }),
      create({ ...base, lat: 35.1, lon: 112.9, name: '无需整治排口', type: 'OUTFALL_TYPE_MUNICIPAL_WWTP' }),
      create({ ...base, lat: 35.11, lon: 112.91, name: '逾期整治排口', type: 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED' }),
      create({ ...base, lat: 35.12, lon: 112.92, name: '待验收排口', type: 'OUTFALL_TYPE_OTHER' }),
      create({ ...base, lat: 35.13, lon: 112.93, name: '补记溯源排口', type: 'OUTFALL_TYPE_OTHER' }),
    ];
    const r = await api.sync(li.token, phoneLi, batch);
    assert.ok(r.results.every((x) => x.status === 'CHANGE_STATUS_APPLIED'), JSON.stringify(r.results));
    [ids.full, ids.none, ids.late, ids.accept, ids.back] = batch.map((c) => c.entityId);
    for (const id of Object.values(ids)) {
      await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: id, baseVersion: '1' } });
    }
    // An overdue plan: traced and planned in 2023, due at the end of 2023 (backdated, with evidence).
    const bytes = png(6, 6, [90, 90, 200]);
    ids.docHash = await api.putPhoto(sup.token, bytes, blake2b256(bytes));
    const back = { reason: '2023 年纸质台账补录', evidenceHash: ids.docHash };
    firstSeenAtStart(srv, ids.late);
    firstSeenAtStart(srv, ids.back);
    let v = await move(ids.late, 2, { toStage: 'LIFECYCLE_STAGE_FOUND', effectiveDate: '2023-03-01', ...back });
    v = await move(ids.late, v, { toStage: 'LIFECYCLE_STAGE_TRACED', effectiveDate: '2023-04-01', ...back,
      responsibleParty: party('沁阳市逾期养殖场', '92410882MA44R7LT1'), partyBasis: 'PARTY_BASIS_TRACED' });
    await move(ids.late, v, { toStage: 'LIFECYCLE_STAGE_PLANNED', effectiveDate: '2023-05-01', ...back,
      plan: { measure: 'REMEDIATION_MEASURE_REGULARIZE', deadline: '2023-12-31' } });
    // One remediated and awaiting acceptance (no remediation needed: no evidence asked).
    v = await move(ids.accept, 2, { toStage: 'LIFECYCLE_STAGE_TRACED', partyBasis: 'PARTY_BASIS_COUNTY_GOVERNMENT' });
    v = await move(ids.accept, v, { toStage: 'LIFECYCLE_STAGE_PLANNED', plan: { measure: 'REMEDIATION_MEASURE_NONE', notes: '达标排放，保留' } });
    await move(ids.accept, v, { toStage: 'LIFECYCLE_STAGE_REMEDIATED' });
    for (const k of ['full', 'none', 'late', 'accept']) ids[k + 'Code'] = (await api.outfall(sup.token, ids[k])).code;
  },
});

// The outfall's history without its audit trail: a refused step changes no record, but the
// refusal itself is audited (OutfallHistory.audit grows by one entry, checked where it matters).
async function recordHistory(token, id) {
  const { audit, ...record } = await api.history(token, id);
  return record;
}

// Opens the console at hash, signed in as the supervisor.
async function at(hash) {
  const url = `${srv.url}/${hash}`;
  // The same address again (a hash alone does not navigate): load it afresh.
  if (page.url() === url) await page.reload();
  else await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  if (await page.locator('#login-view').isVisible()) {
    await page.fill('#username', sup.username);
    await page.fill('#password', sup.password);
    await page.click('#login-submit');
  }
}

// Opens outfall id's page and waits until it is ready.
async function outfallPage(id) {
  await at(`#outfall/${id}`);
  await page.waitForSelector(`#outfall-view[data-state="ready"][data-outfall-id="${id}"] #outfall-actions[data-stage]`);
}

// Opens the step's form on the page shown.
async function openStep(step) {
  await page.click(`#outfall-actions button.lc-step[data-step="${step}"]`);
  await page.waitForSelector(`#lc-form[data-step="${step}"]`);
}

// Submits the open form and waits for the page to reload at stage (a success).
async function submitTo(stage) {
  await page.click('#lc-submit');
  await page.waitForSelector(`#outfall-actions[data-stage="LIFECYCLE_STAGE_${stage}"]`);
  await page.waitForSelector('#outfall-view[data-state="ready"]');
}

const stageNow = async (id) => ((await api.outfall(sup.token, id)).programme || {}).stage;

// Opens the 「整治计划」 view's tab.
async function plansTab(tab) {
  await at('');
  await page.waitForSelector('#nav-plans:visible');
  await page.click('#nav-plans');
  await page.waitForSelector('#plans-view[data-loaded="true"][data-state="ready"]');
  await page.click(`#plans-tab-${tab}`);
  await page.waitForSelector(`#plans-view .plans-body[data-tab="${tab}"]`);
}

ui('a found outfall offers its steps; tracing from the page records the party and how it was established', async () => {
  await outfallPage(ids.full);
  const steps = await page.locator('#outfall-actions button.lc-step').allTextContents();
  assert.deepEqual(steps, ['确认排查日期', '溯源：认定责任主体']);
  await openStep('trace');
  assert.match(await page.textContent('#lc-form'), /谁污染、谁治理/);
  assert.equal(await page.inputValue('#lc-effective_date'), inDays(0), 'today (China Standard Time) by default');
  await page.fill('#lc-party\\.name', '沁阳市全流程化工有限公司');
  await page.fill('#lc-party\\.credit_code', creditCode('91410882MA44R7LT1'));
  await page.fill('#lc-party\\.phone', '0391-5550000');
  await submitTo('TRACED');
  assert.match(await page.textContent('#notice'), /已办理：溯源：认定责任主体。排口现处于「溯源」阶段/);
  assert.match(await page.textContent('#outfall-view section[data-section="party"]'), /沁阳市全流程化工有限公司[\s\S]*溯源认定/);
  assert.match(await page.textContent('#outfall-view section[data-section="stage"]'), new RegExp('溯源日期\\s*' + inDays(0)));
  assert.equal(await stageNow(ids.full), 'LIFECYCLE_STAGE_TRACED');
});

ui('a date far back is refused until the reason and the evidence are given, then recorded and flagged', async () => {
  await outfallPage(ids.back);
  await openStep('date_found');
  assert.match(await page.textContent('#lc-form fieldset.backdate'), /超过规定天数.*理由.*证据/);
  await page.fill('#lc-effective_date', '2023-02-01');
  const before = await recordHistory(sup.token, ids.back);
  await page.click('#lc-submit');
  await page.waitForSelector('#lc-form[data-code="backdate_needs_reason"]');
  assert.match(await page.textContent('#lc-form .lc-status'), /^未办理，数据没有改变：日期早于记录日超过规定天数，须填写理由并提供证据/);
  assert.deepEqual(await recordHistory(sup.token, ids.back), before, 'the history is as it was');
  const audit = (await api.history(sup.token, ids.back)).audit || [];
  assert.equal(audit[audit.length - 1].outcome, 'backdate_needs_reason', 'the refusal is audited');
  // A date in the future is refused too.
  await page.fill('#lc-effective_date', inDays(3));
  await page.click('#lc-submit');
  await page.waitForSelector('#lc-form[data-code="invalid_date"]');
  await page.fill('#lc-effective_date', '2023-02-01');
  await page.fill('#lc-reason', '2023 年纸质台账补录');
  await page.fill('#lc-evidence_hash', ids.docHash);
  await page.click('#lc-submit');
  // The page reloads: wait for the new stage dates (the old page had a found date too).
  await page.waitForFunction(() => /2023-02-01/.test(document.querySelector('#outfall-view[data-state="ready"] section[data-section="stage"]')?.textContent || ''));
  assert.match(await page.textContent('#notice'), /补记 \d+ 天，已标记供市级复核/);
  const o = await api.outfall(sup.token, ids.back);
  assert.equal(o.programme.foundOn, '2023-02-01');
  assert.ok(o.flags.includes('date_backdated'), JSON.stringify(o.flags));
  // A surveyor's edit waiting for review: no step until it is decided.
  const sent = await api.sync(li.token, phoneLi, [edit(ids.back, o.version, { landmark: '桥下东侧' })]);
  assert.equal(sent.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(sent.results));
  await outfallPage(ids.back);
  assert.equal(await page.getAttribute('#outfall-actions p[data-why]', 'data-why'), 'pending');
  assert.equal(await page.locator('#outfall-actions button').count(), 0);
  assert.match(await page.textContent('#outfall-actions'), /等待审核/);
});

ui('a province checker sees the page without lifecycle actions', async () => {
  const checker = await api.createUser(admin, 'zhao.lc', 'checker-pass-1', 'ROLE_PROVINCE_CHECKER', []);
  await outfallPage(ids.late);
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#username', checker.username);
  await page.fill('#password', checker.password);
  await page.click('#login-submit');
  await page.waitForSelector(`#outfall-view[data-state="ready"] #outfall-actions p[data-why="role"]`);
  assert.equal(await page.locator('#outfall-actions button').count(), 0);
  assert.match(await page.textContent('#outfall-actions'), /只有审核人员和管理员可以办理/);
  // The remediated outfall's evidence without the buttons to accept it.
  await page.click('#nav-plans');
  await page.waitForSelector('#plans-view[data-state="ready"]');
  await page.click('#plans-tab-acceptance');
  await page.waitForSelector(`#plans-view .acceptance-card[data-outfall-id="${ids.accept}"]`);
  assert.equal(await page.locator('#plans-view .acceptance-card button.accept').count(), 0);
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
});

ui('a plan set from the page: its rules explained in Chinese, a refusal kept to the form, one transition id per form', async () => {
  await outfallPage(ids.full);
  await openStep('plan');
  const rules = await page.textContent('#lc-form ul.rule');
  for (const w of ['取缔', '规则一', '保护区', '规则二', '城镇雨洪排口', '规则五', '防洪安全措施', '整治期限']) assert.ok(rules.includes(w), w);
  const id = await page.getAttribute('#lc-form', 'data-transition-id');
  await page.selectOption('#lc-measure', 'REMEDIATION_MEASURE_BAN');
  await page.fill('#lc-deadline', inDays(90));
  await page.check('#lc-blocks_outfall');
  // Plugging the outfall needs a safety note (rule 5): refused, nothing changed.
  const before = await recordHistory(sup.token, ids.full);
  const version = Number((await api.outfall(sup.token, ids.full)).version);
  await page.click('#lc-submit');
  await page.waitForSelector('#lc-form[data-code="rule5_safety_note_required"]');
  assert.match(await page.textContent('#lc-form .lc-status'), /^未办理，数据没有改变：.*防洪/);
  assert.equal(await page.getAttribute('#lc-form', 'data-transition-id'), id, 'the same form keeps its id');
  assert.equal(await page.isDisabled('#lc-submit'), false);
  assert.deepEqual(await recordHistory(sup.token, ids.full), before, 'the history is as it was');
  await page.fill('#lc-safety_note', '汛期前完成封堵，保留临时排水通道');
  await submitTo('PLANNED');
  const plan = await page.textContent('#outfall-view section[data-section="plan"]');
  assert.match(plan, /整治措施\s*取缔/);
  assert.match(plan, new RegExp('整治期限\\s*' + inDays(90)));
  const o = await api.outfall(sup.token, ids.full);
  assert.equal(o.programme.plan.safetyNote, '汛期前完成封堵，保留临时排水通道');
  assert.equal(Number(o.version), version + 1, 'one step, one version');
});

ui('remediation without evidence is refused in Chinese and changes nothing; with a remediation photo it goes through', async () => {
  await outfallPage(ids.full);
  await openStep('remediate');
  assert.match(await page.textContent('#lc-form'), /整治完成.*照片/);
  const before = await recordHistory(sup.token, ids.full);
  const version = (await api.outfall(sup.token, ids.full)).version;
  await page.click('#lc-submit');
  await page.waitForSelector('#lc-form[data-code="evidence_required"]');
  const text = await page.textContent('#lc-form .lc-status');
  assert.match(text, /^未办理，数据没有改变：/);
  assert.doesNotMatch(text, /[a-z]{4,}/, 'no English from the server');
  assert.deepEqual(await recordHistory(sup.token, ids.full), before, 'the history is as it was');
  assert.equal((await api.outfall(sup.token, ids.full)).version, version);
  assert.equal(await stageNow(ids.full), 'LIFECYCLE_STAGE_PLANNED');

  // The surveyor sends a remediation_done photo; the page then names it as evidence.
  const bytes = png(8, 8, [20, 160, 60]);
  const hash = await api.putPhoto(li.token, bytes, blake2b256(bytes));
  const ob = observe(ids.full, site, [{ hash, kind: 'PHOTO_KIND_REMEDIATION_DONE' }], { notes: '已封堵' });
  const sent = await api.sync(li.token, phoneLi, [ob]);
  assert.equal(sent.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(sent.results));
  await outfallPage(ids.full);
  await openStep('remediate');
  assert.equal(await page.locator(`#lc-form input[name="evidence"][value="${ob.entityId}"]:checked`).count(), 1);
  await submitTo('REMEDIATED');
  assert.deepEqual((await api.outfall(sup.token, ids.full)).programme.evidenceObservationIds, [ob.entityId]);
  // A BAN plan closes: no retained step is offered.
  assert.deepEqual(await page.locator('#outfall-actions button.lc-step').evaluateAll((bs) => bs.map((b) => b.dataset.step)), ['send_back', 'close']);
});

ui('a plan needing no remediation goes on to the retained list from the page; a final stage offers nothing', async () => {
  await outfallPage(ids.none);
  await openStep('trace');
  await page.selectOption('#lc-party_basis', 'PARTY_BASIS_COUNTY_GOVERNMENT');
  await submitTo('TRACED');
  await openStep('plan');
  await page.selectOption('#lc-measure', 'REMEDIATION_MEASURE_NONE');
  await page.fill('#lc-notes', '出水稳定达标，列入保留清单');
  await submitTo('PLANNED');
  await openStep('remediate');
  await submitTo('REMEDIATED');
  assert.deepEqual(await page.locator('#outfall-actions button.lc-step').evaluateAll((bs) => bs.map((b) => b.dataset.step)), ['send_back', 'retain']);
  // The first answer is lost on the way back: the page retries with the same transition id and
  // the server answers the step it recorded, once.
  const version = Number((await api.outfall(sup.token, ids.none)).version);
  let posts = 0;
  await page.route('**/v1/programme/transitions', async (route) => {
    posts++;
    if (posts === 1) {
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  try {
    await openStep('retain');
    await submitTo('RETAINED');
  } finally {
    await page.unroute('**/v1/programme/transitions');
  }
  assert.equal(posts, 2, 'sent twice');
  assert.equal(Number((await api.outfall(sup.token, ids.none)).version), version + 1, 'recorded once');
  assert.equal(await page.getAttribute('#outfall-actions p[data-why]', 'data-why'), 'final');
  assert.match(await page.textContent('#outfall-actions'), /保留/);
  const hist = await page.textContent('#outfall-view section[data-section="history"]');
  assert.match(hist, /所处阶段保留/);
});

ui('the plans view lists the overdue plan first and every plan with its days, filterable; a row opens the outfall', async () => {
  await plansTab('plans');
  const late = page.locator(`#plans-view .overdue-table tr[data-outfall-id="${ids.late}"]`);
  assert.equal(await late.count(), 1, 'the 2023 plan is overdue');
  assert.match(await late.textContent(), /逾期 \d+ 天/);
  assert.match(await late.textContent(), /2023-12-31/);
  assert.match(await page.textContent('#plans-view .plans-overdue h3'), /逾期未完成整治（1 个）/);
  const rows = await page.locator('#plans-view .plans-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.outfallId));
  assert.equal(rows[0], ids.late, 'overdue first');
  for (const id of [ids.full, ids.none, ids.accept]) assert.ok(rows.includes(id), id);
  assert.match(await page.textContent(`#plans-view .plans-table tr[data-outfall-id="${ids.late}"] td[data-col="measure"]`), /^规范$/);
  await page.check('#plans-overdue');
  assert.deepEqual(await page.locator('#plans-view .plans-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.outfallId)), [ids.late]);
  await page.uncheck('#plans-overdue');
  await page.selectOption('#plans-measure', 'REMEDIATION_MEASURE_NONE');
  assert.deepEqual((await page.locator('#plans-view .plans-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.outfallId))).sort(),
    [ids.none, ids.accept].sort());
  assert.equal(await page.locator('#plans-view .overdue-table').count(), 0, 'the overdue plan is not NONE');
  await page.selectOption('#plans-measure', '');
  await page.selectOption('#plans-division', '410883');
  assert.equal(await page.locator('#plans-view .plans-table').count(), 0);
  await page.selectOption('#plans-division', DIV);
  await page.click(`#plans-view .overdue-table tr[data-outfall-id="${ids.late}"] button.open`);
  await page.waitForSelector(`#outfall-view[data-state="ready"][data-outfall-id="${ids.late}"]`);
  assert.equal(new URL(page.url()).hash, `#outfall/${ids.late}`);
  // Back returns to the plans, at the tab left.
  await page.goBack();
  await page.waitForSelector('#plans-view:not([hidden])[data-state="ready"] .plans-body[data-tab="plans"]');
  await page.click('#plans-tab-retained');
  assert.equal(new URL(page.url()).hash, '#plans?tab=retained');
  await page.reload();
  await page.waitForSelector('#plans-view:not([hidden])[data-state="ready"] .plans-body[data-tab="retained"]');
  const body = await page.textContent('#plans-view');
  assert.doesNotMatch(body, /REMEDIATION_MEASURE_|LIFECYCLE_STAGE_/);
});

ui('remediation evidence: sending back needs a comment (refused in Chinese), then accepted onto the retained list', async () => {
  await plansTab('acceptance');
  const card = page.locator(`#plans-view .acceptance-card[data-outfall-id="${ids.accept}"]`);
  assert.equal(await card.count(), 1);
  assert.equal(await page.locator(`#plans-view .acceptance-card[data-outfall-id="${ids.full}"]`).count(), 1);
  // The closing outfall's card shows its evidence photo.
  await page.waitForSelector(`#plans-view .acceptance-card[data-outfall-id="${ids.full}"] button.thumb img[src^="blob:"]`);
  const before = await recordHistory(sup.token, ids.accept);
  await card.locator('button.send-back').click();
  await page.waitForSelector(`#plans-view .acceptance-card[data-outfall-id="${ids.accept}"] .acc-status[data-code="comment_required"]`);
  assert.match(await card.locator('.acc-status').textContent(), /^未办理，数据没有改变：请填写意见/);
  assert.deepEqual(await recordHistory(sup.token, ids.accept), before);
  await card.locator('textarea').fill('照片不清楚，请补拍');
  await card.locator('button.send-back').click();
  await page.waitForSelector(`#plans-view .acceptance-card[data-outfall-id="${ids.accept}"]`, { state: 'detached' });
  assert.equal(await stageNow(ids.accept), 'LIFECYCLE_STAGE_PLANNED');
  assert.match(await page.textContent('#notice'), new RegExp(`排口 ${ids.acceptCode} 已退回整治`));
  // Remediated again, then accepted: a NONE plan is retained.
  await move(ids.accept, (await api.outfall(sup.token, ids.accept)).version, { toStage: 'LIFECYCLE_STAGE_REMEDIATED' });
  await plansTab('acceptance');
  assert.equal(await card.locator('button.accept').textContent(), '验收通过，列入保留清单');
  await card.locator('button.accept').click();
  await page.waitForSelector(`#plans-view .acceptance-card[data-outfall-id="${ids.accept}"]`, { state: 'detached' });
  assert.equal(await stageNow(ids.accept), 'LIFECYCLE_STAGE_RETAINED');
  // The banned outfall closes (销号).
  const full = page.locator(`#plans-view .acceptance-card[data-outfall-id="${ids.full}"]`);
  assert.equal(await full.locator('button.accept').textContent(), '验收通过，销号');
  await full.locator('button.accept').click();
  await page.waitForSelector('#plans-view .acceptance-card', { state: 'detached' });
  assert.equal(await stageNow(ids.full), 'LIFECYCLE_STAGE_CLOSED');
  await page.waitForSelector('#plans-view[data-state="ready"] .plans-body');
  assert.match(await page.textContent('#plans-view'), /没有待验收的排口/);
});

// Clicks button and resolves with the downloaded file's text.
async function download(button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFile(await file.path(), 'utf8');
}

ui('the responsible-party list and the retained list, each with a CSV of codes and Chinese labels', async () => {
  await plansTab('parties');
  const parties = await page.textContent('#plans-view .parties-table');
  assert.match(parties, /沁阳市全流程化工有限公司/);
  assert.match(parties, /沁阳市逾期养殖场/);
  assert.match(parties, /溯源未果，由县级人民政府负责/);
  let csv = await download('#parties-csv');
  assert.ok(csv.startsWith('\ufeff排口编码,名称,行政区代码,行政区,'), csv.slice(0, 80));
  assert.match(csv, new RegExp(`${ids.fullCode},全流程化工排口,410882,沁阳市,沁阳市全流程化工有限公司,PARTY_BASIS_TRACED,溯源认定,${creditCode('91410882MA44R7LT1')}`));
  assert.match(csv, /PARTY_BASIS_COUNTY_GOVERNMENT,溯源未果，由县级人民政府负责/);

  await page.click('#plans-tab-retained');
  const retained = await page.locator('#plans-view .retained-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.outfallId));
  assert.deepEqual(retained.sort(), [ids.none, ids.accept].sort());
  assert.match(await page.textContent('#plans-view .retained-table'), /出水稳定达标，列入保留清单/);
  csv = await download('#retained-csv');
  assert.match(csv, /REMEDIATION_MEASURE_NONE,无需整治/);
  assert.match(csv, /OUTFALL_TYPE_MUNICIPAL_WWTP,城镇污水处理厂排污口/);
  assert.equal(csv.trim().split('\r\n').length, 3, 'a header and two outfalls');
});

ui('in English the steps, rules and lists speak English', async () => {
  await outfallPage(ids.late);
  await page.click('#lang');
  try {
    await page.waitForSelector('#outfall-actions button.lc-step[data-step="revise_plan"]');
    assert.deepEqual(await page.locator('#outfall-actions button.lc-step').allTextContents(),
      ['Revise the plan', 'Remediation done: submit for acceptance']);
    await openStep('revise_plan');
    assert.match(await page.textContent('#lc-form'), /Rule 1: inside a protection zone/);
    assert.doesNotMatch(await page.textContent('#outfall-actions'), /[\u4e00-\u9fff]/, 'no Chinese in the actions');
    await plansTab('plans');
    assert.match(await page.textContent('#plans-view h2'), /Remediation plans/);
    assert.match(await page.textContent('#plans-view .overdue-table'), /\d+ days overdue/);
  } finally {
    await page.click('#lang');
  }
});

ui('on a 360 px phone the forms and the lists fit the width', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await outfallPage(ids.late);
    await openStep('revise_plan');
    let wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `the page with its form scrolls sideways (${wide} px)`);
    for (const tab of ['plans', 'parties', 'retained']) {
      await plansTab(tab);
      wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 360, `${tab} scrolls sideways (${wide} px)`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});

ui('no Content-Security-Policy violation on any of these screens', async () => {
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
