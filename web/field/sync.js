// Sync: photos up (tus, resumable), batches up (consecutive device_seq, signed, each sealed and
// kept before it is sent so a lost answer is answered by sending it again unchanged), the feed
// down (paged from the kept cursor). Every step commits what it learnt before the next request,
// so a sync cut off anywhere goes on from there next time, with nothing sent twice as new. An
// answered batch that no off-machine backup of the server holds yet is kept, exactly as signed,
// until one does, and sent again if the server was restored from a backup (issue 22).
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

// What an answer says of the server's backups (issue 22, docs/sync.md "Kept until durable"): the
// batch's number in the server's acknowledgement sequence (a replay: the sequence's end), the
// highest number a confirmed off-machine backup holds (null: no backup is configured), and the
// database's epoch (a new one: it was restored from a backup).
function horizonOf(answer) {
  const num = (v) => (v === undefined || v === null || v === '' ? null : Number(v));
  return { ack: num(answer.acknowledgedSeq), durable: num(answer.durableSeq), epoch: answer.storeEpoch || null };
}

// Kept batches' bodies are bounded: past this many bytes (or when the phone's storage is full) an
// answered batch is not kept, as without a backup, and counted in kv `keptRefused` {n, ack, epoch}
// until a backup holds it.
export const KEPT_MAX_BYTES = 20 * 1048576;

// Counts, in transaction s, an acknowledged batch not kept: horizon h is its answer's.
async function countRefused(s, h) {
  const was = (await req(s.kv.get('keptRefused'))) || { n: 0, ack: 0 };
  s.kv.put({ n: was.n + 1, ack: Math.max(was.ack, h.ack || 0), epoch: h.epoch }, 'keptRefused');
}

// Keeps, in the answer's transaction s, what the answer says of the server's backups: batch is
// kept when every change of it was acknowledged and no confirmed backup holds it yet, else
// dropped; kept batches of this epoch that a backup now holds are dropped, and all of this epoch
// when no backup is configured (those of another epoch wait to be sent again); a new epoch
// pulls the restored feed from 0. room: false when the phone's storage is full (the batch is
// counted, not kept). Resolves with true when the epoch changed.
async function keepUntilDurable(s, batch, sig, answer, results, room) {
  const h = horizonOf(answer);
  const acked = h.ack !== null && batch.change_ids.every((id) => results.has(id));
  const was = await req(s.kv.get('storeEpoch'));
  const changed = !!(was && h.epoch && was !== h.epoch);
  const kept = await req(s.kept.getAll());
  // A replay is answered the sequence's end: a batch kept under this epoch keeps its own number.
  const prior = kept.find((k) => k.device_seq === batch.device_seq && k.epoch === h.epoch);
  const ack = prior && h.ack !== null ? Math.min(prior.acknowledged_seq, h.ack) : h.ack;
  for (const k of kept) {
    if (k.epoch === h.epoch && (h.durable === null || k.acknowledged_seq <= h.durable)) s.kept.delete(k.device_seq);
  }
  s.kept.delete(batch.device_seq);
  if (acked && h.durable !== null && h.durable < ack) {
    const bytes = kept.filter((k) => k.device_seq !== batch.device_seq).reduce((a, k) => a + k.body.length, 0);
    if (room && bytes + batch.body.length <= KEPT_MAX_BYTES) {
      s.kept.put({ device_seq: batch.device_seq, batch_id: batch.batch_id, body: batch.body, sig, change_ids: batch.change_ids,
        acknowledged_seq: ack, epoch: h.epoch, kept_ms: prior ? prior.kept_ms : Date.now() });
    } else {
      await countRefused(s, { ...h, ack });
    }
  }
  const refused = await req(s.kv.get('keptRefused'));
  if (refused && (h.durable === null || (refused.epoch === h.epoch && h.durable >= refused.ack))) s.kv.delete('keptRefused');
  if (h.epoch) s.kv.put(h.epoch, 'storeEpoch');
  if (changed) s.kv.put('0', 'cursor'); // the restored feed numbers from the backup's end: pull it all
  return changed;
}

// Sends batch as sealed (or as kept: its signature kept with it) and records each change's result
// and what the answer says of the server's backups; resolves with the answer.
async function send(db, key, batch) {
  const bytes = new TextEncoder().encode(batch.body);
  const sig = batch.sig || await signBase64(key, bytes);
  const answer = await call('POST', '/v1/sync', {
    body: batch.body, headers: { 'Content-Type': 'application/json', 'X-Device-Signature': sig }, timeoutMs: 120000,
  });
  const results = new Map((answer.results || []).map((r) => [r.changeId, r]));
  const write = async (s, room) => {
    for (const id of batch.change_ids) {
      const c = await req(s.outbox.index('change_id').get(id));
      const r = results.get(id);
      if (c && r && c.state !== 'corrected') s.outbox.put({ ...c, state: STATE_OF[r.status] || 'done', result: r });
    }
    for (const h of answer.missingPhotos || []) {
      const p = await req(s.photos.get(h));
      if (p && p.blob) s.photos.put({ ...p, uploaded: false });
    }
    s.batches.delete(batch.device_seq);
    return keepUntilDurable(s, batch, sig, answer, results, room);
  };
  const stores = ['outbox', 'batches', 'photos', 'kept', 'kv'];
  try {
    answer.epochChanged = await db.write(stores, (s) => write(s, true));
  } catch (e) {
    // A full disk: the answer is recorded all the same, without keeping the batch (counted).
    if (!(e && e.code === 'storage_full')) throw e;
    answer.epochChanged = await db.write(stores, (s) => write(s, false));
  }
  // The answer's feed page starts at the body's `since`: it moves the cursor only when it starts
  // at or before it (a batch sealed before a restore names a mark the restored feed never had).
  const since = Number(JSON.parse(batch.body).since || 0);
  const cursor = Number((await db.kv('cursor')) || 0);
  await applyFeed(db, answer.feed, since <= cursor ? answer.nextCursor : undefined);
  return answer;
}

// The kept batches, oldest first.
async function keptBatches(db) {
  return (await db.all('kept')).sort((a, b) => a.device_seq - b.device_seq);
}

// Sends again, in device_seq order and exactly as signed, every kept batch of another epoch than
// the server's (it was restored from a backup that may lack them; a batch it holds is answered
// its first answer). progress({resend, total}) before each. Resolves with the number sent.
async function resendKept(db, key, progress) {
  const epoch = await db.kv('storeEpoch');
  const stale = (await keptBatches(db)).filter((k) => k.epoch !== epoch);
  let n = 0;
  for (const k of stale) {
    if (progress) progress({ resend: stale.length - n, total: stale.length });
    await send(db, key, k);
    n++;
  }
  return n;
}

// Sends every batch: first the oldest kept one again (its answer says whether the server was
// restored and how far its backups reach) and, after a restore, every other kept batch; then
// those sealed but never answered (again, unchanged), then new ones until the outbox is empty.
// progress({sent, total}) in changes, or {resend, total} in batches while kept ones go again.
export async function sendBatches(db, key, progress) {
  let sent = 0;
  const kept = await keptBatches(db);
  if (kept.length > 0) {
    await send(db, key, kept[0]);
    await resendKept(db, key, progress);
  }
  const total = (await db.all('outbox')).filter((c) => c.state === 'queued' || c.state === 'sealed').length;
  const waiting = (await db.all('batches')).filter((b) => b.state === 'sealed').sort((a, b) => a.device_seq - b.device_seq);
  for (const b of waiting) {
    if ((await send(db, key, b)).epochChanged) await resendKept(db, key, progress);
    sent += b.change_ids.length;
    if (progress) progress({ sent, total });
  }
  let max = BATCH_MAX;
  for (;;) {
    const b = await seal(db, max);
    if (!b) return sent;
    try {
      if ((await send(db, key, b)).epochChanged) await resendKept(db, key, progress);
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
// and no change naming it waits to be sent or is in a kept batch (a restored server may lack the
// photo as well); the thumbnail stays.
export async function prunePhotos(db) {
  const waiting = new Set();
  const kept = new Set((await db.all('kept')).flatMap((k) => k.change_ids));
  for (const c of await db.all('outbox')) {
    if ((c.state === 'done' || c.state === 'corrected') && !kept.has(c.change_id)) continue;
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
