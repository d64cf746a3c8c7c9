// The console's accounts view (账户, web/accounts.js) and the own-password view through the real
// server in headless Chromium: an admin lists and filters users, creates one (a duplicate name
// and a weak password refused in Chinese from the catalogue), changes role and divisions,
// disables and enables, resets a password (shown once; the user must change it at sign-in),
// and revokes a user's phone and sign-in (that token then answers 401). A supervisor sees no
// accounts view (and the server refuses the list) but changes their own password; everything
// fits a 360 px phone and a 1280 px desk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD } from './lib/server.js';
import { browserWorld } from './lib/world.js';

let srv, api, adminToken, sup, surv, phone, page, pageErrors;
const ADMIN = { username: 'admin', password: ADMIN_PASSWORD };

const ui = browserWorld({
  keys: /\b(?:app|nav|acct|sc|queue|value|err|code)\.[a-z][\w.]*/g,
  seed: async (w) => {
    ({ srv, api, page, pageErrors } = w);
    adminToken = w.adminToken;
    sup = await api.createUser(adminToken, 'zhao.sup', 'supervisor-pass-1', 'ROLE_SUPERVISOR', ['410882']);
    surv = await api.createUser(adminToken, 'sun.surv', 'surveyor-pass-1', 'ROLE_SURVEYOR', ['410883']);
    phone = await api.enroll(surv.token, 'phone-sun');
  },
});

// Opens the console signed in afresh as user (any earlier session ended) and waits until the
// console shows its first view.
async function signInAs(user) {
  await page.goto(srv.url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(srv.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#login-submit');
  await page.waitForSelector('#login-view', { state: 'hidden' });
}

async function openAccounts() {
  await signInAs(ADMIN);
  await page.click('#nav-accounts');
  await page.waitForSelector('#accounts-view[data-loaded="true"]');
}

const row = (name) => page.locator(`#accounts-list tr.account-row[data-username="${name}"]`);
const fact = (key) => page.locator(`#account-detail tr[data-field="${key}"] td`).textContent();
const user = async (name) => (await api.ok('GET', '/v1/users', { token: adminToken })).users.find((u) => u.username === name);

async function pick(name) {
  await row(name).click();
  await page.waitForSelector(`#account-detail h3[data-username="${name}"]`);
  await page.waitForSelector('#account-detail .account-tokens, #account-detail h4 + p.muted');
}

ui('an admin lists and filters the accounts in Chinese', async () => {
  await openAccounts();
  assert.equal(await page.textContent('#accounts-view h2'), '账户管理');
  for (const name of ['admin', 'zhao.sup', 'sun.surv']) assert.equal(await row(name).count(), 1, name);
  assert.match(await row('zhao.sup').textContent(), /审核人员.*沁阳市.*启用/);
  await page.selectOption('#accounts-role', 'ROLE_SURVEYOR');
  assert.deepEqual(await page.locator('#accounts-list tr.account-row').evaluateAll((r) => r.map((x) => x.dataset.username)), ['sun.surv']);
  await page.selectOption('#accounts-role', '');
  await page.selectOption('#accounts-division', '410882');
  assert.deepEqual(await page.locator('#accounts-list tr.account-row').evaluateAll((r) => r.map((x) => x.dataset.username)), ['zhao.sup']);
  await page.selectOption('#accounts-division', '');
  await page.fill('#accounts-q', 'SUN');
  assert.equal(await page.locator('#accounts-list tr.account-row').count(), 1);
  await page.fill('#accounts-q', 'nobody-here');
  assert.equal(await page.textContent('#accounts-list'), '没有符合条件的账户。');
});

ui('creating an account: a duplicate name and a weak password are refused in Chinese, then it is made', async () => {
  await openAccounts();
  await page.click('#accounts-new');
  await page.fill('#account-new-username', 'zhao.sup');
  await page.fill('#account-new-password', 'another-pass-1');
  await page.selectOption('#account-new-role', 'ROLE_SUPERVISOR');
  await page.check('#account-new-divisions input[value="410825"]');
  await page.click('#account-create');
  await page.waitForSelector('#account-form .error');
  assert.equal(await page.textContent('#account-form .error'), '这个用户名已被使用。');
  assert.deepEqual((await user('zhao.sup')).divisions, ['410882'], 'the refusal changed the existing account');

  await page.fill('#account-new-username', 'wang.wen');
  await page.fill('#account-new-password', 'short');
  await page.click('#account-create');
  await page.waitForFunction(() => document.querySelector('#account-form .error')?.textContent === '密码应为 10 到 256 个字符。');
  assert.equal(await user('wang.wen'), undefined, 'a refused account was stored');
  assert.equal(await page.isEnabled('#account-create'), true);

  await page.fill('#account-new-password', 'wen-county-pass-1');
  await page.click('#account-create');
  await page.waitForSelector('#account-detail h3[data-username="wang.wen"]');
  assert.match(await page.textContent('#notice'), /账户“wang\.wen”已创建/);
  const made = await user('wang.wen');
  assert.equal(made.role, 'ROLE_SUPERVISOR');
  assert.deepEqual(made.divisions, ['410825']);
  assert.ok(await api.login('wang.wen', 'wen-county-pass-1'));
});

ui('an admin changes role and divisions, disables, enables and resets a password shown once', async () => {
  const old = await api.login('zhao.sup', 'supervisor-pass-1');
  await openAccounts();
  await pick('zhao.sup');
  await page.check('#account-divisions input[value="410883"]');
  await page.click('#account-save');
  await page.waitForFunction(() => /已修改/.test(document.querySelector('#notice').textContent));
  assert.deepEqual((await user('zhao.sup')).divisions.sort(), ['410882', '410883']);
  assert.match(await fact('divisions'), /沁阳市、孟州市/);
  assert.equal((await api.call('GET', '/v1/review/queue', { token: old })).status, 401, 'the change kept the old sign-in');

  await page.click('#account-toggle');
  await page.waitForFunction(() => /已停用/.test(document.querySelector('#notice').textContent));
  assert.equal((await user('zhao.sup')).disabled, true);
  assert.match(await fact('state'), /已停用/);
  const refused = await api.call('POST', '/v1/auth/login', { body: { username: 'zhao.sup', password: 'supervisor-pass-1' } });
  assert.equal(refused.body.code, 'account_disabled');
  assert.equal(await page.textContent('#account-toggle'), '重新启用');
  await page.click('#account-toggle');
  await page.waitForFunction(() => /重新启用/.test(document.querySelector('#notice').textContent));
  assert.equal(Boolean((await user('zhao.sup')).disabled), false);

  await page.click('#account-reset');
  await page.waitForSelector('#account-onetime');
  const once = await page.textContent('#account-onetime');
  assert.ok(once.length >= 10, once);
  const login = await api.ok('POST', '/v1/auth/login', { body: { username: 'zhao.sup', password: once } });
  assert.equal(login.mustChangePassword, true);
  // Shown once: picking another account and coming back no longer shows it.
  await pick('sun.surv');
  await pick('zhao.sup');
  assert.equal(await page.locator('#account-onetime').count(), 0);
  sup.password = once;
});

ui('disabling the last enabled admin (here the admin\'s own account) is refused in Chinese', async () => {
  await openAccounts();
  await pick('admin');
  await page.click('#account-toggle');
  await page.waitForSelector('#account-error');
  assert.equal(await page.textContent('#account-error'), '这是最后一个启用的管理员账户，请先设置另一个管理员。');
  assert.equal(Boolean((await user('admin')).disabled), false);
});

ui('revoking a sign-in and a phone: that token then answers 401, the phone is marked revoked', async () => {
  const token = await api.login('sun.surv', 'surveyor-pass-1');
  const tokens = (await api.ok('GET', '/v1/users/sun.surv/tokens', { token })).tokens;
  const mine = tokens.find((k) => k.current).id;
  await openAccounts();
  await pick('sun.surv');
  await page.click(`#account-detail tr.token-row[data-id="${mine}"] button.token-revoke`);
  await page.waitForFunction(() => /该登录已注销/.test(document.querySelector('#notice').textContent));
  assert.equal((await api.call('GET', '/v1/users/sun.surv/devices', { token })).status, 401);
  assert.equal(await page.locator(`#account-detail tr.token-row[data-id="${mine}"] button.token-revoke`).count(), 0);

  await page.click(`#account-detail tr.device-row[data-id="${phone.id}"] button.device-revoke`);
  await page.waitForFunction(() => /设备已注销/.test(document.querySelector('#notice').textContent));
  const devices = (await api.ok('GET', '/v1/users/sun.surv/devices', { token: adminToken })).devices;
  assert.equal(devices.find((d) => d.deviceId === phone.id).revoked, true);
  assert.match(await page.textContent(`#account-detail tr.device-row[data-id="${phone.id}"]`), /是/);
});

ui('a supervisor sees no accounts view and the server refuses them the list', async () => {
  const u = await api.createUser(adminToken, 'qian.sup', 'supervisor-pass-2', 'ROLE_SUPERVISOR', ['410882']);
  await signInAs(u);
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal(await page.isVisible('#nav-accounts'), false);
  assert.equal(await page.isVisible('#nav-password'), true);
  assert.equal(await page.isVisible('#accounts-view'), false);
  const r = await api.call('GET', '/v1/users', { token: u.token });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'forbidden_role');
});

ui('a user changes their own password: a wrong current one and a mismatch are refused in Chinese', async () => {
  const u = await api.createUser(adminToken, 'li.sup', 'supervisor-pass-3', 'ROLE_SUPERVISOR', ['410882']);
  await signInAs(u);
  await page.click('#nav-password');
  await page.waitForSelector('#password-view[data-loaded="true"]');
  await page.fill('#password-current', 'not-my-password');
  await page.fill('#password-new', 'a-new-password-1');
  await page.fill('#password-again', 'a-new-password-1');
  await page.click('#password-submit');
  await page.waitForFunction(() => document.querySelector('#password-error').textContent !== '');
  assert.equal(await page.textContent('#password-error'), '当前密码不正确。');
  await page.fill('#password-current', 'supervisor-pass-3');
  await page.fill('#password-again', 'a-new-password-2');
  await page.click('#password-submit');
  assert.equal(await page.textContent('#password-error'), '两次输入的新密码不一致。');
  await page.fill('#password-again', 'a-new-password-1');
  await page.click('#password-submit');
  await page.waitForFunction(() => /密码已修改/.test(document.querySelector('#notice').textContent));
  assert.ok(await api.login('li.sup', 'a-new-password-1'));
  const old = await api.call('POST', '/v1/auth/login', { body: { username: 'li.sup', password: 'supervisor-pass-3' } });
  assert.equal(old.status, 401);
});

ui('after a reset the user must set a new password at sign-in before the console goes on', async () => {
  await signInAs(sup); // its password is the one-time one of the reset above
  await page.waitForSelector('#password-view[data-loaded="true"]');
  assert.match(await page.textContent('#password-intro'), /管理员已重置您的密码/);
  await page.fill('#password-current', sup.password);
  await page.fill('#password-new', 'zhao-new-pass-1');
  await page.fill('#password-again', 'zhao-new-pass-1');
  await page.click('#password-submit');
  await page.waitForSelector('#review-view:not([hidden])');
  assert.equal((await user('zhao.sup')).mustChangePassword ?? false, false);
});

ui('the accounts view fits a 360 px phone', async () => {
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await openAccounts();
    await pick('sun.surv');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `the accounts view scrolls sideways (${wide} px)`);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});
