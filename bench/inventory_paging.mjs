// The inventory's paging at scale (docs/console.md, "Figures"): seeds N outfalls (default
// 100 000) through the real server's one write path (POST /v1/sync, signed batches of 500, as the
// field-day benchmark seeds), then times GET /v1/outfalls through the real server as the console
// asks it: the first page, page 500 and the last page of 100 rows (keyset paging: each page
// follows the previous page's next_page_token), and a few filtered first pages. Prints figures,
// never pass/fail.
//
//   node bench/inventory_paging.mjs [N]         (OUTFALLD=build/release/outfalld for real figures)
//
// Uses the browser tests' server starter and API client (tests/browser/lib), so run it after
// `(cd tests/browser && npm ci)` or with their node_modules linked.
import { performance } from 'node:perf_hooks';
import { startServer, ADMIN_PASSWORD } from '../tests/browser/lib/server.js';
import { Api, create } from '../tests/browser/lib/api.js';

const N = Number(process.argv[2] || 100000);
const BATCH = 500;
const TYPES = ['OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED', 'OUTFALL_TYPE_URBAN_STORM', 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE',
  'OUTFALL_TYPE_MUNICIPAL_WWTP', 'OUTFALL_TYPE_DITCH_CHANNEL'];

const srv = await startServer();
try {
  const api = new Api(srv.url);
  const admin = await api.login('admin', ADMIN_PASSWORD);
  const sup = await api.createUser(admin, 'bench.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410800']);
  const seeder = await api.createUser(admin, 'bench.seed', 'surveyor-pass-1', 'ROLE_SURVEYOR', ['410882']);
  const phone = await api.enroll(seeder.token, 'bench-seeder');

  // A grid about 200 m apart inside the city: no duplicate suspects, no position flags.
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const changes = [];
    for (let k = i; k < Math.min(N, i + BATCH); k++) {
      changes.push(create({ riverCode: 'qinhe', divisionCode: '410882', accuracyM: 5,
        lat: 34.85 + Math.floor(k / 320) * 0.002, lon: 112.6 + (k % 320) * 0.003,
        name: `台账压测排口${k}`, type: TYPES[k % TYPES.length] }));
    }
    await api.sync(seeder.token, phone, changes);
  }
  const seedS = (performance.now() - t0) / 1000;
  console.log(`seeded ${N} outfalls in ${seedS.toFixed(1)} s (${Math.round(N / seedS)} a second)`);

  // Times one GET as the supervisor; returns [ms, body].
  const timed = async (path) => {
    const s = performance.now();
    const body = await api.ok('GET', path, { token: sup.token });
    return [performance.now() - s, body];
  };
  const pages = [];
  let token = '';
  for (;;) {
    const [ms, body] = await timed(`/v1/outfalls?limit=100${token ? `&page_token=${token}` : ''}`);
    pages.push(ms);
    token = body.nextPageToken || '';
    if (!token) break;
  }
  const sorted = pages.slice().sort((a, b) => a - b);
  const f = (ms) => `${ms.toFixed(1)} ms`;
  console.log(`pages of 100: ${pages.length}; first ${f(pages[0])}, page 500 ${f(pages[499] ?? NaN)}, ` +
    `last ${f(pages[pages.length - 1])}; median ${f(sorted[sorted.length >> 1])}, slowest ${f(sorted[sorted.length - 1])}`);
  for (const q of ['type=MUNICIPAL_WWTP', `q=${encodeURIComponent('压测排口99999')}`, `q=${encodeURIComponent('无此排口')}`,
    'stage=FOUND', 'flag=duplicate_suspect', 'overdue=1']) {
    const [ms, body] = await timed(`/v1/outfalls?limit=100&${q}`);
    console.log(`first page ?${decodeURIComponent(q)}: ${f(ms)} (${(body.outfalls || []).length} rows)`);
  }
} finally {
  await srv.stop(false);
}
