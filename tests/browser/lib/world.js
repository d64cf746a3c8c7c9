// One console test file's world: a real server on a free port in a temporary folder, the
// administrator signed in through the API, one headless Chromium page, and an
// `after` that stops both (the folder kept, and named, when a test failed).
import { test, before, after } from 'node:test';
import { startServer, ADMIN_PASSWORD } from './server.js';
import { launch, uiTests } from './browser.js';
import { Api } from './api.js';

// Registers the file's before and after and returns its test maker (see uiTests: a screenshot
// of a failed test, no script errors, no untranslated key matching keys left on the page).
// The server (started with serverArgs) and Chromium start side by side; then seed(w) makes the
// file's accounts and records, with w = {srv, api, adminToken, browser, page, pageErrors}. The
// page is viewport's size (null: launch's own, 1400 × 1000). A file of plain test() calls may
// leave the test maker (and keys) unused.
export function browserWorld({ keys, seed = async () => {}, serverArgs = [], timeout = 60000,
  viewport = { width: 1280, height: 900 } }) {
  const w = { failures: 0 };
  before(async () => {
    const [srv, browser] = await Promise.allSettled([startServer(serverArgs), launch()]);
    w.srv = srv.value;
    w.browser = browser.value;
    if (srv.status === 'rejected') throw srv.reason;
    if (browser.status === 'rejected') throw browser.reason;
    w.page = w.browser.page;
    w.pageErrors = w.browser.pageErrors;
    if (viewport) await w.page.setViewportSize(viewport);
    w.api = new Api(w.srv.url);
    w.adminToken = await w.api.login('admin', ADMIN_PASSWORD);
    await seed(w);
  });
  after(async () => {
    if (w.browser) await w.browser.close();
    if (w.srv) {
      if (w.failures) console.log(`# kept ${w.srv.root} (server.log, screenshots of failed tests)`);
      await w.srv.stop(w.failures > 0);
    }
  });
  return uiTests(test, () => ({ page: w.page, pageErrors: w.pageErrors, root: w.srv.root }), keys,
    { timeout, failed: () => w.failures++ });
}
