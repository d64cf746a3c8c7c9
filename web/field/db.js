// The phone's durable state in IndexedDB: one database per user of this server ("outfall-field:
// <username>"), so two surveyors sharing a phone never mix their keys, outboxes or photos, plus a
// small shared one ("outfall-field") for who signed in last. Every write is one transaction that
// either lands whole or not at all; a full disk surfaces as StorageFullError (nothing half-kept).
//
// Stores of a user's database:
//   kv        settings and counters: session, device {id, key, nextSeq}, cursor, clock skew
//   outfalls  the local copy of the feed (server records), by id
//   observations  the same for observations, by id (index outfall_id)
//   outbox    changes made on the phone, by their order n (unique index change_id): {n, change_id,
//             entity_id, kind, base_version, fields, client_time_ms, state, result, photos}
//   batches   sealed batches by device_seq: {device_seq, batch_id, body, change_ids, state}
//   kept      answered batches the server has not yet backed up off its machine, by device_seq:
//             {device_seq, batch_id, body, sig, change_ids, acknowledged_seq, epoch, kept_ms}
//             (issue 22: resent, exactly as signed, when the server was restored from a backup)
//   photos    photos taken on the phone, by hash: {hash, blob, thumb, kind, size, taken_ms,
//             uploaded, server_has}
//   drafts    forms being filled in, by id
//   tasks     inspection tasks (双随机 picks assigned to this account), by draw_id + outfall_id

const VERSION = 2; // a user's database; 2 added `kept`
const SHARED_VERSION = 1;
const SHARED = 'outfall-field';

export class StorageFullError extends Error {
  constructor() {
    super('storage full');
    this.code = 'storage_full';
  }
}

function promised(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function wrap(e) {
  if (e && (e.name === 'QuotaExceededError' || (e.inner && e.inner.name === 'QuotaExceededError'))) {
    return new StorageFullError();
  }
  return e;
}

// Opens database name at version; upgrade(db, oldVersion) makes what an older one lacks.
function open(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = (ev) => upgrade(req.result, ev.oldVersion);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('the database is open in an older version of the app: close its other tabs'));
  });
}

// The shared database: {lang, lastUser}.
let shared = null;
export async function sharedGet(key) {
  shared = shared || await open(SHARED, SHARED_VERSION, (db) => db.createObjectStore('kv'));
  return promised(shared.transaction('kv').objectStore('kv').get(key));
}

export async function sharedPut(key, value) {
  shared = shared || await open(SHARED, SHARED_VERSION, (db) => db.createObjectStore('kv'));
  const tx = shared.transaction('kv', 'readwrite');
  tx.objectStore('kv').put(value, key);
  await done(tx);
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(wrap(tx.error));
    tx.onerror = () => {};
  });
}

// A user's database. Methods take store names and run one transaction each.
export class UserDb {
  static async open(username) {
    const db = await open(`${SHARED}:${username}`, VERSION, (d, oldVersion) => {
      if (oldVersion < 2) d.createObjectStore('kept', { keyPath: 'device_seq' });
      if (oldVersion >= 1) return;
      d.createObjectStore('kv');
      d.createObjectStore('outfalls', { keyPath: 'id' });
      d.createObjectStore('observations', { keyPath: 'id' }).createIndex('outfall_id', 'outfallId');
      d.createObjectStore('outbox', { keyPath: 'n', autoIncrement: true }).createIndex('change_id', 'change_id', { unique: true });
      d.createObjectStore('batches', { keyPath: 'device_seq' });
      d.createObjectStore('photos', { keyPath: 'hash' });
      d.createObjectStore('drafts', { keyPath: 'id' });
      d.createObjectStore('tasks', { keyPath: 'key' });
    });
    return new UserDb(db, username);
  }

  constructor(db, username) {
    this.db = db;
    this.username = username;
  }

  close() {
    this.db.close();
  }

  async get(store, key) {
    return promised(this.db.transaction(store).objectStore(store).get(key));
  }

  async all(store, index, query) {
    const os = this.db.transaction(store).objectStore(store);
    return promised((index ? os.index(index) : os).getAll(query));
  }

  async count(store) {
    return promised(this.db.transaction(store).objectStore(store).count());
  }

  // Runs fn(stores) in one read-write transaction over names; resolves with fn's result once the
  // transaction committed. Rejects with StorageFullError when the disk is full (nothing written).
  async write(names, fn) {
    let tx;
    try {
      tx = this.db.transaction(names, 'readwrite', { durability: 'strict' });
    } catch (e) {
      throw wrap(e);
    }
    const stores = {};
    for (const n of [].concat(names)) stores[n] = tx.objectStore(n);
    let result;
    try {
      result = await fn(stores, tx);
    } catch (e) {
      try { tx.abort(); } catch (_) { /* already finished */ }
      throw wrap(e);
    }
    await done(tx);
    return result;
  }

  async put(store, value, key) {
    return this.write(store, (s) => { s[store].put(value, key); });
  }

  async delete(store, key) {
    return this.write(store, (s) => { s[store].delete(key); });
  }

  async kv(key) {
    return this.get('kv', key);
  }

  async setKv(key, value) {
    return this.put('kv', value, key);
  }
}

// Resolves with a request's result inside a transaction run by UserDb.write.
export const req = promised;
