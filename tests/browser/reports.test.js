// The console's public reports view (web/reports.js) in headless Debian Chromium against the real
// server: reports filed through POST /public/reports without an account (one with a photo uploaded
// with the report's token) show to the supervisor of their division (and only there), in full, as
// text, with the photo; one is answered from the console, once,
// even when the button is pressed twice; its public status follows; an empty answer is refused
// with our own words; both languages; no script error under the console's strict CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openView } from './lib/browser.js';
import { browserWorld } from './lib/world.js';
import { png, blake2b256 } from './lib/png.js';

const DIV = '410882';
const OTHER = '410883';

let srv, api, sup, browser, page;
const numbers = {};

async function file(division, description, extra = {}) {
  const r = await api.ok('POST', '/public/reports', { body: {
    kind: 'REPORT_KIND_ILLEGAL_DISCHARGE', lat: 35.09, lon: 112.93, divisionCode: division, description, ...extra } }, 201);
  assert.match(r.number, /^[A-Z0-9]{16}$/);
  return r.number;
}

browserWorld({
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'qian.sup', 'supervisor-pass-2', 'ROLE_SUPERVISOR', [DIV]);
    // The first report comes with a photo, uploaded with the report's own token (no account).
    const bytes = png(64, 48, [40, 40, 40]);
    const hash = blake2b256(bytes);
    const r = await api.ok('POST', '/public/reports', { body: { kind: 'REPORT_KIND_ILLEGAL_DISCHARGE', lat: 35.09,
      lon: 112.93, divisionCode: DIV, description: '夜里有黑水排进沁河 <b>不是标记</b>', contact: '139 0000 0000',
      photos: [hash] } }, 201);
    await api.putPhoto(r.uploadToken, bytes, hash);
    numbers.first = r.number;
    numbers.photo = hash;
    numbers.second = await file(DIV, '沟渠里有油污', { kind: 'REPORT_KIND_BORROWED_USE' });
    numbers.elsewhere = await file(OTHER, '别的县的举报');
  },
});

const openReports = () => openView(page, srv.url, sup, 'reports');

const card = (n) => `#reports-list section.report[data-number="${n}"]`;

test('a supervisor sees the reports of their division and answers one once', { timeout: 60000 }, async () => {
  await openReports();
  assert.equal(await page.locator('#review-view').isHidden(), true);
  // Only the division's two open reports; the other county's report is not there.
  const shown = await page.locator('#reports-list section.report').evaluateAll((s) => s.map((e) => e.dataset.number));
  assert.deepEqual(shown.sort(), [numbers.first, numbers.second].sort());
  assert.equal(await page.locator(card(numbers.elsewhere)).count(), 0);
  // In full, and as text: the markup in the description is characters, not an element.
  const first = page.locator(card(numbers.first));
  assert.match(await first.textContent(), /夜里有黑水排进沁河 <b>不是标记<\/b>/);
  assert.equal(await first.locator('b').count(), 0);
  assert.match(await first.textContent(), /139 0000 0000/);
  // The reporter's photo shows as a thumbnail loaded through the API; the other has none.
  await first.locator(`button.thumb[data-hash="${numbers.photo}"] img[src^="blob:"]`).waitFor();
  assert.equal(await page.locator(`${card(numbers.second)} button.thumb`).count(), 0);
  assert.match(await page.locator(card(numbers.second)).textContent(), /借道排污/);

  // An empty answer is refused by the console in its own words; nothing is sent.
  await first.locator('button.report-open').click();
  await first.locator('button.report-send').click();
  assert.equal(await first.locator('[role="alert"]').textContent(), '请填写答复。');
  assert.equal((await api.ok('GET', `/public/reports/${numbers.first}`)).status, 'REPORT_STATUS_RECEIVED');

  // Answered, with the button pressed twice: one answer, no error, and the list moves on.
  await first.locator('textarea.report-answer-text').fill('已派员核查，责令停止排放。');
  await first.locator('button.report-send').dblclick();
  await page.waitForSelector(`${card(numbers.first)}`, { state: 'detached' });
  await page.waitForSelector('#reports-view[data-loaded="true"]');
  assert.match(await page.locator('#notice').textContent(), new RegExp(numbers.first));
  assert.equal(await page.locator('#notice').getAttribute('data-kind'), 'ok');
  const pub = await api.ok('GET', `/public/reports/${numbers.first}`);
  assert.equal(pub.status, 'REPORT_STATUS_ANSWERED');
  assert.equal(pub.answer, '已派员核查，责令停止排放。');

  // The answered list shows it with its answer; the open list keeps the other one.
  await page.selectOption('#reports-status', 'REPORT_STATUS_ANSWERED');
  await page.waitForSelector('#reports-view[data-loaded="true"]');
  assert.match(await page.locator(card(numbers.first)).textContent(), /已派员核查/);
  assert.equal(await page.locator(`${card(numbers.first)} button.report-open`).count(), 0);

  // English, then back to the review.
  await page.click('#lang');
  assert.equal(await page.locator('#reports-view h2').textContent(), 'Public reports');
  assert.match(await page.locator(card(numbers.first)).textContent(), /Illegal discharge/);
  const raw = (await page.evaluate(() => document.body.innerText)).match(/\b(?:reports|nav|code)\.[a-z][\w.]*/g);
  assert.equal(raw, null, 'untranslated message keys on the page');
  await page.click('#lang');
  await page.click('#nav-review');
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal(await page.locator('#reports-view').isHidden(), true);

  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
