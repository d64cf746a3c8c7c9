// The language sweep (issue 19, point 6): signed in as each role the console knows, every view
// the header offers (its nav buttons, so views added later are swept too) is opened in Chinese
// over a server holding records in every state worth showing (pending, approved, traced and
// planned with a ban, a conflict, a public report, an application, a self-check plan), and no
// visible text (nor a choice in a list, a placeholder, a title) may hold an English word or a raw
// enum name, nor say the role may not see it. What users typed or the system numbered stays as
// it is: usernames, device ids, codes with digits, hexadecimal ids; and the few technical names
// Chinese uses as they are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, firstSeenAtStart, ADMIN_PASSWORD } from './lib/server.js';
import { launch, watchActivity, quiet } from './lib/browser.js';
import { Api, create, edit, observe, creditCode } from './lib/api.js';
import { png, blake2b256 } from './lib/png.js';
import { ERRORS } from '../../web/errors.js';

const DIV = '410882';
const YEAR = new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
// Words Chinese screens use as they are.
const TECHNICAL = new Set(['English', 'CSV', 'GeoJSON', 'JSON', 'QR', 'EXIF', 'GPS', 'PNG', 'JPEG', 'PDF', 'ZIP', 'TAR', 'URL', 'ID',
  // GeoJSON's own keywords, which the zones import's hint must name for the file to be right
  'FeatureCollection', 'Polygon', 'MultiPolygon', 'name', 'kind']);

// What each role's sweep must have seen, to prove it went where the labels are.
const SEEN = {
  admin: ['账户管理', '市县自查计划', '取缔'],
  city: ['取缔', '一口一策', '字段冲突', '公众举报', '排污口设置审核'],
  county: ['沁河北岸化工排口', '市县自查计划'],
  integrator: ['排查整治进度', '排污口台账'],
  checker: ['市县自查计划', '取缔'],
  surveyor: ['外业采集应用', '修改密码'],
};
let srv, api, browser, page, pageErrors;
// The /v1/ requests answered 403 during the current sweep.
const refused = [];
const users = {};
const typed = new Set(); // what users typed: usernames, device ids

before(async () => {
  srv = await startServer(['--backdate-days', '36500']);
  api = new Api(srv.url);
  const admin = await api.login('admin', ADMIN_PASSWORD);
  users.admin = { username: 'admin', password: ADMIN_PASSWORD, token: admin };
  users.city = await api.createUser(admin, 'city.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410800']);
  users.county = await api.createUser(admin, 'county.sup', 'supervisor-pass-2', 'ROLE_SUPERVISOR', [DIV]);
  users.integrator = await api.createUser(admin, 'feed.sys', 'integrator-pass-1', 'ROLE_INTEGRATOR', ['410800']);
  users.checker = await api.createUser(admin, 'prov.check', 'checker-pass-1', 'ROLE_PROVINCE_CHECKER', []);
  users.surveyor = await api.createUser(admin, 'field.li', 'surveyor-pass-1', 'ROLE_SURVEYOR', [DIV]);
  for (const u of Object.values(users)) typed.add(u.username);
  const phone = await api.enroll(users.surveyor.token, 'phone-li');
  const phone2 = await api.enroll(users.surveyor.token, 'phone-li2');
  typed.add('phone-li').add('phone-li2');

  // Records in the states the screens label: pending, approved and moved along, a conflict.
  const base = { riverCode: 'qinhe', divisionCode: DIV, accuracyM: 4 };
  const batch = [
    create({ ...base, lat: 35.087, lon: 112.951, name: '沁河北岸化工排口', type: 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE',
      entryMethod: 'ENTRY_METHOD_PIPE', dischargeRegime: 'DISCHARGE_REGIME_NONE', surveyLevel: 'SURVEY_LEVEL_WALK' }),
    create({ ...base, lat: 35.1, lon: 112.9, name: '城北污水处理厂排口', type: 'OUTFALL_TYPE_MUNICIPAL_WWTP' }),
    create({ ...base, lat: 35.12, lon: 112.92, name: '待审排口', type: 'OUTFALL_TYPE_OTHER' }),
  ];
  const r = await api.sync(users.surveyor.token, phone, batch);
  assert.ok(r.results.every((x) => x.status === 'CHANGE_STATUS_APPLIED'), JSON.stringify(r.results));
  const [chem, plant, pending] = batch.map((c) => c.entityId);
  const bytes = png(64, 48, [60, 60, 60]);
  const hash = blake2b256(bytes);
  await api.putPhoto(users.surveyor.token, bytes, hash);
  await api.sync(users.surveyor.token, phone, [observe(pending, { lat: 35.12, lon: 112.92 }, [{ hash, kind: 'PHOTO_KIND_NEAR' }])]);
  const sup = users.city.token;
  const approve = (id) => api.ok('POST', '/v1/review/decisions', { token: sup, body: {
    decisionId: randomUUID(), kind: 'DECISION_KIND_APPROVE', outfallId: id, baseVersion: '1' } });
  await approve(chem);
  await approve(plant);
  const move = async (id, v, body) => (await api.ok('POST', '/v1/programme/transitions', { token: sup, body: {
    transitionId: randomUUID(), outfallId: id, baseVersion: String(v), ...body } })).outfall.version;
  firstSeenAtStart(srv, chem);
  let v = await move(chem, 2, { toStage: 'LIFECYCLE_STAGE_FOUND', effectiveDate: '2023-03-01' });
  v = await move(chem, v, { toStage: 'LIFECYCLE_STAGE_TRACED', effectiveDate: '2023-04-01',
    responsibleParty: { name: '沁阳市某化工有限公司', creditCode: creditCode('91410882MA44R7LT1') }, partyBasis: 'PARTY_BASIS_TRACED' });
  await move(chem, v, { toStage: 'LIFECYCLE_STAGE_PLANNED', effectiveDate: '2023-05-01',
    plan: { measure: 'REMEDIATION_MEASURE_BAN', deadline: '2023-12-31', notes: '依法取缔' } });
  // A conflict: two phones edit the plant's name from the same version.
  await api.sync(users.surveyor.token, phone, [edit(plant, 2, { name: '城北污水厂一号排口' })]);
  await api.sync(users.surveyor.token, phone2, [edit(plant, 2, { name: '城北污水厂总排口' })]);

  await api.ok('POST', '/public/reports', { body: { kind: 'REPORT_KIND_BORROWED_USE', lat: 35.09, lon: 112.93,
    divisionCode: DIV, description: '沟渠里有油污' } }, 201);
  await api.ok('POST', '/v1/applications', { token: sup, body: {
    id: randomUUID(), kind: 'APPLICATION_KIND_SET_UP', projectName: '纸业项目', eiaLevel: 'EIA_LEVEL_COUNTY',
    applicant: { name: '沁阳某纸业有限公司', creditCode: creditCode('91410882MA44XQ7J6') },
    lat: 35.09, lon: 112.95, divisionCode: DIV, riverCode: 'qinhe', outfallType: 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE' } });
  await api.ok('POST', '/v1/self-check-plans', { token: users.county.token, body: {
    divisionCode: DIV, year: YEAR, plannedCount: 10, riverCodes: ['qinhe'] } });

  browser = await launch();
  ({ page, pageErrors } = browser);
  await watchActivity(browser.context);
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on('response', (res) => {
    if (res.status() === 403 && new URL(res.url()).pathname.startsWith('/v1/')) refused.push(res.url());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop(false);
});

// Every text a person sees on the page: the visible text, the choices of every list, the
// placeholders, titles and labels for assistive technology.
function seenText() {
  return page.evaluate(() => {
    const out = [document.body.innerText, document.title];
    for (const e of document.querySelectorAll('option')) out.push(e.textContent);
    for (const e of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
      if (!e.closest('[hidden]')) out.push(e.getAttribute('placeholder') || '', e.getAttribute('title') || '', e.getAttribute('aria-label') || '', e.getAttribute('alt') || '');
    }
    return out.join('\n');
  });
}

// The English words and raw enum names in text: latin words with no digit, that are not an
// id (hexadecimal), something a user typed or a technical name.
function leaks(text) {
  const cleaned = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, ' ');
  const found = new Set();
  for (const [w] of cleaned.matchAll(/[A-Za-z0-9_][A-Za-z0-9_.-]*/g)) {
    const word = w.replace(/[.-]+$/, '');
    if (/\d/.test(word) || /^[0-9a-f]{6,}$/.test(word) || typed.has(word) || TECHNICAL.has(word)) continue;
    if (/[A-Za-z]{2,}/.test(word)) found.add(word);
  }
  return [...found];
}

// Waits until view (its section #NAME-view) shows and has its answer.
async function settled(name) {
  await page.waitForSelector(`#${name}-view:not([hidden])`);
  await page.waitForFunction((n) => {
    const v = document.getElementById(n + '-view');
    const q = document.getElementById('queue-pane');
    return v.dataset.loaded !== 'loading' && v.dataset.state !== 'loading' && (n !== 'review' || (q && q.dataset.state !== 'loading'));
  }, name);
  await quiet(page);
}

async function signInAs(user) {
  await page.goto(srv.url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(srv.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#login-submit');
  await page.waitForSelector('#login-view', { state: 'hidden' });
}

// Signs in as role, opens every view of its header (and, where a view lists records, the first
// one) and answers {where: [leaked words]} for each place with leaks.
async function sweep(role) {
  const found = {};
  refused.length = 0;
  let all = '';
  const check = async (where) => {
    const text = await seenText();
    all += text;
    const l = leaks(text);
    // A view the header offers is the role's: the server does not refuse it.
    if (text.includes(ERRORS.forbidden_role.zh)) l.push('forbidden_role');
    if (l.length) found[where] = l;
  };
  await signInAs(users[role]);
  await quiet(page);
  await check('first screen');
  const navs = await page.locator('#nav button:visible').evaluateAll((b) => b.map((x) => x.id.replace(/^nav-/, '')));
  for (const name of navs) {
    await page.click('#nav-' + name);
    await settled(name);
    await check(name);
    const first = {
      review: '#queue-pane button.item',
      inventory: '#inventory-view button.open',
      applications: '#applications-list tr.application-row',
      accounts: '#accounts-list tr.account-row',
    }[name];
    if (first && await page.locator(first).count()) {
      const items = await page.locator(first).count();
      for (let i = 0; i < Math.min(items, 4); i++) {
        await page.locator(first).nth(i).click();
        await quiet(page);
        if (name === 'inventory') await settled('outfall');
        await check(`${name}, item ${i + 1}`);
        if (name === 'inventory') {
          await page.click('#nav-inventory');
          await settled('inventory');
        }
      }
    }
  }
  assert.deepEqual(pageErrors, [], 'script errors in the page');
  // Nothing the console asks in the background is refused to the role (403 forbidden_role).
  assert.deepEqual(refused, [], `the console asked, as ${role}, what the role is refused`);
  for (const words of SEEN[role]) assert.ok(all.includes(words), `the sweep as ${role} never saw 「${words}」`);
  return found;
}

// LANGUAGE_ROLE=city sweeps one role only (while fixing what it found).
const ROLES = ['admin', 'city', 'county', 'integrator', 'checker', 'surveyor'];
for (const role of ROLES.filter((r) => !process.env.LANGUAGE_ROLE || r === process.env.LANGUAGE_ROLE)) {
  test(`signed in as ${role}, every view of the console in Chinese holds no English word or raw enum name`,
    { timeout: 180000 }, async () => {
      const found = await sweep(role);
      assert.deepEqual(found, {}, 'English or raw enum names on the Chinese screens');
    });
}
