// The console's applications view (web/applications.js, 设置审核) in headless Debian Chromium
// against the real server: a supervisor records a new filing through the form and sees the
// authority the server named, lists, opens and filters applications, and moves one through
// review to approval and another to refusal (a refusal needs a reason); the server holds what the
// console showed, in Chinese and in English, with no script error under the console's CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openView } from './lib/browser.js';
import { creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/server.js';

const DIV = '410882';

let srv, api, sup, browser, page, seeded;

browserWorld({
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'qian.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    // One filing recorded before the console opens: a nationally approved project, for the basin bureau.
    seeded = randomUUID();
    await api.ok('POST', '/v1/applications', { token: sup.token, body: {
      id: seeded, kind: 'APPLICATION_KIND_ENLARGE', projectName: '沁阳电厂扩建', eiaLevel: 'EIA_LEVEL_NATIONAL',
      applicant: { name: '沁阳电厂', creditCode: creditCode('91410882MA44XQ7J6'), phone: '0391-5550001' },
      lat: 35.09, lon: 112.95, divisionCode: DIV, riverCode: 'qinhe', outfallType: 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE' } });
  },
});

const openApplications = () => openView(page, srv.url, sup, 'applications');

const fact = (key) => page.locator(`#application-detail tr[data-field="${key}"] td`).textContent();
const row = (id) => page.locator(`#applications-list tr.application-row[data-id="${id}"]`);

test('file, list, open and decide applications in the console', { timeout: 90000 }, async () => {
  await openApplications();
  assert.equal(await page.locator('#review-view').isHidden(), true);
  assert.equal(await page.locator('#applications-view h2').textContent(), '排污口设置审核');
  // The seeded filing is listed with the authority the server named; its detail says why.
  assert.equal(await row(seeded).count(), 1);
  assert.match(await row(seeded).locator('.application-authority').textContent(), /流域生态环境监督管理局/);
  await row(seeded).click();
  assert.match(await fact('authority'), /黄河流域生态环境监督管理局/);
  assert.match(await fact('basis'), /三\.一\.2/);
  assert.equal(await fact('status'), '已受理');
  assert.equal(await fact('phone'), '0391-5550001');

  // A new filing through the form: a county-approved industrial outfall on the 沁河.
  await page.click('#applications-new');
  await page.fill('#application-projectName', '年产五千吨纸业项目');
  await page.selectOption('#application-kind', 'APPLICATION_KIND_SET_UP');
  await page.fill('#application-applicantName', '沁阳某纸业有限公司');
  await page.fill('#application-creditCode', creditCode('91410882MA44R7LT1'));
  await page.fill('#application-phone', '0391-5550002');
  await page.selectOption('#application-eiaLevel', 'EIA_LEVEL_COUNTY');
  await page.selectOption('#application-divisionCode', DIV);
  await page.selectOption('#application-riverCode', 'qinhe');
  await page.fill('#application-lat', '35.0891');
  await page.fill('#application-lon', '112.9501');
  await page.check('#application-affectsFloodControl');
  await page.click('#application-submit');
  await page.waitForSelector('#application-detail h3[data-id]');
  const id = await page.locator('#application-detail h3').getAttribute('data-id');
  assert.match(await page.locator('#notice').textContent(), /已登记，审批部门：沁阳市生态环境部门/);
  assert.equal(await fact('authority'), '沁阳市生态环境部门');
  assert.match(await fact('consult'), /黄河水利委员会/);
  assert.equal(await row(id).count(), 1);
  const stored = await api.ok('GET', '/v1/applications/' + id);
  assert.equal(stored.projectName, '年产五千吨纸业项目');
  assert.equal(stored.authority, 'APPROVAL_AUTHORITY_COUNTY_BUREAU');
  assert.equal(stored.affectsFloodControl, true);

  // Review, then approval: one step at a time, the buttons follow the status.
  await page.click('#application-detail button[data-to="APPLICATION_STATUS_UNDER_REVIEW"]');
  await page.waitForSelector('#application-detail button[data-to="APPLICATION_STATUS_APPROVED"]');
  assert.equal(await fact('status'), '审查中');
  await page.fill('#application-comment', '同意设置，按批复要求建设在线监测');
  await page.click('#application-detail button[data-to="APPLICATION_STATUS_APPROVED"]');
  await page.waitForFunction(() => !document.querySelector('#application-detail .application-decide'));
  assert.equal(await fact('status'), '已批准');
  assert.equal(await fact('comment'), '同意设置，按批复要求建设在线监测');
  assert.equal(await row(id).locator('.application-status').textContent(), '已批准');
  assert.equal((await api.ok('GET', '/v1/applications/' + id)).status, 'APPLICATION_STATUS_APPROVED');

  // The seeded one is refused: without a reason the console asks for one and sends nothing.
  await row(seeded).click();
  await page.click('#application-detail button[data-to="APPLICATION_STATUS_UNDER_REVIEW"]');
  await page.waitForSelector('#application-detail button[data-to="APPLICATION_STATUS_REFUSED"]');
  await page.click('#application-detail button[data-to="APPLICATION_STATUS_REFUSED"]');
  assert.match(await page.locator('#application-detail [role="alert"]').textContent(), /请填写理由/);
  assert.equal((await api.ok('GET', '/v1/applications/' + seeded)).status, 'APPLICATION_STATUS_UNDER_REVIEW');
  // The basin bureau decides a nationally approved project (issue 18): the city's refusal is
  // refused with the catalogue's words, and nothing changes.
  await page.fill('#application-comment', '所在河段水质未达标');
  await page.click('#application-detail button[data-to="APPLICATION_STATUS_REFUSED"]');
  await page.waitForFunction(() => /市外机关/.test(document.querySelector('#application-detail [role="alert"]')?.textContent || ''));
  assert.equal((await api.ok('GET', '/v1/applications/' + seeded)).status, 'APPLICATION_STATUS_UNDER_REVIEW');

  // The status filter asks the server again.
  await page.selectOption('#applications-status', 'APPLICATION_STATUS_APPROVED');
  await page.waitForSelector('#applications-view[data-loaded="true"]');
  assert.equal(await page.locator('#applications-list tr.application-row').count(), 1);
  assert.equal(await row(id).count(), 1);

  // English, and back to the review.
  await page.click('#lang');
  assert.equal(await page.locator('#applications-view h2').textContent(), 'Outfall set-up applications');
  assert.equal(await row(id).locator('.application-status').textContent(), 'Approved');
  assert.equal(await page.locator('#nav-applications').textContent(), 'Applications');
  assert.equal(await page.locator('#nav-applications').getAttribute('aria-current'), 'page');
  await page.click('#nav-review');
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal(await page.locator('#applications-view').isHidden(), true);
  assert.equal(await page.locator('#nav-applications').getAttribute('aria-current'), null);
  await page.click('#lang');

  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});

test('an application\'s documents are hashed in the browser, uploaded, filed, listed and opened', { timeout: 90000 }, async () => {
  const files = ['qinhe-outfall-a-1.jpg', 'no-exif.jpg'].map((f) => join(ROOT, 'tests/fixtures/photos', f));
  const hashes = files.map((f) => execFileSync('b2sum', ['-l', '256', f], { encoding: 'utf8' }).split(' ')[0]);
  await openApplications();
  await page.click('#applications-new');
  await page.fill('#application-projectName', '材料测试项目');
  await page.fill('#application-applicantName', '沁阳某材料公司');
  await page.fill('#application-creditCode', creditCode('91410882MA44R7LT1'));
  await page.selectOption('#application-eiaLevel', 'EIA_LEVEL_COUNTY');
  await page.selectOption('#application-riverCode', 'qinhe');
  await page.fill('#application-lat', '35.0891');
  await page.fill('#application-lon', '112.9501');
  await page.setInputFiles('#application-documents', files);
  await page.waitForFunction(() => document.querySelectorAll('#application-documents-list li[data-state="done"]').length === 2);
  assert.deepEqual(await page.locator('#application-documents-list li').evaluateAll((l) => l.map((x) => x.dataset.hash)), hashes);
  assert.match(await page.locator('#application-documents-list').textContent(), /已上传/);
  await page.click('#application-submit');
  await page.waitForSelector('#application-detail h3[data-id]');
  const id = await page.locator('#application-detail h3').getAttribute('data-id');
  assert.deepEqual((await api.ok('GET', '/v1/applications/' + id, { token: sup.token })).documentHashes, hashes);
  // Listed on the application, each opened from the server with the token.
  assert.deepEqual(await page.locator('#application-documents-view li').evaluateAll((l) => l.map((x) => x.dataset.hash)), hashes);
  await page.click(`#application-documents-view li[data-hash="${hashes[1]}"] button.open-document`);
  await page.waitForSelector(`#application-documents-view img.document-image[data-hash="${hashes[1]}"]`);
  await page.waitForFunction(() => document.querySelector('#application-documents-view img.document-image').naturalWidth > 0);
  // The seeded application has none, and says so.
  await row(seeded).click();
  assert.equal(await page.locator('#application-documents-none').textContent(), '没有申请材料。');
  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
