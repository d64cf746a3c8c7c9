// The supervisors' console in headless Debian Chromium, against the real server on a free
// loopback port with a fresh data folder: seeded through the API (users, devices, signed
// batches making pending records, a conflict and a duplicate pair), driven through the page,
// then checked through the API. Screenshots of failed tests land in the server's temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './lib/server.js';
import { signIn } from './lib/browser.js';
import { create, edit, observe } from './lib/api.js';
import { browserWorld } from './lib/world.js';
import { request } from './lib/http.js';
import { png, blake2b256 } from './lib/png.js';

const DIV = '410882';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const XSS_NAME = '<script>alert(1)</script>';
const XSS_LANDMARK = '<img src=x onerror="window.__pwned=1">';

let srv, api, admin, sup, li, wang, phoneLi, phoneWang, browser, page;
let pageErrors = [];
const dialogs = [];
const ids = {};

// A spot in Qinyang, i km-ish apart from the others; near = a few metres from spot i.
const spot = (i, near = 0) => ({ lat: 35.08 + i * 0.01 + near * 0.00004, lon: 112.93 + i * 0.01 });

const ui = browserWorld({
  timeout: 30000,
  keys: /\b(?:app|lang|auth|queue|detail|col|value|conflict|dup|decide|done|err|photo|code|sep|f|flag)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, browser, page, pageErrors } = w);
    admin = w.adminToken;
    sup = await api.createUser(admin, 'zhang.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', [DIV]);
    li = await api.createUser(admin, 'li.survey', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
    wang = await api.createUser(admin, 'wang.survey', 'surveyor-pass-2', 'ROLE_SURVEYOR', [DIV]);
    phoneLi = await api.enroll(li.token, 'phone-li');
    phoneWang = await api.enroll(wang.token, 'phone-wang');

    const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 4.5 };
    const batch = [
      create({ ...base, ...spot(0), name: '沁河北岸排口', type: 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED', entryMethod: 'ENTRY_METHOD_PIPE', landmark: '村东桥下' }),
      create({ ...base, ...spot(1), name: '沁河冲突排口', landmark: '旧桥下' }),
      create({ ...base, ...spot(2), name: '沁河重复排口甲', landmark: '泵站旁' }),
      create({ ...base, ...spot(3), name: XSS_NAME, landmark: XSS_LANDMARK }),
      create({ ...base, ...spot(4), name: '沁河过期版本排口', landmark: '闸口' }),
      create({ ...base, ...spot(5), name: '沁河重试排口', landmark: '涵洞口' }),
    ];
    const r1 = await api.sync(li.token, phoneLi, batch);
    assert.deepEqual(r1.results.map((r) => r.status), Array(6).fill('CHANGE_STATUS_APPLIED'), JSON.stringify(r1.results));
    [ids.approve, ids.conflict, ids.dupA, ids.xss, ids.stale, ids.retry] = batch.map((c) => c.entityId);

    // A second outfall a few metres from dupA on the same river: a duplicate suspect.
    const dupB = create({ ...base, ...spot(2, 1), name: '沁河重复排口乙', landmark: '泵站旁边' });
    ids.dupB = dupB.entityId;
    const r2 = await api.sync(wang.token, phoneWang, [dupB]);
    assert.equal(r2.results[0].status, 'CHANGE_STATUS_DUPLICATE_SUSPECT', JSON.stringify(r2.results));

    // Two phones change the same field from version 1 to different values: a conflict.
    const r3 = await api.sync(li.token, phoneLi, [edit(ids.conflict, 1, { landmark: '新桥下', type: 'OUTFALL_TYPE_MINE' })]);
    assert.equal(r3.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(r3.results));
    const r4 = await api.sync(wang.token, phoneWang, [edit(ids.conflict, 1, { landmark: '东桥下', type: 'OUTFALL_TYPE_TAILINGS' })]);
    assert.equal(r4.results[0].status, 'CHANGE_STATUS_CONFLICT', JSON.stringify(r4.results));

    // Photos uploaded first, then observations naming them: two of the record to approve, one of
    // each of the duplicate pair.
    const photo = (token, rgb) => { const b = png(64, 48, rgb); return api.putPhoto(token, b, blake2b256(b)); };
    ids.near = await photo(li.token, [220, 90, 40]);
    ids.far = await photo(li.token, [40, 170, 90]);
    ids.photoA = await photo(li.token, [60, 60, 220]);
    ids.photoB = await photo(wang.token, [210, 200, 40]);
    const r5 = await api.sync(li.token, phoneLi, [
      observe(ids.approve, spot(0), [{ hash: ids.near, kind: 'PHOTO_KIND_NEAR' }, { hash: ids.far, kind: 'PHOTO_KIND_FAR' }],
        { flowing: true, colour: '灰黑', odour: '臭' }),
      observe(ids.dupA, spot(2), [{ hash: ids.photoA, kind: 'PHOTO_KIND_NEAR' }]),
    ]);
    assert.deepEqual(r5.results.map((r) => r.status), Array(2).fill('CHANGE_STATUS_APPLIED'), JSON.stringify(r5.results));
    const obsB = observe(ids.dupB, spot(2, 1), [{ hash: ids.photoB, kind: 'PHOTO_KIND_SIGNBOARD' }]);
    ids.obsB = obsB.entityId;
    const r6 = await api.sync(wang.token, phoneWang, [obsB]);
    assert.equal(r6.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(r6.results));

    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  },
});

// A test in the browser: a screenshot on failure, no script error, no untranslated key.

// Opens the console signed in as the supervisor (signing in when needed), the queue loaded.
async function signedIn() {
  await signIn(page, srv.url, sup);
  await page.waitForSelector('#queue-pane[data-state="ready"]');
}

const item = (kind, id) => page.locator(`#queue-list li[data-kind="REVIEW_ITEM_KIND_${kind}"][data-outfall-id="${id}"] button`);

async function openItem(kind, id) {
  await page.click('#queue-refresh');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  await item(kind, id).click();
  await page.waitForSelector(`.detail[data-kind="REVIEW_ITEM_KIND_${kind}"][data-outfall-id="${id}"]`);
}

// Waits until the thumbnails under scope show exactly the photos hashes, each loaded from a blob:
// URL (the bytes came through the API with the bearer header).
async function loadedThumbs(scope, hashes) {
  const thumbs = page.locator(`${scope} .thumb`);
  await page.waitForFunction(([sel, n]) => {
    const imgs = [...document.querySelectorAll(`${sel} .thumb img`)];
    return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth === 64 && i.src.startsWith('blob:'));
  }, [scope, hashes.length]);
  assert.deepEqual((await thumbs.evaluateAll((ts) => ts.map((t) => t.dataset.hash))).sort(), [...hashes].sort());
}

async function expectNotice(kind) {
  await page.waitForSelector(`#notice[data-kind="${kind}"]:not([hidden])`);
  return page.textContent('#notice');
}

test('the console is served with its security headers and without inline script', async () => {
  for (const path of ['/', '/web/app.js', '/web/style.css', '/web/nope.js']) {
    const r = await request(srv.url + path);
    assert.equal(r.headers.get('content-security-policy'), CSP, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
  }
  assert.match((await request(srv.url + '/')).headers.get('content-type'), /^text\/html/);
  assert.match((await request(srv.url + '/web/app.js')).headers.get('content-type'), /^text\/javascript/);
  for (const path of ['/web/nope.js', '/web/.gitignore', '/web/..%2fMakefile', '/web/%2e%2e%2fMakefile', '/web/README']) {
    assert.equal((await request(srv.url + path)).status, 404, path);
  }
  // The console's files and the field app's (its vendored libraries are checked by field.test.js
  // against their pinned copies instead).
  const files = [];
  for (const dir of ['web', 'web/field']) {
    for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) if (e.isFile()) files.push(join(dir, e.name));
  }
  for (const f of files) {
    const text = await readFile(join(ROOT, f), 'utf8');
    if (f.endsWith('.html')) {
      assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${f}: inline <script>`);
      assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${f}: inline event handler`);
      assert.doesNotMatch(text, /style\s*=/i, `${f}: inline style`);
    }
    if (f.endsWith('.js')) {
      assert.doesNotMatch(text, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function/, `${f}: HTML from strings`);
    }
  }
});

ui('a supervisor signs in and sees the queue with its counts per kind', async () => {
  await page.goto(srv.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.textContent('h1'), '入河排污口审核');
  await signedIn();
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.ok(await page.evaluate(() => sessionStorage.getItem('outfall.session')));
  assert.equal(await page.evaluate(() => localStorage.getItem('outfall.session')), null);
  const q = await api.queue(sup.token);
  for (const c of q.counts) {
    assert.equal(await page.textContent(`#counts [data-kind="${c.kind}"] .n`), String(c.count), c.kind);
  }
  assert.equal(await page.textContent('#counts [data-kind="REVIEW_ITEM_KIND_CONFLICT"] .n'), '2');
  assert.equal(await page.textContent('#counts [data-kind="REVIEW_ITEM_KIND_DUPLICATE"] .n'), '1');
  await page.selectOption('#filter-kind', 'REVIEW_ITEM_KIND_DUPLICATE');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  assert.equal(await page.locator('#queue-list li').count(), 1);
  assert.equal(await page.getAttribute('#counts [data-kind="REVIEW_ITEM_KIND_DUPLICATE"]', 'aria-pressed'), 'true');
  assert.equal(await page.textContent('#counts [data-kind="REVIEW_ITEM_KIND_CONFLICT"] .n'), '2', 'other kinds keep their counts');
  await page.selectOption('#filter-kind', '');
  await page.selectOption('#filter-river', 'huanghe');
  await page.waitForSelector('#queue-pane[data-state="ready"]');
  assert.equal(await page.textContent('#queue-status'), '没有待处理的条目。');
  assert.equal(await page.locator('#queue-list li').count(), 0);
  await page.selectOption('#filter-river', '');
  await item('PENDING', ids.approve).waitFor();
});

ui('resolving a conflict in the console takes the chosen value on the server', async () => {
  await signedIn();
  await item('CONFLICT', ids.conflict).first().click();
  await page.waitForSelector(`.detail[data-kind="REVIEW_ITEM_KIND_CONFLICT"][data-outfall-id="${ids.conflict}"]`);
  assert.equal(await page.locator('.conflict-table tbody tr').count(), 2, 'both conflicts of the record, side by side');
  const row = page.locator('.conflict-table tbody tr[data-field="landmark"]');
  assert.equal(await row.locator('td.base').textContent(), '旧桥下');
  assert.equal(await row.locator('td.server').textContent(), '新桥下');
  assert.equal(await row.locator('td.client').textContent(), '东桥下');
  assert.match(await row.locator('th').textContent(), /位置描述[\s\S]*wang\.survey[\s\S]*phone-wang/);
  await row.locator('input[value="RESOLUTION_CHOICE_TAKE_CLIENT"]').check();
  const typeRow = page.locator('.conflict-table tbody tr[data-field="type"]');
  assert.equal(await typeRow.locator('td.base').textContent(), '（空）');
  assert.equal(await typeRow.locator('td.server').textContent(), '矿山排污口');
  assert.equal(await typeRow.locator('td.client').textContent(), '尾矿库排污口');
  await typeRow.locator('input[value="RESOLUTION_CHOICE_ENTER_VALUE"]').check();
  await typeRow.locator('select.enter-value').selectOption('OUTFALL_TYPE_URBAN_STORM');
  await page.click('#resolve-conflicts');
  assert.equal(await expectNotice('ok'), '冲突已处理。');
  const o = await api.outfall(sup.token, ids.conflict);
  assert.equal(o.landmark, '东桥下');
  assert.equal(o.type, 'OUTFALL_TYPE_URBAN_STORM');
  const q = await api.queue(sup.token, 'kind=REVIEW_ITEM_KIND_CONFLICT');
  assert.equal((q.items || []).filter((i) => i.outfallId === ids.conflict).length, 0);
  await item('CONFLICT', ids.conflict).waitFor({ state: 'detached' });
});

ui('merging a duplicate pair in the console leaves one survivor and a redirect', async () => {
  await signedIn();
  await openItem('DUPLICATE', ids.dupB);
  assert.equal(await page.locator('.dup-col').count(), 2);
  await loadedThumbs(`.dup-col[data-outfall-id="${ids.dupB}"]`, [ids.photoB]);
  await loadedThumbs(`.dup-col[data-outfall-id="${ids.dupA}"]`, [ids.photoA]);
  assert.deepEqual(await page.locator('.dup-col').evaluateAll((cs) => cs.map((c) => c.dataset.outfallId)), [ids.dupB, ids.dupA]);
  assert.match(await page.textContent('.distance'), /相距 \d+(\.\d)? 米/);
  assert.match(await page.textContent('.dup-pair'), /沁河重复排口甲[\s\S]*/);
  await page.fill('#duplicate-comment', '同一排口，保留先登记的记录');
  // The kept record takes the landmark of the one merged away, and keeps its own name.
  assert.equal(await page.locator('#merge-take input[type=checkbox]').count(), 7);
  await page.check('#merge-take input[value="landmark"]');
  await page.click('#merge-keep-neighbour');
  assert.equal(await expectNotice('ok'), '已合并。');
  assert.equal((await api.outfall(sup.token, ids.dupB)).mergedInto, ids.dupA);
  const kept = await api.outfall(sup.token, ids.dupA);
  assert.equal(kept.landmark, '泵站旁边');
  assert.equal(kept.name, '沁河重复排口甲');
  const h = await api.history(sup.token, ids.dupA);
  assert.ok((h.mergedIds || []).includes(ids.dupB), JSON.stringify(h.mergedIds));
  assert.ok((h.observations || []).some((o) => o.id === ids.obsB), 'the observation moved to the survivor');
  const q = await api.queue(sup.token, 'kind=REVIEW_ITEM_KIND_DUPLICATE');
  assert.equal((q.items || []).length, 0);
});

ui('approving a record in the console pins its version and gives it a code', async () => {
  await signedIn();
  await openItem('PENDING', ids.approve);
  assert.match(await page.textContent('.detail-head .meta'), /^待审核 · 审核状态：待审核 · /);
  const fields = page.locator('table.fields');
  assert.equal(await fields.locator('tr[data-field="type"] td').textContent(), '农村生活污水散排口');
  assert.equal(await fields.locator('tr[data-field="entry_method"] td').textContent(), '管道');
  assert.equal(await fields.locator('tr[data-field="river_code"] th').textContent(), '受纳河流');
  assert.equal(await fields.locator('tr[data-field="river_code"] td').textContent(), '沁河');
  assert.match(await page.textContent('.coords'), /35\.080000.*112\.930000/);
  assert.equal(await page.locator('.map').count(), 0, 'no map without a tile URL');
  assert.match(await page.textContent('table.history'), /li\.survey[\s\S]*phone-li/);
  await loadedThumbs('.record .sec-photos', [ids.near, ids.far]);
  await page.locator(`.record .sec-photos .thumb[data-hash="${ids.near}"]`).click();
  await page.waitForSelector('#photo-dialog[open]');
  assert.equal(await page.textContent('#photo-caption'), '近景');
  assert.match(await page.getAttribute('#photo-full', 'src'), /^blob:/);
  await page.waitForFunction(() => document.getElementById('photo-full').naturalWidth === 64);
  await page.click('#photo-close');
  await page.waitForSelector('#photo-dialog:not([open])', { state: 'attached' });
  await page.fill('#decision-comment', '资料齐全，同意入库');
  await page.click('#decide-approve');
  const said = await expectNotice('ok');
  const o = await api.outfall(sup.token, ids.approve);
  assert.equal(o.reviewState, 'REVIEW_STATE_APPROVED');
  assert.ok(o.code, 'approval assigns a code');
  assert.equal(said, `已批准，排口编码 ${o.code}。`);
  assert.equal(o.approvedVersion, o.version);
  await item('PENDING', ids.approve).waitFor({ state: 'detached' });
});

ui('an edit after approval shows the reviewer what changed since the approved version', async () => {
  await signedIn();
  const o = await api.outfall(sup.token, ids.approve);
  const r = await api.sync(li.token, phoneLi, [edit(ids.approve, o.version, { landmark: '村东新桥下' })]);
  assert.equal(r.results[0].status, 'CHANGE_STATUS_APPLIED', JSON.stringify(r.results));
  await openItem('PENDING', ids.approve);
  const diff = page.locator('.sec-since table.diff tbody tr');
  assert.equal(await diff.count(), 1);
  assert.deepEqual(await diff.locator('td').allTextContents(), ['位置描述', '村东桥下', '村东新桥下']);
  assert.equal((await api.outfall(sup.token, ids.approve, 'approved')).landmark, '村东桥下');
});

ui('a decision on a stale version is refused, shown, and the record reloaded', async () => {
  await signedIn();
  await openItem('PENDING', ids.stale);
  assert.equal(await page.getAttribute('.detail', 'data-version'), '1');
  await api.sync(li.token, phoneLi, [edit(ids.stale, 1, { name: '沁河过期版本排口（已更正）' })]);
  await page.click('#decide-approve');
  assert.match(await expectNotice('error'), /已被修改/);
  await page.waitForSelector(`.detail[data-outfall-id="${ids.stale}"][data-version="2"]`);
  assert.equal(await page.textContent('#record-name'), '沁河过期版本排口（已更正）');
  assert.equal((await api.outfall(sup.token, ids.stale)).reviewState, 'REVIEW_STATE_PENDING');
  await page.fill('#decision-comment', '名称有误，请现场核实');
  await page.click('#decide-return');
  assert.equal(await expectNotice('ok'), '已退回修改。');
  assert.equal((await api.outfall(sup.token, ids.stale)).reviewState, 'REVIEW_STATE_RETURNED');
});

ui('a decision whose answer was lost is retried under the same id and applies once', async () => {
  await signedIn();
  await openItem('PENDING', ids.retry);
  const sent = [];
  await page.route('**/v1/review/decisions', async (route) => {
    sent.push(route.request().postDataJSON());
    if (sent.length > 1) return route.continue();
    await route.fetch(); // the server applies it; the answer never reaches the page
    return route.abort('connectionreset');
  });
  try {
    await page.click('#decide-approve');
    assert.match(await expectNotice('ok'), /^已批准/);
  } finally {
    await page.unroute('**/v1/review/decisions');
  }
  assert.equal(sent.length, 2);
  assert.match(sent[0].decisionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(sent[1].decisionId, sent[0].decisionId);
  assert.equal(sent[0].baseVersion, '1');
  const o = await api.outfall(sup.token, ids.retry);
  assert.equal(o.reviewState, 'REVIEW_STATE_APPROVED');
  assert.equal(o.version, '2', 'applied once');
});

ui('a record named <script> shows those characters as text', async () => {
  await signedIn();
  const listed = item('PENDING', ids.xss);
  assert.equal(await listed.locator('.name').textContent(), XSS_NAME);
  await openItem('PENDING', ids.xss);
  assert.equal(await page.textContent('#record-name'), XSS_NAME);
  assert.equal(await page.textContent('tr[data-field="landmark"] td'), XSS_LANDMARK);
  assert.equal(await page.locator('#detail script, #queue-list script, #detail img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => document.querySelectorAll('script').length), 1);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // The policy is in force: an inline script added now does not run.
  const ran = await page.evaluate(() => new Promise((res) => {
    document.addEventListener('securitypolicyviolation', () => res('blocked'), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.head.append(s);
    setTimeout(() => res(window.__inline === 1 ? 'ran' : 'silent'), 1000);
  }));
  assert.equal(ran, 'blocked');
  assert.equal(await page.evaluate(() => document.querySelectorAll('[onerror], [onclick], [onload]').length), 0);
  assert.deepEqual(dialogs, []);
});

ui('the console works in English after switching, and keeps the choice', async () => {
  await signedIn();
  await page.click('#lang');
  assert.equal(await page.textContent('h1'), 'Outfall review');
  assert.equal(await page.textContent('#queue-pane h2'), 'Queue');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal(await page.textContent('h1'), 'Outfall review');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.match(await page.textContent('#counts [data-kind="REVIEW_ITEM_KIND_PENDING"]'), /^Pending \d+$/);
  await openItem('PENDING', ids.xss);
  assert.equal(await page.textContent('tr[data-field="river_code"] th'), 'Receiving river');
  assert.equal(await page.textContent('tr[data-field="river_code"] td'), 'Qin River');
  assert.equal(await page.textContent('#decide-approve'), 'Approve');
  await page.click('#decide-reject');
  assert.equal(await expectNotice('error'), 'Please give a comment when rejecting or returning.');
  await page.fill('#decision-comment', 'Not an outfall: test record');
  await page.click('#decide-reject');
  assert.equal(await expectNotice('ok'), 'Rejected.');
  assert.equal((await api.outfall(sup.token, ids.xss)).reviewState, 'REVIEW_STATE_REJECTED');
  await page.click('#lang');
  assert.equal(await page.textContent('h1'), '入河排污口审核');
  const gaps = await page.evaluate(async () => {
    const { MESSAGES } = await import('/web/i18n.js');
    const diff = (a, b) => Object.keys(a).filter((k) => !(k in b));
    return [MESSAGES.ui, MESSAGES.labels].flatMap((d) => [...diff(d.zh, d.en), ...diff(d.en, d.zh)]);
  });
  assert.deepEqual(gaps, [], 'messages in one language only');
});

ui('signing out revokes the token; a revoked one sends the supervisor back to sign in', async () => {
  await signedIn();
  const token = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('outfall.session') || '{}').token);
  const first = await token();
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('outfall.session')), null);
  assert.equal((await api.call('GET', '/v1/review/queue', { token: first })).status, 401);

  await signedIn();
  await api.ok('POST', '/v1/auth/logout', { token: await token() });
  await page.click('#queue-refresh');
  await page.waitForSelector('#login-view:not([hidden])');
  assert.equal(await page.textContent('#login-error'), '登录已过期，请重新登录。');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('outfall.session')), null);
});

ui('a duplicate pair across counties shows the county supervisor that the city decides, not the other record', async () => {
  // County B (博爱县) surveys an outfall on the Qin; li of county A records one 4 m away.
  const DIV_B = '410822';
  const zhao = await api.createUser(admin, 'zhao.survey', 'surveyor-pass-3', 'ROLE_SURVEYOR', [DIV_B]);
  const phoneZhao = await api.enroll(zhao.token, 'phone-zhao');
  const secret = { creditCode: '91410822MA9B000001', contact: '乙县联系人赵', phone: '13912340009', address: '博爱县乙厂路九号' };
  const b = create({ riverCode: 'qinhe', divisionCode: DIV_B, ...spot(7), name: '博爱沁河排口', responsibleParty: { name: '乙厂', ...secret } });
  assert.equal((await api.sync(zhao.token, phoneZhao, [b])).results[0].status, 'CHANGE_STATUS_APPLIED');
  const a = create({ riverCode: 'qinhe', divisionCode: DIV, ...spot(7, 1), name: '沁阳跨县疑似排口', landmark: '县界桥下' });
  const r = await api.sync(li.token, phoneLi, [a]);
  assert.equal(r.results[0].status, 'CHANGE_STATUS_DUPLICATE_SUSPECT', JSON.stringify(r.results));

  await signedIn();
  await openItem('DUPLICATE', a.entityId);
  const note = await page.textContent('#city-decides');
  assert.match(note, /博爱县/);
  assert.match(note, /市级审核人员决定/);
  assert.equal(await page.locator('.dup-col').count(), 1, 'only the county\'s own record');
  assert.equal(await page.getAttribute('.dup-col', 'data-outfall-id'), a.entityId);
  assert.equal(await page.locator('.act-merge, #keep-apart, #duplicate-comment').count(), 0, 'no merge or keep-apart buttons');
  const shown = await page.textContent('#detail');
  for (const v of Object.values(secret)) assert.ok(!shown.includes(v), `the other county's ${v} is not shown`);
  assert.ok(!shown.includes('博爱沁河排口'), 'nor its name');
});
