// The console's county self-check plans (市县自查, web/selfchecks.js) through the real server in
// headless Chromium: a county supervisor sees their county missing a plan, writes it (rivers,
// note), sees it listed with its progress, replaces it (still one plan), and a bad plan is refused
// in Chinese leaving the stored one as it was; the province checker reads every county's plans
// and the counties missing one but has nothing to write; it fits a 360 px phone.
import assert from 'node:assert/strict';
import { browserWorld } from './lib/world.js';

const QY = '410882'; // 沁阳市
const MZ = '410883'; // 孟州市
const YEAR = new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
let srv, api, adminToken, qy, mz, checker, page, pageErrors;

const ui = browserWorld({
  keys: /\b(?:app|nav|sc|queue|value|err|code)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, page, pageErrors } = w);
    adminToken = w.adminToken;
    qy = await api.createUser(adminToken, 'zhou.qy', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [QY]);
    mz = await api.createUser(adminToken, 'wu.mz', 'supervisor-pass-2', 'ROLE_SUPERVISOR', [MZ]);
    checker = await api.createUser(adminToken, 'zheng.prov', 'checker-pass-1', 'ROLE_PROVINCE_CHECKER', []);
    await api.ok('POST', '/v1/self-check-plans', { token: mz.token, body: {
      divisionCode: MZ, year: YEAR, plannedCount: 30, riverCodes: ['huanghe'], note: '沿黄排口全覆盖' } });
  },
});

// Opens the self-check view signed in afresh as user.
async function openAs(user) {
  await page.goto(srv.url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(srv.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#login-submit');
  await page.click('#nav-selfchecks');
  await page.waitForSelector('#selfchecks-view[data-loaded="true"]');
}

const row = (d) => page.locator(`#selfchecks-list tr.selfcheck-row[data-division="${d}"]`);
const plans = async (token) => (await api.ok('GET', `/v1/self-check-plans?year=${YEAR}`, { token })).plans;

ui('a county supervisor sees their county missing, writes its plan and sees it with its progress', async () => {
  await openAs(qy);
  assert.equal(await page.textContent('#selfchecks-view h2'), '市县自查计划');
  assert.equal(await page.textContent('#selfchecks-missing'), '尚未填报的区县： 沁阳市');
  assert.equal(await row(MZ).count(), 0, 'another county\'s plan shown to a county supervisor');
  await page.click('#selfchecks-new');
  assert.deepEqual(await page.locator('#selfcheck-division option').evaluateAll((o) => o.map((x) => x.value)), [QY]);
  await page.fill('#selfcheck-planned', '12');
  await page.check('#selfcheck-form input[value="qinhe"]');
  await page.fill('#selfcheck-note', '沁河沿线工业排口');
  await page.click('#selfcheck-submit');
  await page.waitForSelector(`#selfchecks-list tr.selfcheck-row[data-division="${QY}"]`);
  assert.match(await page.textContent('#notice'), /沁阳市 \d{4} 年自查计划已保存/);
  assert.equal(await row(QY).locator('.sc-planned').textContent(), '12');
  assert.equal(await row(QY).locator('.sc-done').textContent(), '0 个（0%）');
  assert.match(await row(QY).textContent(), /沁河.*沁河沿线工业排口.*zhou\.qy/);
  assert.equal(await page.textContent('#selfchecks-missing'), '所辖区县均已填报。');
  const stored = (await plans(qy.token)).find((p) => p.divisionCode === QY);
  assert.equal(stored.plannedCount, 12);
  assert.deepEqual(stored.riverCodes, ['qinhe']);
});

ui('replacing the plan keeps one plan with the new figures', async () => {
  await openAs(qy);
  await row(QY).locator('button.sc-edit').click();
  assert.equal(await page.inputValue('#selfcheck-planned'), '12');
  await page.fill('#selfcheck-planned', '15');
  await page.click('#selfcheck-submit');
  await page.waitForFunction(() => document.querySelector('#selfchecks-list .sc-planned')?.textContent === '15');
  const mine = (await plans(qy.token)).filter((p) => p.divisionCode === QY);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].plannedCount, 15);
});

ui('a bad plan is refused in Chinese and the stored plan stays as it was', async () => {
  await openAs(qy);
  await row(QY).locator('button.sc-edit').click();
  await page.fill('#selfcheck-planned', '20');
  await page.fill('#selfcheck-codes', 'NO-SUCH-OUTFALL-CODE');
  await page.click('#selfcheck-submit');
  await page.waitForSelector('#selfcheck-error');
  assert.match(await page.textContent('#selfcheck-error'), /^自查计划无效/);
  assert.equal(await page.isEnabled('#selfcheck-submit'), true);
  assert.equal((await plans(qy.token)).find((p) => p.divisionCode === QY).plannedCount, 15);
});

ui('the province checker reads every county\'s plans and the missing ones, and has nothing to write', async () => {
  await openAs(checker);
  assert.equal(await row(QY).count(), 1);
  assert.equal(await row(MZ).count(), 1);
  assert.match(await row(MZ).textContent(), /孟州市.*30.*黄河.*沿黄排口全覆盖/);
  const missing = await page.textContent('#selfchecks-missing');
  assert.match(missing, /温县/);
  assert.doesNotMatch(missing, /沁阳市|孟州市/);
  assert.equal(await page.isVisible('#selfchecks-new'), false);
  assert.equal(await page.locator('#selfchecks-list button.sc-edit').count(), 0);
  const r = await api.call('POST', '/v1/self-check-plans', { token: checker.token, body: { divisionCode: QY, year: YEAR, plannedCount: 1 } });
  assert.equal(r.status, 403);
});

ui('the self-check view fits a 360 px phone', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await openAs(qy);
    await page.click('#selfchecks-new');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `the self-check view scrolls sideways (${wide} px)`);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});
