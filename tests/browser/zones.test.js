// Protection zones (保护区) in the console (web/zones.js) against the real server, in headless
// Debian Chromium: an admin imports a GeoJSON file through the file picker and sees what was
// stored; the list shows each zone's kind and name in Chinese, the division of the outfalls it
// holds, the outfalls inside and near it, and the map draws the polygons and those outfalls
// labelled (no tiles configured). A file with a bad geometry, and one that is not JSON, are
// refused in Chinese with nothing stored (not even the file's good features). A supervisor sees
// the zones but no import. English on the switch; 360 px; no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADMIN_PASSWORD } from './lib/server.js';
import { openView } from './lib/browser.js';
import { create } from './lib/api.js';
import { browserWorld } from './lib/world.js';

const DIV = '410882'; // 沁阳市
let srv, api, admin, sup, browser, page, pageErrors;
const codes = {};

// A square ring around (lat, lon), half a side of d degrees, [lon, lat] and closed.
const square = (lat, lon, d) => [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]];

const GOOD = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', id: 'qy-water-1', properties: { name: '沁阳市第一水厂水源保护区', kind: 'drinking_water' },
      geometry: { type: 'Polygon', coordinates: [square(35.1, 112.92, 0.01)] } },
    { type: 'Feature', id: 'qy-reserve-1', properties: { name: '太行山自然保护区', kind: 'nature_reserve' },
      geometry: { type: 'MultiPolygon', coordinates: [[square(35.3, 112.8, 0.02)], [square(35.35, 112.85, 0.01)]] } },
  ],
};

const ui = browserWorld({
  keys: /\b(?:app|nav|zones|value|err|code)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, browser, page, pageErrors } = w);
    admin = { username: 'admin', password: ADMIN_PASSWORD, token: w.adminToken };
    sup = await api.createUser(admin.token, 'feng.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    const surveyor = await api.createUser(admin.token, 'feng.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    const phone = await api.enroll(surveyor.token, 'phone-zones');
    // One outfall inside the water source zone, one about 600 m east of its edge, one far away.
    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 5, type: 'OUTFALL_TYPE_OTHER' };
    const batch = [create({ ...base, lat: 35.1, lon: 112.921, name: '水源区内排口' }),
      create({ ...base, lat: 35.1, lon: 112.9365, name: '水源区旁排口' }),
      create({ ...base, lat: 35.0, lon: 113.2, name: '远处排口' })];
    const r = await api.sync(surveyor.token, phone, batch);
    assert.ok(r.results.every((x) => x.status === 'CHANGE_STATUS_APPLIED'), JSON.stringify(r.results));
    for (const [i, key] of ['inside', 'near', 'far'].entries()) {
      const d = await api.ok('POST', '/v1/review/decisions', { token: sup.token, body: {
        decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: batch[i].entityId, baseVersion: '1' } });
      codes[key] = d.outfall.code;
    }
  },
});

const storedZones = async () => ((await api.ok('GET', '/v1/zones?geometry=1', { token: admin.token })).zones || []);

// Opens the zones view signed in as user (signing the last user out first).
async function zonesAs(user) {
  await page.goto(srv.url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await openView(page, srv.url, user, 'zones');
}

// Picks a file of text named name in the import form and submits it; waits for the answer.
async function importFile(name, text) {
  await page.setInputFiles('#zones-file', { name, mimeType: 'application/geo+json', buffer: Buffer.from(text) });
  await page.click('#zones-submit');
  await page.waitForSelector('#zones-error, #zones-stored');
}

ui('an admin imports a GeoJSON file: what was stored, the zones listed in Chinese with the outfalls in and near them', async () => {
  await zonesAs(admin);
  assert.match(await page.textContent('#zones-status'), /尚未导入保护区/);
  // The picker in Chinese (the browser's own control, which speaks the browser's language, hidden).
  assert.match(await page.textContent('#zones-import'), /选择 GeoJSON 文件…\s*未选择文件/);
  await importFile('zones.geojson', JSON.stringify(GOOD));
  assert.equal(await page.textContent('#zones-file-name'), '未选择文件', 'the picker is empty again once imported');
  const stored = await page.textContent('#zones-stored');
  assert.match(stored, /^已导入 2 个保护区：/);
  for (const name of ['沁阳市第一水厂水源保护区', '太行山自然保护区']) assert.ok(stored.includes(name), stored);
  await page.waitForSelector('#zones-view[data-state="ready"][data-zones="2"]');
  assert.equal((await storedZones()).length, 2);

  const water = page.locator('#zones-view tr[data-zone-id="qy-water-1"]');
  const cells = await water.locator('td').allTextContents();
  assert.equal(cells[0], '饮用水水源保护区');
  assert.equal(cells[1], '沁阳市第一水厂水源保护区');
  assert.equal(cells[2], '沁阳市');
  assert.equal(cells[4], codes.inside);
  assert.equal(cells[5], codes.near);
  const reserve = await page.locator('#zones-view tr[data-zone-id="qy-reserve-1"] td').allTextContents();
  assert.equal(reserve[0], '自然保护地');
  assert.match(reserve[3], /2 个多边形/);
  assert.doesNotMatch(await page.textContent('#zones-view table'), /ZONE_KIND_|undefined/);
});

ui('the map draws the polygons and the outfalls in and near them, labelled, without tiles', async () => {
  await zonesAs(sup);
  // Three polygons (one Polygon, a MultiPolygon of two drawn as one path) and two points.
  await page.waitForFunction(() => document.querySelectorAll('#zones-map path.zone-shape').length === 2);
  await page.waitForFunction(() => document.querySelectorAll('#zones-map path.zone-point').length === 2);
  const labels = await page.locator('#zones-map .leaflet-tooltip').allTextContents();
  for (const l of ['沁阳市第一水厂水源保护区', '太行山自然保护区', codes.inside, codes.near]) assert.ok(labels.includes(l), `${l} in ${labels.join(' ')}`);
  assert.ok(!labels.includes(codes.far), 'an outfall far from every zone is not drawn');
  assert.equal(await page.locator('#zones-map img.leaflet-tile').count(), 0);
  assert.equal(await page.locator('#zones-import').count(), 0, 'a supervisor has no import');
});

ui('a file with a bad geometry is refused in Chinese, nothing of it stored', async () => {
  await zonesAs(admin);
  const before = await storedZones();
  const bad = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', id: 'qy-water-2', properties: { name: '新水源保护区', kind: 'drinking_water' },
        geometry: { type: 'Polygon', coordinates: [square(35.2, 112.95, 0.01)] } },
      { type: 'Feature', id: 'qy-water-1', properties: { name: '改名的水源保护区', kind: 'drinking_water' },
        geometry: { type: 'Polygon', coordinates: [[[112.9, 35.1], [112.91, 35.1]]] } },
    ],
  };
  await importFile('bad.geojson', JSON.stringify(bad));
  const text = await page.textContent('#zones-error');
  assert.match(text, /导入被拒绝，未保存任何保护区：文件不是有效的 GeoJSON 要素集合/);
  assert.doesNotMatch(text, /zone qy|ring|position/i);
  assert.deepEqual(await storedZones(), before, 'nothing half-imported: the good feature is not stored either');

  await importFile('notes.txt', '这不是 JSON');
  assert.match(await page.textContent('#zones-error'), /导入被拒绝，未保存任何保护区：文件不是有效的 GeoJSON 要素集合/);
  await importFile('nameless.geojson', JSON.stringify({ type: 'FeatureCollection', features: [
    { type: 'Feature', id: 'x-1', properties: { kind: 'drinking_water' }, geometry: GOOD.features[0].geometry }] }));
  assert.match(await page.textContent('#zones-error'), /保护区数据无效/);
  assert.deepEqual(await storedZones(), before);
});

ui('in English on the switch, readable at 360 px, no CSP violation', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await zonesAs(admin);
    await page.waitForSelector('#zones-view[data-state="ready"]');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 361, `the page is ${wide} px wide at 360`);
    await page.click('#lang');
    assert.equal(await page.textContent('#zones-view h2'), 'Protection zones (drinking-water sources and others)');
    assert.match(await page.textContent('#zones-view table'), /Drinking-water source protection zone/);
    await page.click('#lang');
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  assert.deepEqual(browser.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});
