// Photos a second through tus (as the field app uploads: POST to create, PATCH in 512 KiB pieces)
// and through PUT (as `fieldday` does), against the optimised server on a fresh data folder, and
// the disk each stored photo takes. A figure for docs/scaling.md, not a test.
//
//   node bench/photos_tus.mjs [--photos N] [--clients C] [--outfalld PATH]
//
// The data folder's growth (du -sb, before and after) includes the database's rows and WAL.
// N unique photos (default 200) are made from the whole JPEG fixtures of tests/fixtures/photos,
// each with a JPEG COM segment naming it placed after the APPn segments (EXIF still reads), and
// hashed with BLAKE2b-256 before the clock starts; C clients (default 8) upload them at once, each
// its share one after the other, first all by tus, then (on a second fresh server) all by PUT.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { blake2b } from '../web/field/vendor/blake2.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PASSWORD = 'bench-admin-password-4711';
const CHUNK = 512 * 1024;
const FIXTURES = ['qinhe-outfall-a-1.jpg', 'qinhe-outfall-a-2.jpg', 'no-gps.jpg', 'no-exif.jpg', 'far-from-claimed-site.jpg', 'large-12mp.jpg'];

// The flags: {photos, clients, outfalld}.
function flags(argv) {
  const o = { photos: 200, clients: 8, outfalld: join(ROOT, 'build/release/outfalld') };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--photos') o.photos = Number(v);
    else if (k === '--clients') o.clients = Number(v);
    else if (k === '--outfalld') o.outfalld = v;
    else throw new Error(`unknown flag ${k} (--photos N, --clients C, --outfalld PATH)`);
  }
  return o;
}

// jpeg with a COM segment carrying text after its APPn segments.
function withComment(jpeg, text) {
  let at = 2;
  while (jpeg[at] === 0xff && jpeg[at + 1] >= 0xe0 && jpeg[at + 1] <= 0xef) at += 2 + jpeg.readUInt16BE(at + 2);
  const body = Buffer.from(text);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xfffe, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, at), seg, body, jpeg.subarray(at)]);
}

// Starts outfalld on a fresh folder; resolves with {url, root, pid, stop()}.
async function server(bin) {
  const root = await mkdtemp(join(tmpdir(), 'outfall-photobench-'));
  const child = spawn(bin, ['--data', join(root, 'data'), '--listen', '127.0.0.1:0', '--ready-file', join(root, 'ready')],
    { env: { ...process.env, OUTFALL_ADMIN_PASSWORD: PASSWORD }, stdio: 'ignore' });
  let addr = '';
  for (let i = 0; i < 300 && !addr; i++) {
    await sleep(100);
    addr = (await readFile(join(root, 'ready'), 'utf8').catch(() => '')).trim();
  }
  if (!addr) throw new Error('outfalld did not start');
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((res) => child.on('exit', res));
    await rm(root, { recursive: true, force: true });
  };
  return { url: `http://${addr}`, root, pid: child.pid, stop };
}

// The server's user + system CPU seconds and peak RSS (MB) from /proc.
async function usage(pid) {
  const st = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const hwm = (await readFile(`/proc/${pid}/status`, 'utf8')).match(/VmHWM:\s+(\d+)/)[1];
  return { cpu: (Number(st[11]) + Number(st[12])) / 100, rssMb: Math.round(Number(hwm) / 1024) };
}

async function ok(res) {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res;
}

// Uploads photo {hash, bytes} with tus as the field app does.
async function tus(url, token, p) {
  const path = `${url}/v1/photos/${p.hash}`;
  const auth = { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' };
  await ok(await fetch(path, { method: 'POST', headers: { ...auth, 'Upload-Length': String(p.bytes.length) } }));
  for (let off = 0; off < p.bytes.length; off += CHUNK) {
    await ok(await fetch(path, { method: 'PATCH', headers: { ...auth, 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' },
      body: p.bytes.subarray(off, Math.min(p.bytes.length, off + CHUNK)) }));
  }
}

// Uploads photo {hash, bytes} whole with PUT.
async function put(url, token, p) {
  await ok(await fetch(`${url}/v1/photos/${p.hash}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/jpeg' }, body: p.bytes }));
}

// Runs upload over photos with clients at once on a fresh server; resolves with the figures.
async function phase(o, photos, upload) {
  const srv = await server(o.outfalld);
  try {
    const login = await ok(await fetch(`${srv.url}/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }) }));
    const token = (await login.json()).token;
    const du = () => Number(execFileSync('du', ['-sb', join(srv.root, 'data')]).toString().split('\t')[0]);
    const duBefore = du();
    const before = await usage(srv.pid);
    const load = loadavg()[0];
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: o.clients }, async () => {
      while (next < photos.length) await upload(srv.url, token, photos[next++]);
    }));
    const s = (performance.now() - t0) / 1000;
    const after = await usage(srv.pid);
    const bytes = photos.reduce((a, p) => a + p.bytes.length, 0);
    return { load, s, cpu: after.cpu - before.cpu, rssMb: after.rssMb, bytes, growth: du() - duBefore };
  } finally {
    await srv.stop();
  }
}

async function main() {
  const o = flags(process.argv.slice(2));
  const fixtures = [];
  for (const f of FIXTURES) fixtures.push(await readFile(join(ROOT, 'tests/fixtures/photos', f)));
  const photos = [];
  for (let i = 0; i < o.photos; i++) {
    const bytes = withComment(fixtures[i % fixtures.length], `photobench ${i}`);
    const hash = Buffer.from(blake2b(bytes, { dkLen: 32 })).toString('hex');
    photos.push({ hash, bytes });
  }
  console.log(`# photos: ${o.photos} unique JPEGs (mean ${(photos.reduce((a, p) => a + p.bytes.length, 0) / o.photos / 1e6).toFixed(2)} MB), ${o.clients} clients; ${(await readdir('/sys/devices/system/cpu')).filter((d) => /^cpu\d+$/.test(d)).length} CPUs; ${new Date().toISOString()}`);
  console.log('| upload | load | photos/s | MB/s | server CPU ms a photo | server peak RSS | data folder growth a photo (the photo itself) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, fn] of [['tus (POST + PATCH 512 KiB)', tus], ['PUT', put]]) {
    const r = await phase(o, photos, fn);
    console.log(`| ${name} | ${r.load.toFixed(1)} | ${(o.photos / r.s).toFixed(0)} | ${(r.bytes / 1e6 / r.s).toFixed(0)} | ${(1000 * r.cpu / o.photos).toFixed(1)} | ${r.rssMb} MB | ${Math.round(r.growth / o.photos)} (${Math.round(r.bytes / o.photos)}) |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
