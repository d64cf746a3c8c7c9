#!/usr/bin/env node
// Screenshots of the main screens for the docs: seeds a fresh demo folder with tools/demo.sh
// (--no-serve: the campaign made through the real API), serves it with outfalld on a free
// loopback port, and photographs the console at 1280 px (in Chinese) and the field app at 360 px
// with headless Chromium, writing PNGs into docs/screenshots/ (or --out DIR). Each is the visible
// window only, so it stays small (the script fails when one passes 200 KB).
//
// Usage: node tools/screenshots.mjs [--out DIR]
// Env: OUTFALLD, OUTFALLCTL (default build/release/...), CHROMIUM (default /usr/bin/chromium).
// Needs what tools/demo.sh needs (curl, jq) and tests/browser's node_modules (make browser-deps).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from '../tests/browser/lib/browser.js';
import { phone } from '../tests/browser/lib/field.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_BYTES = 200 * 1024;
const args = process.argv.slice(2);
const out = resolve(args[0] === '--out' && args[1] ? args[1] : join(ROOT, 'docs/screenshots'));
const outfalld = process.env.OUTFALLD || join(ROOT, 'build/release/outfalld');
const outfallctl = process.env.OUTFALLCTL || join(ROOT, 'build/release/outfallctl');

// Seeds folder data with the demo's campaign; resolves with {username: password}.
async function seed(data) {
  execFileSync(join(ROOT, 'tools/demo.sh'), ['--data', data, '--listen', '127.0.0.1:0', '--no-serve'], {
    cwd: ROOT, env: { ...process.env, OUTFALLD: outfalld, OUTFALLCTL: outfallctl }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const rows = (await readFile(join(data, 'demo/accounts.tsv'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
  return Object.fromEntries(rows.map((r) => [r[0], r[3]]));
}

// Serves folder data; resolves with {url, stop()}.
async function serve(data) {
  const ready = join(data, 'demo/ready-shots');
  const child = spawn(outfalld, ['--data', data, '--listen', '127.0.0.1:0', '--ready-file', ready, '--web', join(ROOT, 'web')],
    { stdio: 'ignore' });
  let addr = '';
  for (let i = 0; i < 300 && !addr; i++) {
    await sleep(100);
    addr = (await readFile(ready, 'utf8').catch(() => '')).trim();
  }
  if (!addr) {
    child.kill('SIGKILL');
    throw new Error('outfalld did not get ready');
  }
  const done = new Promise((res) => child.on('exit', res));
  return { url: 'http://' + addr, stop: async () => { child.kill('SIGTERM'); await done; } };
}

// Writes the visible window of page as name.png into out, and checks its size.
async function shot(page, name) {
  await page.waitForTimeout(600); // fonts, map points, fades
  const path = join(out, name + '.png');
  await page.screenshot({ path, scale: 'css' });
  const { size } = await stat(path);
  if (size > MAX_BYTES) throw new Error(`${name}.png is ${size} bytes (over ${MAX_BYTES})`);
  console.log(`  ${name}.png  ${Math.round(size / 1024)} KB`);
}

async function signIn(page, url, username, password) {
  await page.goto(url + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#login-view', { state: 'hidden' });
}

// Opens the header's view name and waits for its answer.
async function view(page, name) {
  await page.click('#nav-' + name);
  await page.waitForSelector(`#${name}-view:not([hidden])`);
  await page.waitForFunction((n) => document.getElementById(n + '-view').dataset.loaded !== 'loading', name);
}

// Records 沁阳市's self-check plan through the console's form (the demo seeds none), so the view
// shows a plan beside the counties still missing one.
async function selfCheckPlan(page) {
  await page.click('#selfchecks-new');
  await page.selectOption('#selfcheck-division', '410882');
  await page.fill('#selfcheck-planned', '12');
  await page.check('#selfcheck-form input[value="qinhe"]');
  await page.fill('#selfcheck-note', '沁河沿线工业排口全部自查');
  await page.click('#selfcheck-submit');
  await page.waitForSelector('#selfchecks-list tr.selfcheck-row[data-division="410882"]');
}

async function main() {
  await mkdir(out, { recursive: true });
  const data = await mkdtemp(join(tmpdir(), 'outfall-shots-'));
  let srv = null;
  let browser = null;
  let field = null;
  try {
    const pw = await seed(data);
    srv = await serve(data);
    browser = await launch();
    const { page } = browser;
    await page.setViewportSize({ width: 1280, height: 800 });
    console.log(`screenshots of ${srv.url} into ${out}:`);

    await page.goto(srv.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    await shot(page, 'console-login');

    await signIn(page, srv.url, 'city.wang', pw['city.wang']);
    await page.waitForSelector('#queue-pane[data-state="ready"]');
    const item = page.locator('#queue-pane button.item').first();
    if (await item.count()) {
      await item.click();
      await page.waitForTimeout(1200);
    }
    await shot(page, 'console-review');
    await view(page, 'inventory');
    await shot(page, 'console-inventory');
    const open = page.locator('#inventory-view button.open').first();
    if (await open.count()) {
      await open.click();
      await page.waitForSelector('#outfall-view[data-state="ready"]');
      await shot(page, 'console-outfall');
    }
    for (const name of ['progress', 'applications', 'reports', 'plans', 'annual', 'exports', 'zones',
      'draws', 'selfchecks']) {
      if (!await page.locator('#nav-' + name).isVisible()) continue;
      await view(page, name);
      await page.waitForTimeout(800); // lists and maps drawn
      if (name === 'selfchecks') await selfCheckPlan(page);
      await shot(page, 'console-' + name);
    }

    await signIn(page, srv.url, 'ops.admin', pw['ops.admin']);
    await view(page, 'accounts');
    await page.locator('#accounts-list tr.account-row[data-username="qinyang.li"]').click();
    await page.waitForSelector('#account-detail h3[data-username="qinyang.li"]');
    await shot(page, 'console-accounts');

    field = await phone({ url: srv.url });
    await field.page.goto(srv.url + '/field/');
    await field.page.waitForSelector('body[data-ready="true"]');
    await shot(field.page, 'field-login');
    await field.page.fill('#username', 'chen.surveyor');
    await field.page.fill('#password', pw['chen.surveyor']);
    await field.page.click('#login-submit');
    await field.page.waitForSelector('#view[data-loaded="true"]');
    await shot(field.page, 'field-list');
  } finally {
    if (field) await field.close();
    if (browser) await browser.close();
    if (srv) await srv.stop();
    await rm(data, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error('screenshots: ' + (e.stack || e));
  process.exit(1);
});
