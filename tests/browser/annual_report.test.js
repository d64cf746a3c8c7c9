// The annual county report in the console (web/annual.js) against the real server, in headless
// Chromium: last year's report of 沁阳市 fetched with the token and shown in the page (not a link
// that answers 401), filed by the county's supervisor, the current year's filing refused in the
// catalogue's Chinese, the filings list naming the county filed, and after a later change (an
// outfall traced in that year after the filing) the comparison with the filing showing the
// difference by its Chinese name. Then English, 360 px, and no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { firstSeenAtStart } from './lib/server.js';
import { openView } from './lib/browser.js';
import { create, creditCode } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882';
const thisYear = new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
const YEAR = thisYear - 1; // over: fileable

let srv, api, sup, browser, page;
const ids = [];
const versions = [];

// Moves outfall i to stage in YEAR on day (MM-DD); TRACED names its polluter.
async function move(i, stage, day) {
  const traced = stage === 'LIFECYCLE_STAGE_TRACED' ? { partyBasis: 'PARTY_BASIS_TRACED',
    responsibleParty: { name: '沁阳某厂' + i, creditCode: creditCode('91410882MA44XQ7J6') } } : {};
  const r = await api.ok('POST', '/v1/programme/transitions', { token: sup.token, body: {
    transitionId: randomUUID(), outfallId: ids[i], baseVersion: String(versions[i]),
    toStage: stage, effectiveDate: `${YEAR}-${day}`, ...traced } });
  versions[i] = Number(versions[i]) + 1;
  return r;
}
const trace = (i, day) => move(i, 'LIFECYCLE_STAGE_TRACED', day);

browserWorld({
  serverArgs: ['--backdate-days', '36500'],
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'nianbao.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    const li = await api.createUser(admin, 'nianbao.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    const phone = await api.enroll(li.token, 'phone-annual');
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5 };
    const batch = [create({ ...base, lat: 35.11, lon: 112.91, name: '年报排口甲' }),
      create({ ...base, lat: 35.13, lon: 112.95, name: '年报排口乙' })];
    await api.sync(li.token, phone, batch);
    for (const c of batch) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
      ids.push(c.entityId);
      versions.push(d.outfall.version);
      firstSeenAtStart(srv, c.entityId);
    }
    await move(0, 'LIFECYCLE_STAGE_FOUND', '02-01');
    await move(1, 'LIFECYCLE_STAGE_FOUND', '02-01');
    await trace(0, '03-01');
  },
});

const statusText = () => page.locator('#annual-status').textContent();
const showYear = async (y, button = '#annual-show') => {
  await page.fill('#annual-year', String(y));
  await page.click(button);
  await page.waitForSelector('#annual-view[data-loaded="true"], #annual-view[data-loaded="error"]');
};

test('the annual report is shown, filed, refused for a year not over, and compared after a change', { timeout: 90000 }, async () => {
  await openView(page, srv.url, sup, 'annual');
  await showYear(YEAR);
  // Shown in the page, fetched with the token: the report's own heading and tables.
  assert.match(await page.locator('#annual-report h1').textContent(), new RegExp(`沁阳市 ${YEAR} 年度`));
  assert.ok(await page.locator('#annual-report table').count() >= 3);
  assert.match(await statusText(), /尚未报送/);
  assert.equal(await page.locator('#annual-filings tr[data-division="410882"][data-state="missing"]').count(), 1);
  assert.equal(await page.locator('#annual-compare').isDisabled(), true, 'nothing filed to compare with');
  assert.equal(await page.locator('#annual-print').isVisible(), true);

  // Filed: the list names it, the page says it shows the filed report.
  await page.click('#annual-file');
  await page.waitForSelector('#annual-filings tr[data-division="410882"][data-state="filed"]');
  assert.match(await statusText(), /已报送（第 1 次/);
  const l = await api.ok('GET', `/v1/reports/filings?year=${YEAR}`, { token: sup.token });
  assert.deepEqual(l.filed.map((f) => f.divisionCode), [DIV]);

  // The report shown, as CSV: saved as a file that reads back as the report's figures.
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('#annual-csv')]);
  assert.equal(d.suggestedFilename(), `annual-${DIV}-${YEAR}.csv`);
  const csv = await readFile(await d.path(), 'utf8');
  assert.match(csv, /^\uFEFFsection,code,name,river,measure,date,party,credit_code,value\r\n/);
  assert.match(csv, /\r\nsummary,,traced_in_year,,,,,,1\r\n/);

  // This year has not ended: the server refuses, in the catalogue's Chinese.
  await page.fill('#annual-year', String(thisYear));
  await page.click('#annual-file');
  await page.waitForSelector('#annual-status.error');
  assert.match(await statusText(), /该年度尚未结束，不能报送年度报告。/);
  assert.doesNotMatch(await statusText(), /[A-Za-z]{4,}/, 'no English in the Chinese refusal');

  // A later change: the second outfall traced in that year after the filing.
  await trace(1, '04-01');
  await showYear(YEAR);
  assert.match(await statusText(), /已报送（第 1 次/);
  assert.equal(await page.locator('#annual-report h2', { hasText: '六、' }).count(), 0, 'the filed report as filed');
  await showYear(YEAR, '#annual-compare');
  assert.equal(await page.locator('#annual-view').getAttribute('data-mode'), 'compare');
  assert.match(await page.locator('#annual-report h2', { hasText: '六、' }).textContent(), /报送后的变化（第 1 次报送/);
  const row = page.locator('#annual-report table.annual-diff tr[data-what="traced_in_year"] td');
  assert.deepEqual(await row.allTextContents(), ['年内完成溯源', '1', '2']);

  // English, and a phone's width: the controls stay usable, no script error, no CSP violation.
  await page.click('#lang');
  assert.equal(await page.locator('#annual-view h2').first().textContent(), 'Annual report on outfall supervision');
  assert.equal(await page.locator('#nav-annual').textContent(), 'Annual report');
  await page.setViewportSize({ width: 360, height: 800 });
  assert.ok(await page.evaluate(() => document.querySelector('#annual-compare').getBoundingClientRect().right <= 360));
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#lang');
  const raw = (await page.evaluate(() => document.body.innerText)).match(/\b(?:annual|nav)\.[a-z][\w.]*/g);
  assert.equal(raw, null, 'untranslated message keys on the page');
  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
