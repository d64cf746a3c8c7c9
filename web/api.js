// The server's JSON API as the console uses it: the session (token in sessionStorage only, never
// a cookie), calls with the bearer header, errors as ApiError {status, code, message}, decisions
// retried safely under one decision id, and photos fetched with the header into blob: URLs.
import { t } from './i18n.js';

const SESSION_KEY = 'outfall.session';
const HASH_RE = /^[0-9a-f]{64}$/;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

let unauthorized = null;
const photos = new Map(); // hash → Promise of a blob: URL

// The signed-in session {token, expiresAtMs, role, divisions, username}, or null.
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && s.token && (!s.expiresAtMs || Number(s.expiresAtMs) > Date.now())) return s;
  } catch (_) { /* unreadable: treat as signed out */ }
  return null;
}

function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
  for (const p of photos.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
  photos.clear();
}

// fn(err) runs when a call is refused for lack of a valid token (the session has ended).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

function authHeaders() {
  const s = session();
  return s ? { Authorization: 'Bearer ' + s.token } : {};
}

// One JSON exchange. Resolves with the decoded answer ({} when empty); rejects with ApiError
// (status 0, code "network", when the server cannot be reached).
export async function call(method, path, body) {
  const headers = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch (_) {
    throw new ApiError(0, 'network', t('err.network'));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : {}; } catch (_) { data = null; }
  if (!res.ok) {
    const err = new ApiError(res.status, (data && data.code) || 'http_' + res.status,
      (data && data.message) || res.statusText);
    if (res.status === 401 && path !== '/v1/auth/login') {
      clearSession();
      if (unauthorized) unauthorized(err);
    }
    throw err;
  }
  return data || {};
}

export async function login(username, password) {
  const s = await call('POST', '/v1/auth/login', { username, password });
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({
    token: s.token, expiresAtMs: s.expiresAtMs, role: s.role, divisions: s.divisions || [],
    username: s.username || username, mustChangePassword: !!s.mustChangePassword,
  }));
  return session();
}

export async function logout() {
  try { if (session()) await call('POST', '/v1/auth/logout'); } catch (_) { /* ending anyway */ }
  clearSession();
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

export function reviewQueue({ kind, division, river, limit, pageToken }) {
  return call('GET', '/v1/review/queue' + query({ kind, division, river, limit, page_token: pageToken }));
}

export function outfall(id, view) {
  return call('GET', `/v1/outfalls/${encodeURIComponent(id)}` + query({ view: view || 'latest' }));
}

export function history(id) {
  return call('GET', `/v1/outfalls/${encodeURIComponent(id)}/history`);
}

export function observation(id) {
  return call('GET', `/v1/observations/${encodeURIComponent(id)}`);
}

// A fresh random UUID (crypto.randomUUID where the page is a secure context).
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// POSTs decision (which carries its decisionId); a lost connection is retried with the same id,
// which the server answers with the first result, so a decision never applies twice.
export async function decide(decision) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call('POST', '/v1/review/decisions', decision);
    } catch (e) {
      if (e.code !== 'network' || attempt >= 2) throw e;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
}

// A blob: URL showing photo hash (fetched once with the bearer header, then cached).
export function photoUrl(hash) {
  if (!HASH_RE.test(String(hash))) return Promise.reject(new ApiError(400, 'bad_hash', 'bad hash'));
  if (!photos.has(hash)) {
    const p = fetch(`/v1/photos/${hash}`, { headers: authHeaders(), credentials: 'omit' })
      .then((res) => {
        if (!res.ok) throw new ApiError(res.status, 'http_' + res.status, res.statusText);
        return res.blob();
      })
      .then((blob) => URL.createObjectURL(blob));
    p.catch(() => photos.delete(hash));
    photos.set(hash, p);
  }
  return photos.get(hash);
}

// Notes in the session that its user changed the password a reset required.
export function passwordChanged() {
  const s = session();
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify({ ...s, mustChangePassword: false }));
}
