// A small client of the server's JSON API for seeding and checking: users, devices, signed sync
// batches (one-shot Ed25519 over the exact body bytes), the queue and records.
import { generateKeyPairSync, sign, randomUUID } from 'node:crypto';
import { request } from './http.js';

export class Api {
  constructor(url) {
    this.url = url;
  }

  // One exchange; resolves with {status, body (decoded JSON or null), headers}.
  async call(method, path, { token, body, headers } = {}) {
    const h = { Accept: 'application/json', ...(headers || {}) };
    if (token) h.Authorization = `Bearer ${token}`;
    let text;
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      text = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await request(this.url + path, { method, headers: h, body: text });
    const raw = res.text;
    let json = null;
    try { json = raw ? JSON.parse(raw) : null; } catch (_) { json = null; }
    return { status: res.status, body: json, headers: res.headers, raw };
  }

  // Like call, but throws unless the status is expected (default: any 2xx).
  async ok(method, path, opts = {}, expected) {
    const r = await this.call(method, path, opts);
    const good = expected ? r.status === expected : r.status >= 200 && r.status < 300;
    if (!good) throw new Error(`${method} ${path}: expected ${expected || '2xx'}, got ${r.status} ${r.raw}`);
    return r.body;
  }

  async login(username, password) {
    return (await this.ok('POST', '/v1/auth/login', { body: { username, password } })).token;
  }

  async createUser(adminToken, username, password, role, divisions) {
    await this.ok('POST', '/v1/users', { token: adminToken, body: { username, password, role, divisions } });
    return { username, password, token: await this.login(username, password) };
  }

  // Enrolls a fresh Ed25519 key as device id for the user of token.
  async enroll(token, id) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
    await this.ok('POST', '/v1/devices', { token, body: { deviceId: id, name: `phone ${id}`, publicKey: raw.toString('base64') } });
    return { id, privateKey, seq: 1 };
  }

  // Sends changes as one signed batch of device d; resolves with the SyncResponse.
  async sync(token, d, changes) {
    const body = JSON.stringify({ batchId: randomUUID(), deviceId: d.id, deviceSeq: String(d.seq++), since: '0', changes });
    const sig = sign(null, Buffer.from(body), d.privateKey).toString('base64');
    return this.ok('POST', '/v1/sync', { token, body, headers: { 'X-Device-Signature': sig } });
  }

  // PUTs a whole photo; resolves with its hash (201 stored, 200 stored before).
  async putPhoto(token, bytes, hash) {
    const res = await request(`${this.url}/v1/photos/${hash}`, {
      method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' }, body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw new Error(`PUT /v1/photos/${hash}: ${res.status} ${res.text}`);
    return hash;
  }

  outfall(token, id, view) {
    return this.ok('GET', `/v1/outfalls/${id}${view ? `?view=${view}` : ''}`, { token });
  }

  history(token, id) {
    return this.ok('GET', `/v1/outfalls/${id}/history`, { token });
  }

  queue(token, query = '') {
    return this.ok('GET', `/v1/review/queue${query ? `?${query}` : ''}`, { token });
  }
}

// A change creating an outfall with fields (river, division, position and the rest).
export function create(fields) {
  return { changeId: randomUUID(), entityId: randomUUID(), baseVersion: '0', clientTimeMs: String(Date.now()), outfall: fields };
}

// A change editing outfall id from version base.
export function edit(id, base, fields) {
  return { changeId: randomUUID(), entityId: id, baseVersion: String(base), clientTimeMs: String(Date.now()), outfall: fields };
}

// A change creating an observation of outfall id at position p with photos [{hash, kind}].
export function observe(id, p, photos, fields = {}) {
  return {
    changeId: randomUUID(), entityId: randomUUID(), baseVersion: '0', clientTimeMs: String(Date.now()),
    observation: { outfallId: id, observedAtMs: String(Date.now()), ...p, accuracyM: 5, photos, ...fields },
  };
}

// A valid unified social credit code from its first 17 characters (GB 32100-2015).
export function creditCode(first17) {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(first17[i]) * (3 ** i % 31);
  return first17 + alphabet[(31 - (sum % 31)) % 31];
}
