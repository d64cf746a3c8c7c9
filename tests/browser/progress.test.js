// The console's progress view (web/progress.js) in headless Debian Chromium against the real
// server: two approved outfalls in 沁阳市 on the 沁河, one traced; the view shows the table per
// city, division and river from GET /v1/progress and an SVG chart, in Chinese and in English,
// with no script error under the console's strict CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openView } from './lib/browser.js';
import { create, creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882';

let srv, api, sup, browser, page;

browserWorld({
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'zhao.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    const li = await api.createUser(admin, 'zhao.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    const phone = await api.enroll(li.token, 'phone-progress');
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5 };
    const batch = [create({ ...base, lat: 35.11, lon: 112.91, name: '进度排口甲' }),
      create({ ...base, lat: 35.13, lon: 112.95, name: '进度排口乙' })];
    const r = await api.sync(li.token, phone, batch);
    assert.deepEqual(r.results.map((x) => x.status), ['CHANGE_STATUS_APPLIED', 'CHANGE_STATUS_APPLIED']);
    const versions = [];
    for (const c of batch) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
      versions.push(d.outfall.version);
    }
    // The first one is traced to its polluter.
    await api.ok('POST', '/v1/programme/transitions', { token: sup.token, body: {
      transitionId: randomUUID(), outfallId: batch[0].entityId, baseVersion: String(versions[0]),
      toStage: 'LIFECYCLE_STAGE_TRACED', partyBasis: 'PARTY_BASIS_TRACED',
      responsibleParty: { name: '沁阳某厂', creditCode: creditCode('91410882MA44XQ7J6') } } });
  },
});

const openProgress = () => openView(page, srv.url, sup, 'progress');

const cells = (sel) => page.locator(sel).evaluateAll((tds) => tds.map((td) => td.textContent));

test('progress shows a table per scope and a chart, in Chinese then English', { timeout: 60000 }, async () => {
  await openProgress();
  assert.equal(await page.locator('#review-view').isHidden(), true);
  // The caller's scope, its division and its river, each with what the server counted.
  const div = '#progress-table tr[data-scope="division"][data-code="410882"]';
  const river = '#progress-table tr[data-scope="river"][data-code="qinhe"]';
  assert.equal(await page.locator('#progress-table tr[data-scope="city"]').count(), 1);
  const d = await cells(`${div} > *`);
  assert.equal(d[0], '沁阳市');
  assert.equal(d[1], '2');
  assert.equal(d[2], '1 (50.0%)');
  assert.equal(d[4], '0 (0.0%)');
  assert.equal((await cells(`${river} > *`))[1], '2');
  // Each target says on track or behind: nothing is remediated, so remediation is behind.
  assert.equal(await page.locator(`${div} [data-status="behind"]`).count() >= 1, true);
  // The chart: an SVG with two bars per row, one group per row of the table.
  const rows = await page.locator('#progress-table tbody tr').count();
  assert.equal(await page.locator('#progress-chart svg g[data-scope]').count(), rows);
  assert.equal(await page.locator('#progress-chart svg g[data-scope] rect.bar').count(), 2 * rows);
  const width = await page.locator('#progress-chart g[data-code="410882"] rect.traced').getAttribute('width');
  assert.ok(Number(width) > 0, 'the traced bar of 沁阳市 has a length');
  assert.match(await page.locator('#progress-view h2').textContent(), /进度/);

  // English, and back to the review.
  await page.click('#lang');
  assert.equal(await page.locator('#progress-view h2').textContent(), 'Survey and remediation progress');
  const header = await cells('#progress-table thead th');
  assert.equal(header[1], 'Found');
  assert.equal((await cells(`${div} > *`))[0], 'Qinyang City');
  assert.match(await page.locator(`${div} [data-status="behind"]`).first().textContent(), /^Behind/);
  assert.equal(await page.locator('#nav-review').textContent(), 'Review');
  assert.equal(await page.locator('#nav-progress').getAttribute('aria-current'), 'page');
  const raw = (await page.evaluate(() => document.body.innerText)).match(/\b(?:progress|nav)\.[a-z][\w.]*/g);
  assert.equal(raw, null, 'untranslated message keys on the page');
  await page.click('#nav-review');
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal(await page.locator('#progress-view').isHidden(), true);
  await page.click('#lang');

  // An earlier date: before the programme's records existed nothing was found.
  await page.click('#nav-progress');
  await page.waitForSelector('#progress-view[data-loaded="true"]');
  await page.fill('#progress-as-of', '2023-06-30');
  await page.click('#progress-refresh');
  await page.waitForSelector('#progress-view[data-loaded="true"]');
  assert.match(await page.locator('#progress-status').textContent(), /2023-06-30/);
  assert.equal((await cells(`${div} > *`))[1], '0');

  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});

test('from 1 to 10 January the console reminds a county to mark last year\'s report filed', { timeout: 60000 }, async () => {
  const year = new Date().getUTCFullYear();
  const box = page.locator('#filing-reminder');
  // On the 11th, nothing filed yet: no reminder any more.
  await page.clock.setFixedTime(new Date(`${year}-01-11T09:00:00+08:00`));
  await page.goto(srv.url + '/');
  await page.waitForSelector('#review-view:not([hidden])');
  await page.waitForSelector('#filing-reminder[data-checked="true"]', { state: 'attached' });
  assert.equal(await box.isHidden(), true);

  // On the 5th: the reminder names the county, and its button marks the report filed.
  await page.clock.setFixedTime(new Date(`${year}-01-05T10:00:00+08:00`));
  await page.goto(srv.url + '/');
  await page.waitForSelector('#review-view:not([hidden])');
  await page.waitForSelector('#filing-reminder[data-checked="true"]', { state: 'attached' });
  assert.equal(await box.isVisible(), true);
  const text = await box.textContent();
  assert.match(text, new RegExp(`${year - 1} 年度`));
  assert.match(text, new RegExp(`${year}-01-10`));
  assert.match(text, /沁阳市/);
  await page.click('#filing-reminder button.mark-filed[data-division="410882"]');
  await page.waitForSelector('#filing-reminder', { state: 'hidden' });
  const l = await api.ok('GET', `/v1/reports/filings?year=${year - 1}`, { token: sup.token });
  assert.deepEqual(l.filed.map((f) => f.divisionCode), ['410882']);
  assert.deepEqual(l.missing || [], []);
  // Filed: no reminder on the next visit either.
  await page.goto(srv.url + '/');
  await page.waitForSelector('#filing-reminder[data-checked="true"]', { state: 'attached' });
  assert.equal(await box.isHidden(), true);
  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
});
