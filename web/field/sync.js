// Sync: photos up (tus, resumable), batches up (consecutive device_seq, signed, each sealed and
// kept before it is sent so a lost answer is answered by sending it again unchanged), the feed
// down (paged from the kept cursor). Every step commits what it learnt before the next request,
// so a sync cut off anywhere goes on from there next time, with nothing sent twice as new.
import { call, ApiError } from './net.js';
import { signBase64, uuid } from './keys.js';
import { req } from './db.js';

export const BATCH_MAX = 200;      // changes per batch
export const PULL_LIMIT = 500;     // feed entries per page
export const CHUNK = 512 * 1024;   // bytes per tus PATCH
const TUS = { 'Tus-Resumable': '1.0.0' };

// What a change's result status leaves it as in the outbox.
const STATE_OF = {
  CHANGE_STATUS_APPLIED: 'done', CHANGE_STATUS_MERGED: 'done', CHANGE_STATUS_ALREADY_APPLIED: 'done',
  CHANGE_STATUS_CONFLICT: 'conflict', CHANGE_STATUS_DUPLICATE_SUSPECT: 'duplicate',
  CHANGE_STATUS_REJECTED: 'rejected', CHANGE_STATUS_HELD: 'held',
};

// Puts record into store unless the phone already has a newer version of it (a batch sent again
// after a lost answer brings the feed page of its old cursor).
async function putNewer(store, record) {
  const had = await req(store.get(record.id));
  if (!had || Number(had.version || 0) <= Number(record.version || 0)) store.put(record);
}

// Puts a page of feed entries into the local copy and moves the cursor forward, in one
// transaction.
async function applyFeed(db, entries, nextCursor) {
  await db.write(['outfalls', 'observations', 'kv'], async (s) => {
    for (const e of entries || []) {
      if (e.outfall) await putNewer(s.outfalls, e.outfall);
      else if (e.observation) await putNewer(s.observations, e.observation);
      else if (e.redirect && e.redirect.fromId) {
        s.outfalls.delete(e.redirect.fromId);
        s.kv.put(e.redirect.toId, 'redirect:' + e.redirect.fromId);
      }
    }
    const cursor = Number((await req(s.kv.get('cursor'))) || 0);
    if (nextCursor !== undefined && nextCursor !== null && Number(nextCursor) > cursor) s.kv.put(String(nextCursor), 'cursor');
  });
}

// Pulls the feed of the user's divisions from the kept cursor until the server has no more;
// progress(n) after each page. Resolves with the entries pulled.
export async function pullFeed(db, progress) {
  let n = 0;
  for (;;) {
    const since = (await db.kv('cursor')) || '0';
    const page = await call('GET', `/v1/changes?since=${encodeURIComponent(since)}&limit=${PULL_LIMIT}`);
    const feed = page.feed || [];
    await applyFeed(db, feed, page.nextCursor);
    n += feed.length;
    if (progress) progress(n);
    if (!page.more || feed.length === 0) return n;
  }
}

// Marks which of the phone's photos the server holds from us, and uploads the others with tus;
// progress({hash, sent, size, done, total}) as bytes go. A photo refused for good (too large,
// not an image) is marked so, with the server's code, and not tried again.
export async function uploadPhotos(db, progress) {
  const photos = (await db.all('photos')).filter((p) => !p.uploaded && !p.refused && p.blob);
  if (photos.length === 0) return 0;
  const missing = new Set();
  for (let i = 0; i < photos.length; i += 1000) {
    const part = photos.slice(i, i + 1000).map((p) => p.hash);
    const r = await call('POST', '/v1/photos/missing', { body: { hashes: part } });
    for (const h of r.hashes || []) missing.add(h);
  }
  let doneCount = 0;
  for (const p of photos) {
    if (missing.has(p.hash)) {
      try {
        await tusUpload(p, (sent) => progress && progress({ hash: p.hash, sent, size: p.size, done: doneCount, total: photos.length }));
      } catch (e) {
        if (e instanceof ApiError && (e.status === 413 || e.status === 415 || e.code === 'truncated_image' || e.code === 'digest_mismatch')) {
          await db.write('photos', (s) => { s.photos.put({ ...p, refused: e.code, refusedMessage: e.message }); });
          continue;
        }
        throw e;
      }
    }
    await db.write('photos', async (s) => {
      const now = await req(s.photos.get(p.hash));
      if (now) s.photos.put({ ...now, uploaded: true });
    });
    doneCount++;
    if (progress) progress({ hash: p.hash, sent: p.size, size: p.size, done: doneCount, total: photos.length });
  }
  return doneCount;
}

// Uploads photo {hash, blob, size} with tus 1.0: asks the offset the server kept of our upload
// (HEAD), creates the upload when there is none (POST), then PATCHes the rest in pieces.
async function tusUpload(p, progress) {
  const path = `/v1/photos/${p.hash}`;
  let offset = 0;
  const head = await call('HEAD', path, { headers: TUS, raw: true });
  if (head.status === 200 || head.status === 204) {
    offset = Number(head.headers.get('Upload-Offset') || 0);
  } else if (head.status === 404) {
    await call('POST', path, { headers: { ...TUS, 'Upload-Length': String(p.size) }, body: '' });
  } else {
    throw new ApiError(head.status, 'http_' + head.status, head.statusText);
  }
  progress(offset);
  while (offset < p.size) {
    const piece = p.blob.slice(offset, Math.min(p.size, offset + CHUNK));
    const res = await call('PATCH', path, {
      headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: piece, raw: true, timeoutMs: 120000,
    });
    if (res.status === 409) { // the server kept another offset (a piece cut off): ask again
      const again = await call('HEAD', path, { headers: TUS, raw: true });
      offset = Number(again.headers.get('Upload-Offset') || 0);
      continue;
    }
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch (_) { /* no body */ }
      throw new ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
    }
    offset = Number(res.headers.get('Upload-Offset') || offset + piece.size);
    progress(offset);
  }
}

// The change as the contract's JSON.
export function changeJson(c) {
  const j = { changeId: c.change_id, entityId: c.entity_id, baseVersion: String(c.base_version || 0), clientTimeMs: String(c.client_time_ms) };
  j[c.kind] = c.fields;
  return j;
}

// Seals the next batch: up to BATCH_MAX queued changes in order under the device's next
// device_seq, kept with its exact body before anything is sent. Resolves with the batch, or
// null when nothing waits. max: fewer changes (after a 413).
async function seal(db, max) {
  return db.write(['outbox', 'batches', 'kv'], async (s) => {
    const device = await req(s.kv.get('device'));
    const all = await req(s.outbox.getAll());
    const queued = all.filter((c) => c.state === 'queued').slice(0, max || BATCH_MAX);
    if (queued.length === 0) return null;
    const since = (await req(s.kv.get('cursor'))) || '0';
    const batchId = uuid();
    const batch = {
      device_seq: device.nextSeq, batch_id: batchId, change_ids: queued.map((c) => c.change_id), state: 'sealed',
      body: JSON.stringify({
        batchId, deviceId: device.id, deviceSeq: String(device.nextSeq), since: String(since),
        changes: queued.map(changeJson), pullLimit: PULL_LIMIT,
      }),
    };
    s.batches.put(batch);
    for (const c of queued) s.outbox.put({ ...c, state: 'sealed', batch_seq: device.nextSeq });
    s.kv.put({ ...device, nextSeq: device.nextSeq + 1 }, 'device');
    return batch;
  });
}

// Undoes a seal the server never processed (413): the changes wait again, the number is free.
async function unseal(db, batch) {
  await db.write(['outbox', 'batches', 'kv'], async (s) => {
    const device = await req(s.kv.get('device'));
    for (const id of batch.change_ids) {
      const c = await req(s.outbox.index('change_id').get(id));
      if (c) s.outbox.put({ ...c, state: 'queued', batch_seq: undefined });
    }
    s.batches.delete(batch.device_seq);
    if (device.nextSeq === batch.device_seq + 1) s.kv.put({ ...device, nextSeq: batch.device_seq }, 'device');
  });
}

// Sends batch as sealed and records each change's result; resolves with the answer.
async function send(db, key, batch) {
  const bytes = new TextEncoder().encode(batch.body);
  const sig = await signBase64(key, bytes);
  const answer = await call('POST', '/v1/sync', {
    body: batch.body, headers: { 'Content-Type': 'application/json', 'X-Device-Signature': sig }, timeoutMs: 120000,
  });
  const results = new Map((answer.results || []).map((r) => [r.changeId, r]));
  await db.write(['outbox', 'batches', 'photos'], async (s) => {
    for (const id of batch.change_ids) {
      const c = await req(s.outbox.index('change_id').get(id));
      const r = results.get(id);
      if (c && r) s.outbox.put({ ...c, state: STATE_OF[r.status] || 'done', result: r });
    }
    for (const h of answer.missingPhotos || []) {
      const p = await req(s.photos.get(h));
      if (p && p.blob) s.photos.put({ ...p, uploaded: false });
    }
    s.batches.put({ ...batch, state: 'answered', answered_ms: Date.now() });
  });
  await applyFeed(db, answer.feed, answer.nextCursor);
  return answer;
}

// Sends every batch: first those sealed but never answered (again, unchanged), then new ones
// until the outbox is empty. progress({sent, total}) in changes.
export async function sendBatches(db, key, progress) {
  let sent = 0;
  const total = (await db.all('outbox')).filter((c) => c.state === 'queued' || c.state === 'sealed').length;
  const waiting = (await db.all('batches')).filter((b) => b.state === 'sealed').sort((a, b) => a.device_seq - b.device_seq);
  for (const b of waiting) {
    await send(db, key, b);
    sent += b.change_ids.length;
    if (progress) progress({ sent, total });
  }
  let max = BATCH_MAX;
  for (;;) {
    const b = await seal(db, max);
    if (!b) return sent;
    try {
      await send(db, key, b);
    } catch (e) {
      if (e instanceof ApiError && e.status === 413 && b.change_ids.length > 1) {
        await unseal(db, b);
        max = Math.max(1, Math.floor(b.change_ids.length / 2));
        continue;
      }
      throw e;
    }
    sent += b.change_ids.length;
    if (progress) progress({ sent, total });
  }
}

// Frees the phone's space: the original bytes of a photo go once the server holds them from us
// and no change naming it waits to be sent; the thumbnail stays.
export async function prunePhotos(db) {
  const waiting = new Set();
  for (const c of await db.all('outbox')) {
    if (c.state === 'done' || c.state === 'corrected') continue;
    for (const p of (c.fields && c.fields.photos) || []) waiting.add(p.hash);
  }
  await db.write('photos', async (s) => {
    for (const p of await req(s.photos.getAll())) {
      if (p.blob && p.uploaded && !waiting.has(p.hash)) s.photos.put({ ...p, blob: null, pruned_ms: Date.now() });
    }
  });
}

// Inspection tasks (双随机 picks assigned to this account), replacing the kept list.
export async function pullTasks(db) {
  const r = await call('GET', '/v1/inspections/tasks');
  await db.write('tasks', (s) => {
    s.tasks.clear();
    for (const t of r.tasks || []) s.tasks.put({ ...t, key: `${t.drawId}/${t.outfallId}` });
  });
  return (r.tasks || []).length;
}
