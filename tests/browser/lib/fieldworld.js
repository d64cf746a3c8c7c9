// What every field-app test file shares: a real server with a surveyor and a supervisor of 沁阳市
// (410882), a phone per test (a fresh Chromium profile, a screenshot kept when it fails), and
// what a surveyor or supervisor does often.
import { test, before, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startServer, ADMIN_PASSWORD } from './server.js';
import { Api } from './api.js';
import { phone, fieldSignIn, tab, assertNoErrors, PHOTOS } from './field.js';

// Registers the file's server and returns the helpers; give(w) hands the test file {srv, api,
// admin, surveyor, supervisor} once they exist.
export function fieldWorld(give) {
  const w = { failed: 0 };
  before(async () => {
    w.srv = await startServer();
    w.api = new Api(w.srv.url);
    w.admin = await w.api.login('admin', ADMIN_PASSWORD);
    w.surveyor = await w.api.createUser(w.admin, 'wang.field', 'wang-field-password-1', 'ROLE_SURVEYOR', ['410882']);
    w.supervisor = await w.api.createUser(w.admin, 'li.review', 'li-review-password-1', 'ROLE_SUPERVISOR', ['410882']);
    give(w);
  });
  after(async () => {
    if (w.srv) await w.srv.stop(w.failed > 0);
  });

  // A test on a fresh phone that keeps a screenshot in the server's folder when it fails.
  function phoneTest(name, fn, opts = {}) {
    test(name, { timeout: 90000 }, async () => {
      const p = await phone({ url: w.srv.url, ...opts });
      try {
        await fn(p);
        assertNoErrors(p.pageErrors);
      } catch (e) {
        w.failed++;
        const shot = join(w.srv.root, name.replace(/[^\w-]+/g, '_') + '.png');
        await p.page.screenshot({ path: shot, fullPage: true }).catch(() => {});
        console.log(`# screenshot: ${shot}`);
        throw e;
      } finally {
        await p.close();
      }
    });
  }

  // Fills the new-outfall form at the emulated position: river, county, type, name, photos and
  // an observation. Resolves once it is saved (the outfall's page shows).
  async function newOutfall(page, name, photos = ['qinhe-outfall-a-1.jpg', 'qinhe-outfall-a-2.jpg']) {
    await tab(page, 'new');
    await page.waitForSelector('#pos-chosen.ok');
    await page.selectOption('#river', 'qinhe');
    await page.selectOption('#division', '410882');
    await page.selectOption('#type', 'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED');
    await page.fill('#name', name);
    await page.fill('#landmark', '沁河大桥下游 200 米左岸');
    await page.selectOption('#photo-kind', 'PHOTO_KIND_NEAR');
    await page.setInputFiles('#photo-input', photos.map((f) => join(PHOTOS, f)));
    await page.waitForFunction((n) => document.querySelectorAll('#photo-list li').length === n, photos.length);
    await page.selectOption('#o-flowing', 'true');
    await page.fill('#o-colour', '灰黑色');
    await page.fill('#o-notes', '晴天仍有排水');
    await page.click('#save-new');
    // Earlier tests left outfalls at this spot: the duplicate question comes first, and it is new.
    await page.waitForSelector('#add-observation, #duplicate-dialog');
    if (await page.isVisible('#duplicate-dialog')) await page.click('#dup-new');
    await page.waitForSelector('#add-observation');
  }

  // Signs in as the surveyor and saves one new outfall (online, before any sync of it); resolves
  // with its id.
  async function phoneWithOutfall(page, name, photos) {
    await fieldSignIn(page, w.srv.url, w.surveyor);
    await newOutfall(page, name, photos);
    return decodeURIComponent(page.url().split('#o/')[1]);
  }

  // The server's outfalls of that name, as the supervisor sees them.
  async function outfallsNamed(name) {
    const list = await w.api.ok('GET', '/v1/outfalls?limit=1000', { token: w.supervisor.token });
    return (list.outfalls || []).filter((o) => o.name === name);
  }

  // A supervisor's decision on an outfall record.
  function decide(kind, outfallId, baseVersion, comment) {
    return w.api.ok('POST', '/v1/review/decisions', { token: w.supervisor.token, body: {
      decisionId: randomUUID(), kind, outfallId, baseVersion: String(baseVersion), comment } });
  }

  return { phoneTest, newOutfall, phoneWithOutfall, outfallsNamed, decide, fail: () => { w.failed++; } };
}
