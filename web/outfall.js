// The outfall's page (一口一档, #outfall/<id>): its facts, position, responsible party and how it
// was established, the stage with its dates, the plan (measure, deadline), the remediation
// evidence, every photo with its EXIF time and position and its distance from the site
// (GET /v1/photos/{hash}/info), field observations, inspections and the history (which names
// each decision and stage change). Everything labelled through labels.js: no raw enum names.
// The lifecycle actions (#outfall-actions) are web/lifecycle.js's: the steps of the outfall's stage.
import * as api from './api.js';
import { el, fill, grid, kvTable } from './dom.js';
import {
  t, fieldLabel, formatValue, formatTime, enumLabel, errorText,
} from './i18n.js';
import {
  fieldsTable, flagList, position, thumb, observationView, inspectionView, historyTable,
} from './record.js';
import { renderActions } from './lifecycle.js';

const STAGE_DATES = ['found_on', 'traced_on', 'planned_on', 'remediated_on', 'closed_on', 'retained_on'];
const PLAN = ['measure', 'deadline', 'transition_end', 'merge_into_outfall_id', 'merge_into_sewer',
  'affects_flood_control', 'safety_note', 'blocks_outfall', 'notes'];
const PARTY = ['name', 'credit_code', 'contact', 'phone', 'permit_number', 'address'];

const camel = (s) => s.replace(/_([a-z0-9])/g, (m, c) => c.toUpperCase());

// Metres between two WGS-84 points (haversine on a 6 371 km sphere).
export function metresBetween(lat1, lon1, lat2, lon2) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2
    + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// The stage an outfall is at: its programme's, FOUND once approved, else not in the inventory.
function stageOf(o) {
  if (o.programme && o.programme.stage) return o.programme.stage;
  return Number(o.approvedVersion || 0) > 0 ? 'LIFECYCLE_STAGE_FOUND' : 'LIFECYCLE_STAGE_UNSPECIFIED';
}

function partySection(o) {
  const p = o.responsibleParty;
  const basis = o.programme && o.programme.partyBasis;
  if (!p && !basis) return el('p', { class: 'muted' }, t('page.party.none'));
  const rows = PARTY.filter((f) => p && p[camel(f)] !== undefined)
    .map((f) => [fieldLabel('responsible_party.' + f), formatValue(f, p[camel(f)]), 'responsible_party.' + f]);
  rows.push([fieldLabel('party_basis'), enumLabel('party_basis', basis || 'PARTY_BASIS_UNSPECIFIED'), 'party_basis']);
  return kvTable(rows, 'party');
}

function stageSection(o) {
  const pr = o.programme || {};
  const stage = stageOf(o);
  const found = pr.foundOn ? pr.foundOn : null;
  const rows = [[fieldLabel('stage'), el('strong', { class: 'stage', dataset: { stage } }, enumLabel('stage', stage)), 'stage']];
  for (const f of STAGE_DATES) {
    const v = f === 'found_on' ? found : pr[camel(f)];
    if (v) rows.push([fieldLabel(f), v, f]);
  }
  return kvTable(rows, 'stage-dates');
}

function planSection(o) {
  const plan = o.programme && o.programme.plan;
  if (!plan) return el('p', { class: 'muted' }, t('page.plan.none'));
  const rows = PLAN.filter((f) => plan[camel(f)] !== undefined).map((f) => [fieldLabel(f),
    f === 'measure' ? enumLabel('measure', plan.measure) : formatValue(f, plan[camel(f)]), f]);
  return kvTable(rows, 'plan');
}

// One photo with what its EXIF says: when and where it was taken, and how far from the site.
function photoFacts(photo, o) {
  const facts = el('dl', { class: 'photo-facts' }, el('dt', null, t('page.loading')));
  const box = el('figure', { class: 'photo-card', dataset: { hash: photo.hash || '' } }, thumb(photo), facts);
  api.call('GET', `/v1/photos/${encodeURIComponent(photo.hash || '')}/info`).then((info) => {
    const items = [[t('page.photo.kind'), enumLabel('photo_kind', photo.kind || 'PHOTO_KIND_UNSPECIFIED'), 'kind'],
      [t('page.photo.time'), info.takenAtMs ? formatTime(info.takenAtMs) : t('page.photo.noexif'), 'time']];
    const has = info.gpsLat !== undefined && info.gpsLon !== undefined;
    items.push([t('page.photo.where'), has ? `${Number(info.gpsLat).toFixed(6)}, ${Number(info.gpsLon).toFixed(6)}` : t('page.photo.nogps'), 'where']);
    if (has && o.lat !== undefined && o.lon !== undefined) {
      const m = Math.round(metresBetween(Number(o.lat), Number(o.lon), Number(info.gpsLat), Number(info.gpsLon)));
      items.push([t('page.photo.distance'), t('page.photo.meters', { m }), 'distance']);
    }
    fill(facts, items.map(([k, v, key]) => [el('dt', null, k), el('dd', { dataset: { fact: key } }, v)]));
  }, (e) => fill(facts, el('dd', { class: 'error' }, t('page.photo.info_failed') + ' · ' + errorText(e))));
  return box;
}

function photosSection(obs, o) {
  const photos = obs.slice().reverse().flatMap((ob) => ob.photos || []);
  if (!photos.length) return el('p', { class: 'muted' }, t('detail.nophotos'));
  return el('div', { class: 'photo-cards' }, photos.map((p) => photoFacts(p, o)));
}

function evidenceSection(o, obs) {
  const ids = (o.programme && o.programme.evidenceObservationIds) || [];
  if (!ids.length) return el('p', { class: 'muted' }, t('page.evidence.none'));
  return el('div', { class: 'evidence' }, ids.map((id) => {
    const ob = obs.find((x) => x.id === id);
    return ob ? observationView(ob) : el('p', null, el('code', null, id));
  }));
}

// The audit trail's entries naming the outfall (OutfallHistory.audit; reviewers only): when, who,
// the action in words, done or the refusal's reason from the catalogue, and a decision's comment.
function auditTable(entries) {
  const label = (a) => { const k = 'audit.' + a; const s = t(k); return s === k ? t('audit.programme.transition') : s; };
  return grid(['audit.col.time', 'audit.col.who', 'audit.col.action', 'audit.col.outcome', 'audit.col.detail'].map((k) => t(k)),
    entries.map((e) => el('tr', { dataset: { action: e.action || '', outcome: e.outcome || '' } },
      el('td', null, formatTime(Number(e.atMs || 0))),
      el('td', null, e.username || t('audit.server')),
      el('td', null, label(e.action || '')),
      el('td', { class: e.outcome === 'ok' ? '' : 'error' }, e.outcome === 'ok' ? t('audit.ok') : errorText({ code: e.outcome })),
      // a decision's detail is the reviewer's comment; a step's is the server's own record (the
      // history above shows its dates), a refusal's its English message: neither is shown
      el('td', null, e.outcome === 'ok' && String(e.action).startsWith('review.') ? (e.detail || '') : ''))),
    'audit-table');
}

// The history and its audit are the reviewers': the server refuses them to an integrator, so
// the page does not ask.
const NOT_ROLE = 'not_role';
const readsHistory = () => (api.session() || {}).role !== 'ROLE_INTEGRATOR';

// The page in root; ctx.config for the map.
export function createOutfallPage(root, ctx) {
  let id = '';
  let outfall = null;
  let history = null;
  let error = null;
  let seq = 0;

  function render() {
    if (error) {
      fill(root, el('p', null, el('a', { href: '#inventory', class: 'back' }, t('page.back'))),
        el('p', { class: 'error', role: 'alert' }, t('page.failed', { msg: errorText(error) })));
      root.dataset.state = 'error';
      return;
    }
    if (!outfall) {
      fill(root, el('p', { class: 'muted' }, t('page.loading')));
      root.dataset.state = 'loading';
      return;
    }
    const o = outfall;
    const read = history && history !== NOT_ROLE && !(history instanceof Error) ? history : null;
    const obs = read ? read.observations || [] : [];
    const field = obs.filter((ob) => !ob.inspectionDrawId);
    const inspections = obs.filter((ob) => ob.inspectionDrawId);
    const sec = (cls, title, ...body) => el('section', { class: 'page-sec ' + cls, dataset: { section: cls } }, el('h3', null, title), body);
    fill(root,
      el('p', null, el('a', { href: '#inventory', class: 'back' }, t('page.back'))),
      el('h2', null, t('page.title'), ' · ', o.code || t('inv.nocode'), ' ', o.name || ''),
      // The printable sign board (web/signboards.js): an approved outfall with a code has one.
      o.code ? el('p', { class: 'no-print' }, el('a', { id: 'outfall-signboard', class: 'button', href: '#signboards/' + encodeURIComponent(o.id || '') }, t('sign.print_one'))) : null,
      // Lifecycle actions (溯源, 一口一策, 整治, 销号, 保留): web/lifecycle.js fills this box below.
      el('section', { id: 'outfall-actions', class: 'page-sec actions', dataset: { outfallId: o.id || '', version: String(o.version || '') } }),
      sec('facts', t('detail.fields'), fieldsTable(o), flagList(o.flags)),
      sec('stage', t('page.stage'), stageSection(o)),
      sec('party', t('page.party'), partySection(o)),
      sec('plan', t('page.plan'), planSection(o)),
      sec('evidence', t('page.evidence'), evidenceSection(o, obs)),
      sec('position', t('detail.position'), position(o, ctx.config)),
      sec('photos', t('page.photos'), photosSection(obs, o)),
      sec('observations', t('page.observations'), field.length
        ? field.slice().reverse().map(observationView) : el('p', { class: 'muted' }, t('page.observations.none'))),
      sec('inspections', t('page.inspections'), inspections.length
        ? inspections.slice().reverse().map(inspectionView) : el('p', { class: 'muted' }, t('page.inspections.none'))),
      sec('history', t('page.history'), history === NOT_ROLE || (history instanceof Error && history.code === 'forbidden_role')
        ? el('p', { class: 'muted' }, t('page.history.not_role')) // an integrator reads no history
        : history instanceof Error
        ? el('p', { class: 'error' }, t('detail.history.unavailable', { msg: errorText(history) }))
        : history ? historyTable(history) : el('p', { class: 'muted' }, t('page.loading'))),
      read && (read.audit || []).length ? sec('audit', t('page.audit'), auditTable(read.audit)) : null);
    renderActions(root.querySelector('#outfall-actions'), o, obs, { notice: ctx.notice || (() => {}), done: () => open(id) });
    root.dataset.state = 'ready';
    root.dataset.outfallId = o.id || '';
  }

  async function open(which) {
    const mine = ++seq;
    id = which;
    outfall = null;
    history = null;
    error = null;
    render();
    try {
      const [o, h] = await Promise.all([api.outfall(id, 'latest'), readsHistory() ? api.history(id).catch((e) => e) : NOT_ROLE]);
      if (mine !== seq) return;
      outfall = o;
      history = h;
    } catch (e) {
      if (mine !== seq) return;
      error = e;
    }
    render();
  }

  return {
    build() {},
    reload() { if (id) open(id); },
    render,
    open,
  };
}
