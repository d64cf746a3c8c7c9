// The console's optional map: off by default (console.test.js checks there is none), on when the
// server is started with --tile-url. Tiles load from that host alone, which the
// Content-Security-Policy then names in img-src; a URL that could break the header is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, ADMIN_PASSWORD, ROOT } from './lib/server.js';
import { launch } from './lib/browser.js';
import { Api, create } from './lib/api.js';
import { request } from './lib/http.js';
import { phone, fieldSignIn } from './lib/field.js';

// Nothing listens on the discard port: the tiles fail to load, quickly and on this machine.
const TILES = 'http://127.0.0.1:9/tiles/{z}/{x}/{y}.png';
let srv, api, sup, id, browser, page, failed = false;

before(async () => {
  srv = await startServer(['--tile-url', TILES]);
  api = new Api(srv.url);
  const admin = await api.login('admin', ADMIN_PASSWORD);
  sup = await api.createUser(admin, 'map.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410882']);
  const li = await api.createUser(admin, 'map.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', ['410882']);
  const phone = await api.enroll(li.token, 'phone-map');
  const c = create({ riverCode: 'qinhe', divisionCode: '410882', lat: 35.1, lon: 112.95, name: '地图排口' });
  id = c.entityId;
  await api.sync(li.token, phone, [c]);
  browser = await launch();
  ({ page } = browser);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop(failed);
});

test('with --tile-url the policy lets images come from the tile host only', async () => {
  const csp = (await request(srv.url + '/')).headers.get('content-security-policy');
  assert.match(csp, /img-src 'self' blob: data: http:\/\/127\.0\.0\.1:9;/);
  assert.match(csp, /connect-src 'self';/);
  assert.deepEqual(JSON.parse((await request(srv.url + '/web/config.json')).text),
    { version: '0.1.0', tileUrl: TILES, duplicateRadiusM: 30, maxPhotoBytes: 25 * 1024 * 1024 });
});

test('a record shows its position on a map of tiles around it', { timeout: 30000 }, async () => {
  try {
    await page.goto(srv.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#username', sup.username);
    await page.fill('#password', sup.password);
    await page.click('#login-submit');
    await page.waitForSelector('#queue-pane[data-state="ready"]');
    await page.click(`#queue-list li[data-kind="REVIEW_ITEM_KIND_PENDING"][data-outfall-id="${id}"] button`);
    await page.waitForSelector('.record .map');
    const srcs = await page.locator('.record .map img.tile').evaluateAll((is) => is.map((i) => i.getAttribute('src')));
    assert.equal(srcs.length, 9);
    // zoom 17 around 35.1 N, 112.95 E: tile x 106659, y 51872 in the middle
    assert.ok(srcs.includes('http://127.0.0.1:9/tiles/17/106659/51872.png'), srcs.join(' '));
    assert.ok(srcs.every((s) => s.startsWith('http://127.0.0.1:9/tiles/17/')));
    assert.match(await page.textContent('.record .coords'), /35\.100000.*112\.950000/);
    assert.equal(await page.locator('.record .map .pin').count(), 1);
  } catch (e) {
    failed = true;
    await page.screenshot({ path: join(srv.root, 'map.png'), fullPage: true }).catch(() => {});
    throw e;
  }
});

test('the field app shows the county on a Leaflet map of the same tiles, and places a pin by hand on it', { timeout: 60000 }, async () => {
  const p = await phone({ url: srv.url, geolocation: { latitude: 35.1003, longitude: 112.9504, accuracy: 60 } });
  try {
    const tiles = [];
    p.page.on('request', (r) => { if (r.url().startsWith('http://127.0.0.1:9/')) tiles.push(r.url()); });
    await fieldSignIn(p.page, srv.url, { username: 'map.survey', password: 'surveyor-pass-1' });
    await p.page.waitForFunction(() => /上次同步|同步/.test(document.body.textContent));
    await p.page.waitForFunction(() => document.querySelector('#list-where')?.textContent.includes('按距离排序'));
    await p.page.click('#map-toggle');
    await p.page.waitForSelector('#map.leaflet-container');
    // The outfall and the phone: two circles drawn by Leaflet, the tiles asked from the tile host.
    await p.page.waitForFunction(() => document.querySelectorAll('#map path.outfall-pin').length === 1 &&
      document.querySelectorAll('#map path.phone-pin').length === 1);
    assert.ok(tiles.length > 0 && tiles.every((u) => /^http:\/\/127\.0\.0\.1:9\/tiles\/\d+\/\d+\/\d+\.png$/.test(u)), tiles.join(' '));
    // A new fix moves the phone's marker in place: the outfall's stays the same node (a finger on
    // it keeps it), and the map stays where the surveyor moved it.
    await p.page.evaluate(() => { window.outfallPin = document.querySelector('#map path.outfall-pin'); });
    const before = await p.page.evaluate(() => document.querySelector('#map .leaflet-map-pane').style.transform);
    await p.context.setGeolocation({ latitude: 35.1006, longitude: 112.9508, accuracy: 50 });
    await p.page.waitForFunction(() => /±50 米/.test(document.querySelector('#list-where')?.textContent || ''));
    assert.ok(await p.page.evaluate(() => window.outfallPin.isConnected && document.querySelectorAll('#map path.outfall-pin').length === 1));
    assert.equal(await p.page.evaluate(() => document.querySelector('#map .leaflet-map-pane').style.transform), before);
    await p.page.click('#map path.outfall-pin');
    await p.page.waitForSelector('#add-observation');
    assert.match(await p.page.textContent('#view'), /地图排口/);
    // A fix of ±60 m is not good enough: the pin goes by hand, on the map.
    await p.page.click('#tab-new');
    await p.page.waitForFunction(() => /正在等待优于 15 米/.test(document.querySelector('#pos-status')?.textContent || ''));
    assert.match(await p.page.textContent('#pos-chosen'), /尚未确定位置/);
    await p.page.click('#pos-hand');
    await p.page.waitForSelector('#hand-map.leaflet-container');
    const box = await p.page.locator('#hand-map').boundingBox();
    await p.page.mouse.click(box.x + box.width / 2 + 40, box.y + box.height / 2);
    const lat = Number(await p.page.inputValue('#hand-lat'));
    const lon = Number(await p.page.inputValue('#hand-lon'));
    assert.ok(Math.abs(lat - 35.1003) < 0.001 && lon > 112.9504 && lon < 112.952, `${lat} ${lon}`);
    await p.page.click('#pos-hand-ok');
    assert.match(await p.page.textContent('#pos-chosen'), /手动标点/);
    assert.deepEqual(p.pageErrors, []);
  } catch (e) {
    failed = true;
    await p.page.screenshot({ path: join(srv.root, 'field-map.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await p.close();
  }
});

test('the inventory\'s map draws its points on the tiles of --tile-url', { timeout: 30000 }, async () => {
  try {
    const tiles = [];
    page.on('request', (r) => { if (r.url().startsWith('http://127.0.0.1:9/')) tiles.push(r.url()); });
    await page.goto(srv.url + '/#inventory');
    await page.waitForSelector('body[data-ready="true"]');
    if (await page.locator('#login-view').isVisible()) {
      await page.fill('#username', sup.username);
      await page.fill('#password', sup.password);
      await page.click('#login-submit');
    }
    await page.waitForSelector('#inventory-view[data-state="ready"]');
    await page.waitForFunction(() => document.querySelectorAll('#inventory-map path.leaflet-interactive').length === 1);
    await page.waitForSelector('#inventory-map img.leaflet-tile', { state: 'attached' }); // tiles fail: never shown
    assert.ok(tiles.length > 0 && tiles.every((u) => /^http:\/\/127\.0\.0\.1:9\/tiles\/\d+\/\d+\/\d+\.png$/.test(u)), tiles.join(' '));
    // With tiles to read the place from, the label shows on hover only.
    assert.equal(await page.locator('#inventory-map .leaflet-tooltip').count(), 0);
  } catch (e) {
    failed = true;
    await page.screenshot({ path: join(srv.root, 'inventory-map.png'), fullPage: true }).catch(() => {});
    throw e;
  }
});

test('a tile URL that could break out of the header is refused at start', () => {
  const bin = process.env.OUTFALLD || join(ROOT, 'build/asan/outfalld');
  for (const bad of ["https://x.example/{z}/{x}/{y}.png; script-src *", 'javascript:alert(1)//{z}{x}{y}',
    'https://{s}.tiles.example/{z}/{x}/{y}.png', 'https://tiles.example/tile.png']) {
    const r = spawnSync(bin, ['--tile-url', bad, '--data', '/nonexistent/outfall-test', '--listen', '127.0.0.1:0'],
      { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0, bad);
    assert.match(r.stderr, /--tile-url/, bad);
  }
});
