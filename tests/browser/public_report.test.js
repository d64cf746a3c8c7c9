// The public's report form (web/report/, GET /report/) on a 360 px phone in headless Debian
// Chromium against the real server: a citizen with no account files a 举报 with the phone's
// position and a photo (a code from a link that names no outfall refused first), gets a tracking
// number and a Chinese status page (no JSON, no raw enum,
// Beijing time) that shows the bureau's answer once given; the photo reaches the supervisor whole.
// Bad input is refused in the user's words and files nothing: no description, no position, a
// position the server refuses (its catalogue's Chinese). The sign board's page links to the form
// with the outfall's code filled in. English on the switch; no script error, no CSP violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, ADMIN_PASSWORD } from './lib/server.js';
import { Api } from './lib/api.js';
import { phone, PHOTOS, SITE, b2sum, assertNoErrors } from './lib/field.js';

const DIV = '410882';
let srv, api, sup, citizen;

const reports = async () => (await api.ok('GET', '/v1/reports', { token: sup })).reports || [];

before(async () => {
  srv = await startServer();
  api = new Api(srv.url);
  const admin = await api.login('admin', ADMIN_PASSWORD);
  await api.createUser(admin, 'zhou.sup', 'supervisor-pass-3', 'ROLE_SUPERVISOR', [DIV]);
  sup = await api.login('zhou.sup', 'supervisor-pass-3');
  citizen = await phone({ url: srv.url });
  citizen.consoleErrors = [];
  citizen.page.on('console', (m) => { if (m.type() === 'error') citizen.consoleErrors.push(m.text()); });
});

after(async () => {
  if (citizen) await citizen.close();
  if (srv) await srv.stop(false);
});

async function openForm(query = '') {
  const { page } = citizen;
  await page.goto(`${srv.url}/report/${query}`);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

test('a citizen files a report with the phone position and a photo, and follows it to the answer', { timeout: 90000 }, async () => {
  const page = await openForm('?code=HN0882-0001');
  assert.equal(await page.title(), '入河排污口问题举报');
  assert.equal(await page.inputValue('#code'), 'HN0882-0001');
  // Readable on a 360 px phone: nothing wider than the screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));

  await page.click('#locate');
  await page.waitForFunction(() => document.querySelector('#lat').value !== '');
  assert.equal(Number(await page.inputValue('#lat')), SITE.latitude);
  assert.equal(Number(await page.inputValue('#lon')), SITE.longitude);
  assert.match(await page.textContent('#pos-status'), /已定位/);

  await page.selectOption('#kind', 'REPORT_KIND_ILLEGAL_DISCHARGE');
  await page.selectOption('#division', DIV);
  await page.fill('#description', '傍晚排口流出黑水，有臭味 <b>不是标记</b>');
  await page.fill('#contact', '139 1111 2222');
  const photo = join(PHOTOS, 'qinhe-outfall-a-1.jpg');
  await page.setInputFiles('#photos', photo);
  // The code from the link names no outfall on a sign board: the server refuses it, in the
  // catalogue's Chinese, and keeps nothing; without it the report goes.
  await page.click('#submit');
  await page.waitForFunction(() => !document.querySelector('#form-error').hidden);
  assert.match(await page.textContent('#form-error'), /没有这个编码（或编号）的排污口/);
  assert.equal((await reports()).length, 0);
  await page.fill('#code', '');
  await page.click('#submit');
  await page.waitForSelector('#done:not([hidden])');
  const number = await page.textContent('#number');
  assert.match(number, /^[A-Z0-9]{16}$/);
  assert.match(await page.textContent('#photo-result'), /照片已全部上传（1 张）/);

  // The supervisor sees it whole, with the code, the contact and the photo, which reads back.
  const filed = (await reports()).find((r) => r.number === number);
  assert.ok(filed, 'the report reached the supervisor');
  assert.equal(filed.description, '傍晚排口流出黑水，有臭味 <b>不是标记</b>');
  assert.equal(filed.outfallCode, undefined);
  assert.equal(filed.contact, '139 1111 2222');
  assert.deepEqual(filed.photos, [b2sum(photo)]);
  const got = await fetch(`${srv.url}/v1/photos/${b2sum(photo)}`, { headers: { Authorization: `Bearer ${sup}` } });
  assert.equal(got.status, 200);

  // The status page: Chinese, no JSON, no raw enum names, a Beijing time.
  await page.click('#status-link');
  await page.waitForSelector('h1');
  let text = await page.evaluate(() => document.body.innerText);
  assert.match(text, /举报办理情况/);
  assert.match(text, new RegExp(number));
  assert.match(text, /偷排、超标排放或违规设置排污口/);
  assert.match(text, /已受理，待答复/);
  assert.match(text, /\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}（北京时间）/);
  assert.doesNotMatch(text, /REPORT_|[{}"]/);

  // Answered by the bureau: the page shows the answer, as text.
  await api.ok('POST', `/v1/reports/${number}/answer`, { token: sup,
    body: { answerId: '6f1c2f0e-8a4b-4c1e-9d7a-2b3c4d5e6f70', answer: '已核查，责令停止排放 <i>并整改</i>。' } });
  await page.reload();
  text = await page.evaluate(() => document.body.innerText);
  assert.match(text, /已答复/);
  assert.match(text, /已核查，责令停止排放 <i>并整改<\/i>。/);
  assert.equal(await page.locator('i').count(), 0);

  assertNoErrors(citizen.pageErrors);
  assert.deepEqual(citizen.consoleErrors.filter((m) => /Content Security Policy/i.test(m)), [], 'CSP violations');
});

test('bad input is refused in the citizen\'s words and files nothing', { timeout: 60000 }, async () => {
  const before = (await reports()).length;
  const page = await openForm();
  await page.selectOption('#kind', 'REPORT_KIND_BORROWED_USE');
  await page.selectOption('#division', DIV);
  await page.click('#submit');
  assert.match(await page.textContent('#form-error'), /请提供位置/);

  await page.fill('#lat', '35.1');
  await page.fill('#lon', '112.9');
  await page.click('#submit');
  assert.equal(await page.textContent('#form-error'), '请描述看到的情况。');

  // The server's own refusal, worded from the catalogue: a position far outside the city.
  await page.fill('#lat', '22.5');
  await page.fill('#lon', '114.1');
  await page.fill('#description', '在这里');
  await page.click('#submit');
  await page.waitForFunction(() => !document.querySelector('#form-error').hidden &&
    document.querySelector('#form-error').textContent.includes('位置'));
  assert.match(await page.textContent('#form-error'), /位置无效/);
  assert.equal(await page.isVisible('#done'), false);
  assert.equal((await reports()).length, before);
  // What was typed is still there.
  assert.equal(await page.inputValue('#description'), '在这里');

  // An unknown number's page says so, in Chinese, with 404.
  const res = await page.goto(`${srv.url}/public/reports/AAAAAAAAAAAAAAAA`);
  assert.equal(res.status(), 404);
  assert.match(await page.textContent('h1'), /未找到该举报编号/);
  assertNoErrors(citizen.pageErrors);
});

test('the form switches to English and back', { timeout: 30000 }, async () => {
  const page = await openForm();
  await page.click('#lang');
  assert.equal(await page.textContent('h1'), 'Report a problem with an outfall');
  assert.match(await page.textContent('#kind'), /Illegal discharge/);
  await page.click('#lang');
  assert.equal(await page.textContent('h1'), '入河排污口问题举报');
  assertNoErrors(citizen.pageErrors);
});
