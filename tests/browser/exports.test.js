// The exports view (web/exports.js) against the real server in headless Chromium: the outfalls
// CSV and GeoJSON downloaded with the token, saved as files and parsed, each enum code with its
// Chinese label beside it (issue 19.6); the photo archive saved; a found-date range ending before
// it starts refused in the catalogue's Chinese; English and 360 px; no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { openView } from './lib/browser.js';
import { create } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882';

let srv, api, sup, browser, page;

browserWorld({
  viewport: null,
  seed: async (w) => {
    ({ srv, api, browser, page } = w);
    const admin = w.adminToken;
    sup = await api.createUser(admin, 'daochu.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    const li = await api.createUser(admin, 'daochu.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    const phone = await api.enroll(li.token, 'phone-exports');
    const c = create({ riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5, lat: 35.11, lon: 112.91, name: '导出排口甲',
      type: 'OUTFALL_TYPE_MUNICIPAL_WWTP', entryMethod: 'ENTRY_METHOD_PIPE' });
    await api.sync(li.token, phone, [c]);
    await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
      decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: c.entityId, baseVersion: '1' } });
  },
});

// Clicks the download button sel; resolves with the saved file's name and text.
async function download(sel) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel)]);
  await page.waitForSelector('#export-status[data-state="done"]');
  return { name: d.suggestedFilename(), text: await readFile(await d.path(), 'utf8') };
}

test('exports download as files with Chinese labels beside the codes, and a bad range is refused in Chinese', { timeout: 90000 }, async () => {
  await openView(page, srv.url, sup, 'exports');
  await page.selectOption('#export-division', DIV);

  const csv = await download('#export-csv');
  assert.equal(csv.name, 'outfalls.csv');
  const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n').map((l) => l.split(','));
  assert.equal(lines.length, 2, 'a header and one outfall');
  const [head, row] = lines;
  const at = (name) => row[head.indexOf(name)];
  assert.equal(head.indexOf('type_label'), head.indexOf('type') + 1);
  assert.equal(at('type'), 'OUTFALL_TYPE_MUNICIPAL_WWTP');
  assert.equal(at('type_label'), '城镇污水处理厂排污口');
  assert.equal(at('entry_method_label'), '管道');
  assert.equal(at('programme.stage_label'), '排查');
  assert.equal(at('division_code_label'), '沁阳市');
  assert.equal(at('name'), '导出排口甲');
  assert.match(await page.locator('#export-status').textContent(), /已下载（\d+(\.\d)? (B|KB)）/);

  const geo = await download('#export-geojson');
  assert.equal(geo.name, 'outfalls.geojson');
  const p = JSON.parse(geo.text).features[0].properties;
  assert.equal(p.type_label, '城镇污水处理厂排污口');
  assert.equal(p.entry_method, 'ENTRY_METHOD_PIPE');
  assert.equal(p.entry_method_label, '管道');

  const tar = await download('#export-tar');
  assert.equal(tar.name, 'photos.tar');
  assert.match(tar.text.slice(0, 100), /^MANIFEST\.tsv/);

  // A found-date range that ends before it starts: the server's refusal, in Chinese.
  await page.fill('#export-from', '2025-03-02');
  await page.fill('#export-to', '2025-03-01');
  await page.click('#export-csv');
  await page.waitForSelector('#export-status[data-state="error"]');
  assert.equal(await page.locator('#export-status').textContent(), '导出失败：结束日期早于开始日期，请检查日期范围。');
  assert.equal(await page.locator('#export-csv').isDisabled(), false);

  await page.click('#lang');
  assert.equal(await page.locator('#exports-view h2').textContent(), 'Exports');
  assert.equal(await page.locator('#export-csv').textContent(), 'Outfalls (CSV)');
  await page.setViewportSize({ width: 360, height: 800 });
  const wide = await page.evaluate(() => [...document.querySelectorAll('#exports-view input, #exports-view select, #exports-view button')]
    .filter((e) => e.getBoundingClientRect().right > 360).map((e) => e.id));
  assert.deepEqual(wide, [], 'every control of the view within 360 px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#lang');
  const raw = (await page.evaluate(() => document.body.innerText)).match(/\b(?:export|nav)\.[a-z][\w.]*/g);
  assert.equal(raw, null, 'untranslated message keys on the page');
  assert.deepEqual(browser.pageErrors, [], 'script errors in the page');
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
