// The error-code catalogue (web/errors.js) against the server's C sources: every code the server
// can emit is catalogued with the statuses it is emitted with, every catalogued code is emitted,
// each has Chinese and English text, and docs/errors.md's table is what tools/errors_doc.mjs writes.
// (No browser needed: it reads files.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/server.js';
import { emittedCodes } from './lib/emitted.js';
import { ERRORS } from '../../web/errors.js';
import { DOC, expectedDoc } from '../../tools/errors_doc.mjs';

const { codes, unread } = emittedCodes(ROOT);
const sorted = (list) => [...list].sort((a, b) => (a === null ? -1 : b === null ? 1 : a - b));

test('every call that carries an error code is one the test can read', () => {
  assert.deepEqual(unread, [], 'add a rule to tests/browser/lib/emitted.js for these calls');
  assert.ok(codes.size > 100, `only ${codes.size} codes found: the reading of the sources broke`);
});

test('every code the server can emit is in the catalogue', () => {
  const missing = [...codes.keys()].filter((c) => !(c in ERRORS)).sort();
  assert.deepEqual(missing, [], 'add these codes to web/errors.js (then node tools/errors_doc.mjs)');
});

test('every code in the catalogue is emitted somewhere', () => {
  const unused = Object.keys(ERRORS).filter((c) => !codes.has(c)).sort();
  assert.deepEqual(unused, [], 'no C source emits these codes: remove them from web/errors.js');
});

test("each code's status in the catalogue is the status its calls answer it with", () => {
  const wrong = [];
  for (const [code, fixed] of codes) {
    const e = ERRORS[code];
    if (!e) continue;
    const want = fixed.size ? sorted(fixed) : [null];
    const got = sorted([e.status, ...(e.also || [])]);
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${code}: catalogue ${got}, sources ${want}`);
  }
  assert.deepEqual(wrong, []);
});

test('each entry has a status and a Chinese and an English text', () => {
  for (const [code, e] of Object.entries(ERRORS)) {
    assert.deepEqual(Object.keys(e).filter((k) => !['status', 'also', 'zh', 'en'].includes(k)), [], code);
    assert.ok(e.status === null || (Number.isInteger(e.status) && (e.status === 0 || (e.status >= 300 && e.status < 600))), code);
    for (const s of e.also || []) assert.ok(Number.isInteger(s) && s !== e.status, `${code}: also ${s}`);
    assert.equal(typeof e.zh, 'string', code);
    assert.match(e.zh, /[\u4e00-\u9fff]/, `${code}: zh has no Chinese`);
    assert.equal(typeof e.en, 'string', code);
    assert.match(e.en, /^[A-Z].*[a-z]{3}/, `${code}: en`);
  }
});

test('an allocation failure has one code: out_of_memory', () => {
  const other = [];
  for (const dir of ['server', 'sync', 'common', 'programme']) {
    if (!existsSync(join(ROOT, dir))) continue;
    for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.c'))) {
      const text = readFileSync(join(ROOT, dir, f), 'utf8');
      for (const m of text.matchAll(/"([a-z_]+)",\s*"out of memory/g))
        if (m[1] !== 'out_of_memory') other.push(`${dir}/${f}: ${m[1]}`);
    }
  }
  assert.deepEqual(other, []);
});

test("docs/errors.md's table is the one tools/errors_doc.mjs writes from the catalogue", () => {
  const current = readFileSync(DOC, 'utf8');
  assert.equal(current, expectedDoc(current), 'run node tools/errors_doc.mjs and commit docs/errors.md');
});

// The web apps as the server serves them (/web/..., /field/...), so that the field app's imports
// ("../web/words.js") resolve in node too; the modules read localStorage and document lazily.
function servedApps() {
  const dir = mkdtempSync(join(tmpdir(), 'errors-'));
  cpSync(join(ROOT, 'web'), join(dir, 'web'), { recursive: true });
  cpSync(join(ROOT, 'web/field'), join(dir, 'field'), { recursive: true });
  const store = new Map();
  globalThis.localStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  globalThis.document = { documentElement: {} };
  return dir;
}

test('both apps word a server code from the catalogue, Chinese by default', async () => {
  const dir = servedApps();
  try {
    const apps = [await import(join(dir, 'web/i18n.js')), await import(join(dir, 'field/i18n.js'))];
    for (const { errorText, setLang } of apps) {
      assert.equal(errorText({ status: 409, code: 'merged', message: 'm' }), ERRORS.merged.zh);
      assert.equal(errorText({ status: 429, code: 'rate_limited', message: 'm' }), ERRORS.rate_limited.zh);
      setLang('en');
      assert.equal(errorText({ status: 409, code: 'merged', message: 'm' }), ERRORS.merged.en);
      setLang('zh');
    }
    const [consoleApp, fieldApp] = apps;
    // The console's own words stay its own; a code that is not the server's shows its message.
    assert.equal(consoleApp.errorText({ status: 409, code: 'inspection.not_open' }), consoleApp.t('code.inspection.not_open'));
    assert.equal(consoleApp.errorText({ status: 0, code: 'network', message: 'offline' }), 'offline');
    assert.equal(consoleApp.errorText({ status: 400, code: 'no_such_code', message: 'odd' }), 'odd');
    // The phone keeps its words for what it does itself and for a server fault.
    assert.equal(fieldApp.errorText({ status: 413, code: 'body_too_large' }), fieldApp.t('code.body_too_large'));
    assert.equal(fieldApp.errorText({ status: 500, code: 'internal' }), fieldApp.t('err.server', { status: 500 }));
    assert.match(fieldApp.errorText({ status: 400, code: 'no_such_code', message: 'odd' }), /odd \(no_such_code\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
