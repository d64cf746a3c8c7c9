// The outbox (what waits to be sent, the sync button and its progress, and each change's result
// in words), the inbox (records sent back with the supervisor's comment, conflicts and duplicate
// suspects of the user's own changes, inspection tasks, outfalls awaiting remediation evidence)
// and "me" (account, phone, storage, language, signing out).
import { el, fill } from '../web/dom.js';
import { t, lang, enumLabel, riverLabel, formatTime, fieldLabel, formatJsonValue } from './i18n.js';
import { ERRORS } from '../web/errors.js';
import { app, sync, logout, problem, showLogin } from './app.js';
import { correctRejected } from './forms.js';

// Why the server refused a change, in the user's language: the app's own words for the reason,
// else the catalogue's (web/errors.js), else the server's message.
function rejectedReason(r) {
  const key = 'reason.' + r.reason;
  if (t(key) !== key) return t(key);
  if (Object.hasOwn(ERRORS, String(r.reason))) return ERRORS[r.reason][lang()];
  return r.message || r.reason || '';
}

// Outfalls created on the phone whose change the server has not taken yet, as list items.
export async function localRecords() {
  const out = [];
  for (const c of await app.db.all('outbox')) {
    if (c.kind !== 'outfall' || Number(c.base_version) !== 0 || c.state === 'done' || c.state === 'corrected') continue;
    if (app.outfalls.some((o) => o.id === c.entity_id)) continue;
    out.push({ ...c.fields, id: c.entity_id, pendingLocal: true, rejected: c.state === 'rejected' });
  }
  return out;
}

// Names of the outfalls the phone knows, by id: its copy of the feed and its inspection tasks
// (a task's outfall may lie in another county, outside the feed).
async function outfallNames() {
  const names = new Map();
  for (const task of await app.db.all('tasks')) names.set(task.outfallId, task.name || task.code);
  for (const o of app.outfalls) if (o.name || o.code) names.set(o.id, o.name || o.code);
  return names;
}

// What a change is about, for people: "新建排口 …", "观测 …", "修改 …".
function describe(c, names) {
  const f = c.fields || {};
  if (c.kind === 'outfall') {
    const what = f.name || names.get(c.entity_id) || (f.riverCode && riverLabel(f.riverCode)) || c.entity_id.slice(0, 8);
    return t(Number(c.base_version) === 0 ? 'outbox.create' : 'outbox.edit', { what });
  }
  return t(f.inspectionDrawId ? 'outbox.inspection' : 'outbox.observe', { what: names.get(f.outfallId) || String(f.outfallId || '').slice(0, 8), n: (f.photos || []).length });
}

// The result of a change in words, with the server's reason for a rejection.
function resultText(c) {
  const r = c.result || {};
  switch (c.state) {
    case 'queued': return t('result.queued');
    case 'sealed': return t('result.sealed');
    case 'held': return t('result.held');
    case 'rejected': return t('result.rejected', { reason: rejectedReason(r) });
    case 'conflict': return t('result.conflict', { n: (r.conflicts || []).length });
    case 'duplicate': return t('result.duplicate');
    case 'corrected': return t('result.corrected');
    default: return r.status === 'CHANGE_STATUS_MERGED' ? t('result.merged') : r.status === 'CHANGE_STATUS_ALREADY_APPLIED' ? t('result.already') : t('result.applied');
  }
}

function conflictRows(r) {
  return (r.conflicts || []).map((x) => el('li', { class: 'small' }, fieldLabel(x.field), t('sep.kv'),
    t('conflict.values', { mine: formatJsonValue(x.field, x.clientValue), theirs: formatJsonValue(x.field, x.serverValue) })));
}

// The storage the app uses and may use, in MB, or null when the browser does not say.
async function storage() {
  if (!navigator.storage || !navigator.storage.estimate) return null;
  const e = await navigator.storage.estimate();
  return { used: Math.round((e.usage || 0) / 1048576), quota: Math.round((e.quota || 0) / 1048576) };
}

// The syncstate listener of the outbox on screen; none when another view is.
let outboxListener = null;
window.addEventListener('hashchange', () => {
  if (outboxListener && !location.hash.startsWith('#outbox')) {
    document.removeEventListener('syncstate', outboxListener);
    outboxListener = null;
  }
});

export async function showOutbox() {
  const view = document.getElementById('view');
  const changes = (await app.db.all('outbox')).reverse();
  const photos = await app.db.all('photos');
  const waiting = changes.filter((c) => c.state === 'queued' || c.state === 'sealed');
  const unsentPhotos = photos.filter((p) => p.blob && !p.uploaded && !p.refused);
  const bar = el('progress', { id: 'sync-progress', max: 100, hidden: true });
  const status = el('p', { id: 'sync-status', class: 'status', role: 'status' });
  const button = el('button', { type: 'button', id: 'sync-now', class: 'primary big' }, t('sync.now'));
  const last = await app.db.kv('lastSyncMs');
  const names = await outfallNames();

  function showState() {
    const s = app.syncState;
    button.disabled = !!app.syncing;
    if (app.syncing) {
      status.textContent = t('sync.phase.' + (s.phase || 'start')) + (s.progress ? ' — ' + s.progress : '');
      const m = s.progress.match(/(\d+)%/);
      bar.hidden = false;
      if (m) bar.value = Number(m[1]); else bar.removeAttribute('value');
    } else {
      bar.hidden = true;
      status.textContent = s.error ? t('sync.failed', { msg: problem(s.error) }) : s.lastMs || last ? t('sync.last', { at: formatTime(s.lastMs || last) }) : t('sync.never');
      status.className = 'status ' + (s.error ? 'bad' : '');
    }
  }
  button.addEventListener('click', () => {
    if (!app.session.token) { showLogin(t('login.expired')); return; }
    button.disabled = true;
    status.textContent = t('sync.phase.start');
    sync();
  });
  const st = await storage();
  const kept = await app.db.count('kept');
  const keptRefused = ((await app.db.kv('keptRefused')) || { n: 0 }).n;
  // The reads above take time: a person may have opened another view meanwhile (a form), which
  // this late drawing must not replace.
  if (!location.hash.startsWith('#outbox')) return;
  // One listener for the outbox shown: a redraw replaces it rather than adding one more.
  if (outboxListener) document.removeEventListener('syncstate', outboxListener);
  outboxListener = () => {
    showState();
    if (!app.syncing && location.hash.startsWith('#outbox')) showOutbox();
  };
  document.addEventListener('syncstate', outboxListener);
  fill(view,
    el('h2', null, t('outbox.title')),
    el('p', { id: 'outbox-summary' }, t('outbox.summary', { changes: waiting.length, photos: unsentPhotos.length,
      mb: (unsentPhotos.reduce((a, p) => a + (p.size || 0), 0) / 1048576).toFixed(1) })),
    button, bar, status,
    kept > 0 ? el('p', { id: 'kept-status', class: 'status' }, t('kept.waiting', { n: kept })) : null,
    keptRefused > 0 ? el('p', { id: 'kept-refused', class: 'error' }, t('kept.refused', { n: keptRefused })) : null,
    st ? el('p', { class: 'muted small', id: 'storage' }, t('storage.used', st)) : null,
    el('ul', { id: 'outbox-list', class: 'items' }, changes.slice(0, 300).map((c) => el('li', { class: 'change ' + c.state, dataset: { state: c.state, changeId: c.change_id } },
      el('b', null, describe(c, names)), el('span', { class: 'muted small block' }, formatTime(c.client_time_ms)),
      el('span', { class: 'result' }, resultText(c)),
      c.state === 'conflict' ? el('ul', null, conflictRows(c.result)) : null,
      c.state === 'rejected' ? el('button', { type: 'button', class: 'small fix', onclick: () => correctRejected(c) }, t('result.fix')) : null,
      c.state === 'duplicate' && c.result.duplicateOf ? el('a', { href: '#o/' + encodeURIComponent(c.result.duplicateOf), class: 'small block' }, t('result.see_other')) : null))),
    photos.some((p) => p.refused) ? el('p', { class: 'error' }, t('photo.refused', { n: photos.filter((p) => p.refused).length })) : null);
  showState();
}

// Items for the inbox: [{kind, title, text, href}].
async function inboxItems() {
  const items = [];
  for (const o of app.outfalls) {
    const s = String(o.reviewState || '');
    if (s.endsWith('RETURNED') || (s.endsWith('REJECTED') && o.reviewComment)) {
      items.push({ kind: 'returned', id: o.id, title: o.name || o.code || t('list.unnamed'), text: o.reviewComment || t('inbox.no_comment'), href: '#edit/' + encodeURIComponent(o.id) });
    }
    const stage = String((o.programme && o.programme.stage) || '');
    if (/PLANNED/.test(stage)) {
      items.push({ kind: 'remediation', id: o.id, title: o.name || o.code, text: t('inbox.remediation', { deadline: (o.programme.plan && o.programme.plan.deadline) || '—' }), href: '#obs/' + encodeURIComponent(o.id) + '?remediation' });
    }
  }
  const names = await outfallNames();
  for (const c of await app.db.all('outbox')) {
    if (c.state === 'conflict') items.push({ kind: 'conflict', id: c.entity_id, title: describe(c, names), text: t('result.conflict', { n: (c.result.conflicts || []).length }), href: '#o/' + encodeURIComponent(c.entity_id) });
    if (c.state === 'duplicate') items.push({ kind: 'duplicate', id: c.entity_id, title: describe(c, names), text: t('result.duplicate'), href: '#o/' + encodeURIComponent(c.entity_id) });
    if (c.state === 'rejected') items.push({ kind: 'rejected', id: c.entity_id, title: describe(c, names), text: resultText(c), href: '#outbox' });
  }
  for (const task of await app.db.all('tasks')) {
    const state = String(task.state || '');
    if (state.endsWith('APPROVED') || state.endsWith('SUBMITTED')) continue;
    items.push({ kind: 'task', id: task.outfallId, title: `${task.name || task.code} (${riverLabel(task.riverCode)})`,
      text: state.endsWith('RETURNED') ? t('task.returned', { comment: task.comment || '' }) : t('task.open', { at: formatTime(task.drawnAtMs) }),
      href: '#obs/' + encodeURIComponent(task.outfallId) + '?task=' + encodeURIComponent(task.key) });
  }
  return items;
}

export async function inboxCount() {
  return (await inboxItems()).filter((i) => i.kind !== 'remediation').length;
}

export async function showInbox() {
  const view = document.getElementById('view');
  const items = await inboxItems();
  // A task's outfall may lie outside the phone's copy (another county): keep its facts at hand.
  for (const task of await app.db.all('tasks')) {
    if (!app.outfalls.some((o) => o.id === task.outfallId)) {
      app.outfalls.push({ id: task.outfallId, code: task.code, name: task.name, riverCode: task.riverCode, divisionCode: task.divisionCode, lat: task.lat, lon: task.lon, reviewState: 'REVIEW_STATE_APPROVED', fromTask: true });
    }
  }
  fill(view, el('h2', null, t('inbox.title')),
    items.length ? el('ul', { id: 'inbox-list', class: 'items' }, items.map((i) => el('li', { class: 'inbox ' + i.kind, dataset: { kind: i.kind, id: i.id } },
      el('span', { class: 'chip' }, t('inbox.kind.' + i.kind)), ' ', el('a', { href: i.href }, el('b', null, i.title)),
      el('span', { class: 'block' }, i.text)))) : el('p', { class: 'muted', id: 'inbox-empty' }, t('inbox.empty')));
}

export async function showMe() {
  const view = document.getElementById('view');
  const device = await app.db.kv('device');
  const st = await storage();
  const photos = await app.db.all('photos');
  const kept = photos.filter((p) => p.blob);
  const goodM = Number(localStorage.getItem('field.goodM')) || 15;
  const good = el('select', { id: 'good-m' }, [5, 10, 15, 20, 30, 50].map((m) => el('option', { value: m, selected: m === goodM }, t('me.metres', { m }))));
  good.addEventListener('change', () => localStorage.setItem('field.goodM', good.value));
  fill(view, el('h2', null, t('me.title')),
    el('table', { class: 'kv' }, el('tbody', null,
      [[t('me.user'), app.session.username], [t('me.role'), enumLabel('role', app.session.role)],
        [t('me.divisions'), (app.session.divisions || []).join('、')],
        [t('me.device'), `${device.id}${device.enrolled ? '' : ' ' + t('me.not_enrolled')}`], [t('me.next_seq'), String(device.nextSeq)],
        [t('me.key'), device.key.kind === 'webcrypto' ? t('me.key_webcrypto') : t('me.key_noble')],
        [t('me.photos'), t('me.photos_kept', { n: kept.length, mb: (kept.reduce((a, p) => a + (p.size || 0), 0) / 1048576).toFixed(1) })],
        [t('me.storage'), st ? t('storage.used', st) : '—'],
        [t('me.local'), t('me.local_count', { n: app.outfalls.length })]].map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v))))),
    el('label', { class: 'field' }, el('span', null, t('me.good_fix')), good),
    el('p', null, el('a', { href: '/' }, t('me.console'))),
    el('button', { type: 'button', id: 'logout', onclick: () => logout() }, t('me.logout')),
    el('p', { class: 'muted small' }, t('me.logout_hint')));
}

