// Figures of the field app in headless Chromium as a phone (make field-figures; not a test, no
// pass or fail): the bytes a first load moves, the time to pull N outfalls into the phone (the
// county's feed into IndexedDB, from sign-in to "last synced"), and the time to hash a 12 MP
// photo with BLAKE2b-256 on the phone, beside the same hash by the machine's b2sum (the ratio is
// what a slower phone scales). Server: env OUTFALLD (default build/release/outfalld).
// Usage: node tests/browser/field_figures.mjs [N=10000]
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startServer, ROOT, ADMIN_PASSWORD } from './lib/server.js';
import { Api } from './lib/api.js';
import { phone, fieldSignIn, PHOTOS, SITE } from './lib/field.js';

process.env.OUTFALLD ||= join(ROOT, 'build/release/outfalld');
const N = Number(process.argv[2] || 10000);
const RIVERS = ['huanghe', 'qinhe', 'manghe', 'xinmanghe', 'danhe', 'jihe', 'tanqulaohe', 'weihe'];

const srv = await startServer(['--max-body', String(64 * 1024 * 1024)]);
const api = new Api(srv.url);
const admin = await api.login('admin', ADMIN_PASSWORD);
const seeder = await api.createUser(admin, 'seed.field', 'seed-field-password-1', 'ROLE_SURVEYOR', ['410882']);
const user = await api.createUser(admin, 'figures.field', 'figures-field-password-1', 'ROLE_SURVEYOR', ['410882']);
const dev = await api.enroll(seeder.token, 'seed-phone');

// N outfalls of the county, on a grid 100 m apart (no duplicate suspects), in batches of 1000.
let t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  const changes = [];
  for (let j = i; j < Math.min(N, i + 1000); j++) {
    changes.push({
      changeId: randomUUID(), entityId: randomUUID(), baseVersion: '0', clientTimeMs: String(Date.now()),
      outfall: { name: `图表排口 ${j}`, riverCode: RIVERS[j % RIVERS.length], divisionCode: '410882',
        lat: SITE.latitude + Math.floor(j / 100) * 0.001, lon: SITE.longitude + (j % 100) * 0.0012, accuracyM: 5,
        landmark: `第 ${j} 号排口旁的桥下`, type: 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED' },
    });
  }
  await api.sync(seeder.token, dev, changes);
}
const seedS = (performance.now() - t0) / 1000;

const p = await phone({ url: srv.url });
const sizes = [];
p.page.on('response', async (r) => {
  const body = await r.body().catch(() => Buffer.alloc(0));
  sizes.push({ url: r.url(), bytes: body.length });
});

// First load: the page and everything it pulls in before the sign-in form is ready.
await p.page.goto(srv.url + '/field/');
await p.page.waitForSelector('body[data-ready="true"]');
await p.page.evaluate(() => navigator.serviceWorker.ready);
await p.page.waitForTimeout(1000); // the service worker's own fetches of the files it keeps
const appBytes = sizes.filter((s) => !s.url.includes('/v1/')).reduce((a, s) => a + s.bytes, 0);
const pageBytes = sizes.filter((s) => !s.url.includes('/v1/') && !s.url.endsWith('/sw.js')).length;

// Pull: from pressing "sign in" to the first sync's end, the county in IndexedDB.
sizes.length = 0;
t0 = performance.now();
await fieldSignIn(p.page, srv.url, user);
await p.page.waitForFunction((n) => document.querySelector('#list-where') && /共有 (\d+) 个排口/.test(document.body.textContent) &&
  Number(document.body.textContent.match(/共有 (\d+) 个排口/)[1]) >= n, N, { timeout: 600000, polling: 200 });
const pullS = (performance.now() - t0) / 1000;
const pullBytes = sizes.filter((s) => s.url.includes('/v1/changes')).reduce((a, s) => a + s.bytes, 0);

// Hashing a 12 MP photo (3.9 MB) on the phone, three times, against b2sum on the machine.
const bytes = await readFile(join(PHOTOS, 'large-12mp.jpg'));
const hashMs = await p.page.evaluate(async (b64) => {
  const { hashBlob } = await import('/field/keys.js');
  const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const blob = new Blob([raw], { type: 'image/jpeg' });
  const times = [];
  let hex = '';
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    hex = await hashBlob(blob);
    times.push(performance.now() - t);
  }
  return { times, hex };
}, bytes.toString('base64'));
t0 = performance.now();
const b2 = execFileSync('b2sum', ['-l', '256', join(PHOTOS, 'large-12mp.jpg')]).toString().split(' ')[0];
const b2Ms = performance.now() - t0;
if (b2 !== hashMs.hex) throw new Error(`the phone's hash ${hashMs.hex} is not b2sum's ${b2}`);

await p.close();
await srv.stop();

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`| figure | value |
|---|---|
| first load (page, scripts, styles, icons, vendor libraries; uncompressed) | ${(appBytes / 1024).toFixed(0)} KiB in ${pageBytes} files |
| seeding ${N} outfalls through signed batches of 1000 (server side, for scale) | ${seedS.toFixed(1)} s |
| pulling ${N} outfalls into the phone (sign-in to list, feed pages of 500 into IndexedDB) | ${pullS.toFixed(1)} s, ${(pullBytes / 1048576).toFixed(1)} MiB of JSON |
| BLAKE2b-256 of a 12 MP photo (3.9 MB) on the phone, median of 3 | ${median(hashMs.times).toFixed(0)} ms (b2sum on the same machine: ${b2Ms.toFixed(0)} ms, with its process start) |`);
