// The surveyors' field app: signing in (and the phone's key), the tabs, and sync. The views are
// in views.js (outfalls, one outfall), forms.js (new outfall, observation, edit) and boxes.js
// (outbox, inbox, me). State lives in IndexedDB (db.js); nothing here is only in memory except
// what can be read again from there.
import { t, setLang, lang, translateStatic, errorText } from './i18n.js';
import { call, setToken, ApiError, retryable, clockSkewMs } from './net.js';
import { UserDb, sharedGet, sharedPut, StorageFullError } from './db.js';
import { makeKey, base64 } from './keys.js';
import { pullFeed, uploadPhotos, sendBatches, prunePhotos, pullTasks } from './sync.js';
import { showList, showDetail } from './views.js';
import { showNewOutfall, showObservation, showEdit } from './forms.js';
import { showOutbox, showInbox, showMe, inboxCount } from './boxes.js';

const $ = (id) => document.getElementById(id);

// Everything the views share. session: {username, token, expiresAtMs, role, divisions}.
export const app = {
  db: null, session: null, config: { duplicateRadiusM: 30, tileUrl: '', maxPhotoBytes: 25 * 1024 * 1024 },
  outfalls: [], syncing: null, syncState: { phase: '', progress: '', error: null, lastMs: 0 },
  online: navigator.onLine,
};

// ---- messages ----

// Shows text in the banner (kind 'error', 'ok' or 'info') until the next one or ms.
export function banner(text, kind = 'error', ms = 0) {
  const b = $('banner');
  b.textContent = text;
  b.className = 'banner ' + kind;
  b.hidden = !text;
  clearTimeout(banner.timer);
  if (ms) banner.timer = setTimeout(() => { b.hidden = true; }, ms);
}

// An error for people, in the current language: our words for the codes we know.
export function problem(e) {
  if (e instanceof StorageFullError) return t('err.storage_full');
  if (e instanceof ApiError) return errorText(e);
  return t('err.unexpected', { msg: String((e && e.message) || e) });
}

// ---- the local copy ----

// Reads the local copy of outfalls into app.outfalls (for lists, search and the duplicate check).
export async function loadOutfalls() {
  app.outfalls = await app.db.all('outfalls');
}

// ---- tabs ----

const VIEWS = {
  list: () => showList(), new: () => showNewOutfall(), outbox: () => showOutbox(), inbox: () => showInbox(),
  me: () => showMe(),
};

// Opens a view by the address's hash: #list, #new, #outbox, #inbox, #me, #o/<id>, #obs/<id>,
// #edit/<id>.
export async function route() {
  if (!app.session) return;
  const [name, arg] = location.hash.replace(/^#/, '').split('/');
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('on', b.dataset.view === (name || 'list'));
  const view = $('view');
  view.hidden = false;
  view.dataset.loaded = 'false';
  try {
    if (name === 'o' && arg) await showDetail(decodeURIComponent(arg));
    else if (name === 'obs' && arg) await showObservation(decodeURIComponent(arg));
    else if (name === 'edit' && arg) await showEdit(decodeURIComponent(arg));
    else await (VIEWS[name] || VIEWS.list)();
  } catch (e) {
    banner(problem(e));
  }
  view.dataset.loaded = 'true';
  await refreshBadges();
}

export function go(hash) {
  if (location.hash === '#' + hash) route();
  else location.hash = hash;
}

export async function refreshBadges() {
  if (!app.db) return;
  const waiting = (await app.db.all('outbox')).filter((c) => c.state === 'queued' || c.state === 'sealed').length;
  const oc = $('outbox-count');
  oc.textContent = String(waiting);
  oc.hidden = waiting === 0;
  const n = await inboxCount();
  const ic = $('inbox-count');
  ic.textContent = String(n);
  ic.hidden = n === 0;
}

// ---- signing in ----

function showLogin(message) {
  $('login-view').hidden = false;
  $('view').hidden = true;
  $('tabs').hidden = true;
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  const off = $('login-offline');
  off.textContent = app.online ? '' : t('login.offline');
  off.hidden = app.online;
  document.body.dataset.view = 'login';
}

// Opens the user's database, makes and enrolls the phone's key on the first sign-in, and keeps
// the session. The key is made before it is enrolled and kept whether or not enrolment works, so
// a phone offline at its first sign-in still signs in once it can reach the server.
async function startSession(s) {
  if (app.db && app.db.username !== s.username) { app.db.close(); app.db = null; }
  app.db = app.db || await UserDb.open(s.username);
  app.session = s;
  setToken(s.token);
  await app.db.setKv('session', s);
  await sharedPut('lastUser', s.username);
  let device = await app.db.kv('device');
  if (!device) {
    const key = await makeKey();
    const id = 'field-' + Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
    device = { id, key, nextSeq: 1, enrolled: false, createdMs: Date.now() };
    await app.db.setKv('device', device);
  }
  if (!device.enrolled) await enroll(device);
  $('login-view').hidden = true;
  $('tabs').hidden = false;
  document.body.dataset.view = 'app';
  await loadOutfalls();
  await route();
}

// Enrolls the phone's key (a retry of the same key is harmless); resumes from the server's
// last applied device_seq when the phone lost count.
async function enroll(device) {
  try {
    const d = await call('POST', '/v1/devices', {
      body: { deviceId: device.id, name: phoneName(), publicKey: base64(device.key.publicRaw) },
    });
    const next = Math.max(device.nextSeq, Number(d.lastSeq || 0) + 1);
    await app.db.setKv('device', { ...device, enrolled: true, nextSeq: next });
  } catch (e) {
    if (!retryable(e)) throw e; /* offline: enrolled on the next sync */
  }
}

function phoneName() {
  const ua = navigator.userAgent;
  const m = ua.match(/\(([^)]+)\)/);
  return ('外业 ' + (m ? m[1] : ua)).slice(0, 120);
}

async function login(ev) {
  ev.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  $('login-submit').disabled = true;
  try {
    const r = await call('POST', '/v1/auth/login', { body: { username, password }, noAuth: true });
    const s = { username: r.username || username, token: r.token, expiresAtMs: Number(r.expiresAtMs || 0), role: r.role, divisions: r.divisions || [] };
    $('password').value = '';
    banner('');
    await startSession(s);
    document.dispatchEvent(new Event('signedin'));
  } catch (e) {
    showLogin(e instanceof ApiError && e.status === 401 ? t('login.bad') : problem(e));
  } finally {
    $('login-submit').disabled = false;
  }
}

// Signs out: the token is revoked when the server can be reached; every change, photo and the
// key stay on the phone for the next sign-in of this user.
export async function logout() {
  try { await call('POST', '/v1/auth/logout', { timeoutMs: 5000 }); } catch (_) { /* offline: it expires */ }
  if (app.db) await app.db.setKv('session', { ...app.session, token: '' });
  setToken('');
  app.session = null;
  location.hash = '';
  showLogin('');
}

// ---- sync ----

function setSync(phase, progress) {
  app.syncState.phase = phase;
  app.syncState.progress = progress || '';
  document.dispatchEvent(new CustomEvent('syncstate'));
}

// One sync: enroll if still needed, photos, batches, the feed, tasks. Resolves when done or
// stopped; a second call while one runs joins it. Errors are kept in app.syncState.error.
export function sync() {
  if (app.syncing) return app.syncing;
  app.syncing = (async () => {
    app.syncState.error = null;
    try {
      if (!app.session.token || (app.session.expiresAtMs && app.session.expiresAtMs < Date.now())) {
        throw new ApiError(401, 'token_expired', '');
      }
      const device = await app.db.kv('device');
      if (!device.enrolled) await enroll(device);
      const key = (await app.db.kv('device')).key;
      setSync('photos');
      await uploadPhotos(app.db, (p) => setSync('photos', t('sync.photo', { done: p.done, total: p.total, pct: p.size ? Math.floor(100 * p.sent / p.size) : 100 })));
      setSync('batches');
      const batchProgress = (p) => (p.resend ? setSync('resend', t('sync.resend', p)) : setSync('batches', t('sync.changes', p)));
      await sendBatches(app.db, key, batchProgress).catch(async (e) => {
        // A server restored from a backup made before this phone enrolled does not know it:
        // enroll again (the same key; harmless) and send what is kept and waiting.
        if (!(e instanceof ApiError && e.code === 'unknown_device')) throw e;
        await enroll({ ...(await app.db.kv('device')), enrolled: false });
        await sendBatches(app.db, key, batchProgress);
      });
      await uploadPhotos(app.db, null); // any the batches named that the server still lacks
      setSync('pull');
      const pulled = await pullFeed(app.db, (n) => setSync('pull', t('sync.pulled', { n })));
      await pullTasks(app.db).catch((e) => { if (!(e instanceof ApiError && e.status === 404)) throw e; });
      await prunePhotos(app.db);
      app.syncState.lastMs = Date.now();
      await app.db.setKv('lastSyncMs', app.syncState.lastMs);
      await loadOutfalls();
      // What came down shows at once on the list (other views keep what the user is doing).
      if (pulled > 0 && /^#?(list)?$/.test(location.hash)) await route();
    } catch (e) {
      app.syncState.error = e;
      // An expired sign-in never takes the user out of a form: the banner says so, and the sync
      // button opens the sign-in. Nothing is lost either way.
      if (e instanceof ApiError && e.status === 401 && e.code !== 'device_revoked') {
        app.session = { ...app.session, token: '' };
        await app.db.setKv('session', app.session);
        banner(t('login.expired'));
      } else if (e instanceof ApiError && /device_revoked/.test(e.code)) {
        banner(problem(e)); // signing in again would not help: an administrator must act
      }
    } finally {
      // The badges first: what the sync ended with shows once "last synced" does.
      await refreshBadges().catch(() => {});
      app.syncing = null;
      setSync('');
    }
  })();
  return app.syncing;
}

// Syncs now and then while the app is open and online: at start, when the network returns, and
// every few minutes; after a failure that may pass, again after 5 s, 10 s, … up to 5 minutes.
let backoffMs = 0;
async function autoSync() {
  if (!app.session || !app.online || app.syncing || !app.session.token) return;
  await sync();
  const e = app.syncState.error;
  if (e && retryable(e)) backoffMs = Math.min(300000, backoffMs ? backoffMs * 2 : 5000);
  else backoffMs = 0;
  if (backoffMs) setTimeout(autoSync, backoffMs);
}

function showNet() {
  const n = $('net');
  n.textContent = app.online ? t('net.online') : t('net.offline');
  n.className = 'net ' + (app.online ? 'on' : 'off');
  const skew = Math.abs(clockSkewMs);
  if (skew > 5 * 60000) banner(t('err.clock', { min: Math.round(skew / 60000) }), 'error');
}

// ---- start ----

async function boot() {
  setLang(lang());
  translateStatic(document);
  $('lang').textContent = lang() === 'zh' ? 'English' : '中文';
  $('lang').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    $('lang').textContent = lang() === 'zh' ? 'English' : '中文';
    translateStatic(document);
    showNet();
    route();
  });
  $('login-form').addEventListener('submit', login);
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => go(b.dataset.view));
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => { app.online = true; showNet(); autoSync(); });
  window.addEventListener('offline', () => { app.online = false; showNet(); });
  document.addEventListener('syncstate', showNet);
  showNet();
  registerWorker();
  try {
    const c = await call('GET', '/web/config.json', { noAuth: true, timeoutMs: 5000 });
    Object.assign(app.config, c);
    await sharedPut('config', app.config);
  } catch (_) {
    Object.assign(app.config, (await sharedGet('config')) || {});
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  const last = await sharedGet('lastUser');
  if (last) {
    app.db = await UserDb.open(last);
    const s = await app.db.kv('session');
    // Offline, a user who signed in before works on; the token is asked for again to sync.
    if (s && (s.token || !app.online)) {
      await startSession(s);
      document.body.dataset.ready = 'true';
      autoSync();
      setInterval(autoSync, 5 * 60000);
      return;
    }
    if (s) $('username').value = s.username;
  }
  showLogin('');
  document.body.dataset.ready = 'true';
  setInterval(autoSync, 5 * 60000);
}

// The service worker keeps the app on the phone. A new version waits until the user reloads
// (never in the middle of a form); the outbox is in IndexedDB, untouched by an update.
function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('sw.js', { scope: './' }).then((reg) => {
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w.addEventListener('statechange', () => {
        if (w.state === 'installed' && navigator.serviceWorker.controller) $('update').hidden = false;
      });
    });
  }).catch(() => { /* not on this origin (plain HTTP off localhost): the app still works online */ });
  $('update-reload').addEventListener('click', async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    if (reg && reg.waiting) reg.waiting.postMessage('skip-waiting');
    setTimeout(() => location.reload(), 300);
  });
}

// After login's startSession the first sync starts at once.
document.addEventListener('signedin', autoSync);

boot().catch((e) => {
  banner(problem(e));
  document.body.dataset.ready = 'true';
});

export { showLogin };
