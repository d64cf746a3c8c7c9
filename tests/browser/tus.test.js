// The stock tus client, tus-js-client (pinned in package.json), from Node against the real server,
// given only what docs/api.md tells an integrator: the endpoint, a bearer header and the metadata
// `hash` (the photo's BLAKE2b-256 as 64 hex digits, made here with @noble/hashes, the library the
// docs name). Its defaults send no checksum (so no sha1) and PATCH each chunk; the options a phone
// app turns on (uploadDataDuringCreation, overridePatchMethod, resuming from a stored URL, abort
// with termination) work unchanged. Before issue 21 point 3 the creation's data was dropped, the
// method override ignored and DELETE refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tus from 'tus-js-client';
import { blake2b } from '@noble/hashes/blake2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { startServer, ADMIN_PASSWORD, ROOT } from './lib/server.js';
import { Api } from './lib/api.js';
import { blake2b256 } from './lib/png.js';

let srv, api, surveyor;

// A fresh photo: a fixture's JPEG with random bytes after its end (a new hash, the same picture).
function photo() {
  const jpeg = readFileSync(join(ROOT, 'tests/fixtures/photos/qinhe-outfall-a-1.jpg'));
  const bytes = Buffer.concat([jpeg, randomBytes(16)]);
  const hash = bytesToHex(blake2b(bytes, { dkLen: 32 }));
  assert.equal(hash, blake2b256(bytes)); // the same digest as b2sum -l 256
  return { bytes, hash };
}

// Runs one tus upload of bytes to its end (or to what stop decides) with the stock client: only
// the endpoint, the bearer header and the metadata, plus extra options. Resolves with the
// requests it sent ("METHOD header-of-interest") and the upload.
function upload(bytes, hash, extra = {}, stop = null) {
  const sent = [];
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(bytes, {
      endpoint: `${srv.url}/v1/photos`,
      headers: { Authorization: `Bearer ${surveyor.token}` },
      metadata: { hash },
      retryDelays: null,
      onBeforeRequest: (req) => {
        sent.push({ method: req.getMethod(), offset: req.getHeader('Upload-Offset'),
          override: req.getHeader('X-HTTP-Method-Override') });
      },
      onAfterResponse: (req, res) => {
        sent[sent.length - 1].status = res.getStatus();
        sent[sent.length - 1].answeredOffset = res.getHeader('Upload-Offset');
      },
      onError: reject,
      onSuccess: () => resolve({ sent, u }),
      // (the chunk's size, the bytes the server accepted so far, the total)
      onChunkComplete: (size, done) => {
        if (stop && stop(done)) u.abort(stop.terminate).then(() => resolve({ sent, u, stopped: done }), reject);
      },
      ...extra,
    });
    u.start();
  });
}

// The stored photo's size by GET /v1/photos/{hash}/info (0 when not readable).
async function storedSize(hash) {
  const r = await api.call('GET', `/v1/photos/${hash}/info`, { token: surveyor.token });
  return r.status === 200 ? Number(r.body.size) : 0;
}

before(async () => {
  srv = await startServer();
  api = new Api(srv.url);
  const admin = await api.login('admin', ADMIN_PASSWORD);
  surveyor = await api.createUser(admin, 'tus.surveyor', 'surveyor-pass-21', 'ROLE_SURVEYOR', ['410882']);
});

after(async () => { await srv.stop(); });

test('default options: creation, then one PATCH, no checksum asked; the photo is stored', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const { sent } = await upload(bytes, hash);
  assert.deepEqual(sent.map((s) => `${s.method} ${s.status}`), ['POST 201', 'PATCH 204']);
  assert.equal(await storedSize(hash), bytes.length);
});

test('uploadDataDuringCreation: the whole photo in the creation request', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const { sent } = await upload(bytes, hash, { uploadDataDuringCreation: true });
  assert.deepEqual(sent.map((s) => `${s.method} ${s.status}`), ['POST 201']);
  assert.equal(sent[0].answeredOffset, String(bytes.length));
  assert.equal(await storedSize(hash), bytes.length);
});

test('uploadDataDuringCreation with chunks: the first chunk in the creation, the rest by PATCH', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const { sent } = await upload(bytes, hash, { uploadDataDuringCreation: true, chunkSize: 100000 });
  assert.equal(sent[0].method, 'POST');
  assert.equal(sent[0].answeredOffset, '100000');
  assert.deepEqual(sent.slice(1).map((s) => s.method), ['PATCH', 'PATCH']);
  assert.equal(await storedSize(hash), bytes.length);
});

test('overridePatchMethod: chunks as POST with X-HTTP-Method-Override: PATCH', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const { sent } = await upload(bytes, hash, { overridePatchMethod: true, chunkSize: 100000 });
  assert.deepEqual(sent.map((s) => `${s.method} ${s.override || ''} ${s.status}`),
    ['POST  201', 'POST PATCH 204', 'POST PATCH 204', 'POST PATCH 204']);
  assert.equal(await storedSize(hash), bytes.length);
});

test('resume after an interruption: a new client given the upload URL asks HEAD and goes on from there', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const stop = (done) => done >= 65536;
  const first = await upload(bytes, hash, { chunkSize: 65536 }, stop);
  assert.equal(first.stopped, 65536);
  assert.equal(await storedSize(hash), 0);
  const url = first.u.url;
  assert.equal(url, `${srv.url}/v1/photos/${hash}`);
  const second = await upload(bytes, hash, { uploadUrl: url });
  assert.deepEqual(second.sent.map((s) => `${s.method} ${s.status}`), ['HEAD 200', 'PATCH 204']);
  assert.equal(second.sent[0].answeredOffset, '65536');
  assert.equal(second.sent[1].offset, '65536');
  assert.equal(await storedSize(hash), bytes.length);
});

test('abort with termination: DELETE removes the unfinished upload', { timeout: 60000 }, async () => {
  const { bytes, hash } = photo();
  const stop = (done) => done >= 65536;
  stop.terminate = true;
  const first = await upload(bytes, hash, { chunkSize: 65536 }, stop);
  assert.equal(first.stopped, 65536);
  const head = await api.call('HEAD', `/v1/photos/${hash}`, { token: surveyor.token, headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.status, 404);
  // and the same photo uploads again from the start
  const { sent } = await upload(bytes, hash);
  assert.deepEqual(sent.map((s) => `${s.method} ${s.status}`), ['POST 201', 'PATCH 204']);
  assert.equal(await storedSize(hash), bytes.length);
});
