// Starts the real outfalld (env OUTFALLD, default build/asan/outfalld) on a free loopback port
// with a fresh temporary data folder and the repository's web/ folder, and stops it again.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ADMIN_PASSWORD = 'admin-browser-password-4711';

// Resolves with {url, root, stop(keep)} once the server wrote its ready file. root is the
// temporary folder (data/, ready, server.log, and screenshots of failed tests). Passwords are
// hashed at argon2id's least cost (--password-hash-minimum 1, for tests only): no browser test
// times a login. opts.data: the server's data folder (default: `data` in a fresh folder), e.g. a
// restored copy.
export async function startServer(extraArgs = [], opts = {}) {
  const bin = process.env.OUTFALLD || join(ROOT, 'build/asan/outfalld');
  const root = await mkdtemp(join(tmpdir(), 'outfall-browser-'));
  const ready = join(root, 'ready');
  const logPath = join(root, 'server.log');
  const log = openSync(logPath, 'a');
  const child = spawn(bin, ['--data', opts.data || join(root, 'data'), '--listen', '127.0.0.1:0', '--ready-file', ready,
    '--web', join(ROOT, 'web'), '--password-hash-minimum', '1', ...extraArgs], {
    env: { ...process.env, OUTFALL_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = null;
  const done = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; res(exited); }));
  child.on('error', (e) => { exited = { code: -1, signal: String(e) }; });
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);
  const tail = () => { try { return readFileSync(logPath, 'utf8').slice(-3000); } catch (_) { return ''; } };

  let addr = '';
  for (let i = 0; i < 200 && !addr && !exited; i++) {
    await sleep(100);
    addr = (await readFile(ready, 'utf8').catch(() => '')).trim();
  }
  if (!addr) {
    child.kill('SIGKILL');
    await done;
    throw new Error(`outfalld (${bin}) did not get ready: ${JSON.stringify(exited)}\n${tail()}`);
  }

  // SIGTERM, up to 10 s, then SIGKILL. Rejects when the server did not exit 0 (a sanitizer
  // report, a crash). The folder is removed unless keep is true.
  async function stop(keep) {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    const ok = exited.code === 0;
    if (!keep && ok) await rm(root, { recursive: true, force: true });
    if (!ok) throw new Error(`outfalld exited with ${JSON.stringify(exited)}; log in ${logPath}:\n${tail()}`);
  }

  return { url: `http://${addr}`, root, stop };
}

// Takes outfall id of the server srv as first seen when the programme started (2023-01-01, China
// Standard Time), so a test may date its lifecycle in the past (the server then needs
// --backdate-days wide enough). Written straight into the test's own database with Debian's
// sqlite3, as tests/lib's th_first_seen_at_start does: a test's set-up, not an API.
export function firstSeenAtStart(srv, id) {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not an outfall id: ${id}`);
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(srv.root, 'data', 'outfall.db'),
    `UPDATE outfalls SET created_at_ms = 1672502400000 WHERE id = '${id}'`]);
}

// Moves draw id of the server srv into the past: made yesterday and due yesterday, so its
// deadline has passed (as tests/api/test_plan_roles.c does). Test set-up, straight into the
// test's own database.
export function drawDueYesterday(srv, id) {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a draw id: ${id}`);
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(srv.root, 'data', 'outfall.db'),
    "UPDATE inspection_draws SET drawn_at_ms = drawn_at_ms - 86400000, doc = json_set(doc, " +
    "'$.deadline', date('now', '+8 hours', '-1 day'), '$.drawnAtMs', drawn_at_ms - 86400000) " +
    `WHERE id = '${id}'`]);
}
