// The outfalls on the phone: a list (searchable by code, name, river; nearest first when the
// phone knows where it is), a map when the server has tiles, and one outfall's page with its
// observations and what can be done next.
import { el, fill } from '../web/dom.js';
import { t, enumLabel, riverLabel, divisionLabel, flagLabel, formatTime, stageLabel } from './i18n.js';
import { app, go } from './app.js';
import { Locator, distanceM } from './position.js';
import { localRecords } from './boxes.js';

const LIST_MAX = 100;
let listLocator = null;
let query = '';
let mode = 'list';

function name(o) {
  return o.name || o.code || t('list.unnamed');
}

// What a search matches: code, name, river (code or name), landmark.
function matches(o, q) {
  if (!q) return true;
  const hay = [o.code, o.name, o.riverCode, o.riverCode && riverLabel(o.riverCode), o.landmark, o.nationalCode].join(' ').toLowerCase();
  return q.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
}

function stateChip(o) {
  if (o.pendingLocal) return el('span', { class: 'chip wait' }, t('state.local'));
  const s = String(o.reviewState || '');
  const cls = s.endsWith('APPROVED') ? 'ok' : s.endsWith('RETURNED') || s.endsWith('REJECTED') ? 'bad' : 'wait';
  return el('span', { class: 'chip ' + cls }, enumLabel('review_state', o.reviewState || 'REVIEW_STATE_PENDING'));
}

// The list (or map) of known outfalls plus those made on the phone and not yet synced.
export async function showList() {
  const view = document.getElementById('view');
  const local = await localRecords();
  const all = app.outfalls.filter((o) => !o.mergedInto).concat(local);
  const search = el('input', { id: 'search', type: 'search', value: query, placeholder: t('list.search'), 'aria-label': t('list.search') });
  const where = el('p', { id: 'list-where', class: 'muted small' });
  const items = el('ul', { id: 'outfall-list', class: 'items' });
  const mapBox = el('div', { id: 'map', class: 'map', hidden: mode !== 'map' });
  const canMap = !!app.config.tileUrl && typeof L !== 'undefined';
  const toggle = canMap ? el('button', { type: 'button', id: 'map-toggle', class: 'small', onclick: () => { mode = mode === 'map' ? 'list' : 'map'; showList(); } },
    mode === 'map' ? t('list.as_list') : t('list.as_map')) : null;
  fill(view, el('div', { class: 'row' }, search, toggle), where, mapBox, el('div', { hidden: mode === 'map' }, items),
    el('p', { class: 'muted small' }, t('list.count', { n: all.length })));
  let map = null;

  function render() {
    const fix = listLocator && listLocator.best;
    const hits = all.filter((o) => matches(o, query));
    if (fix) {
      for (const o of hits) o._d = o.lat !== undefined ? distanceM(fix.lat, fix.lon, Number(o.lat), Number(o.lon)) : Infinity;
      hits.sort((a, b) => a._d - b._d);
      where.textContent = t('list.sorted_near', { acc: Math.round(fix.accuracyM) });
    } else {
      hits.sort((a, b) => String(a.code || a.name || '').localeCompare(String(b.code || b.name || ''), 'zh'));
      where.textContent = listLocator && listLocator.error ? t('pos.' + listLocator.error) : t('list.no_fix');
    }
    fill(items, hits.slice(0, LIST_MAX).map((o) => el('li', null, el('a', { href: '#o/' + encodeURIComponent(o.id), class: 'item', dataset: { id: o.id } },
      el('b', null, name(o)), ' ', stateChip(o),
      el('span', { class: 'muted small block' }, [o.riverCode && riverLabel(o.riverCode), o.code, fix && o._d !== Infinity ? t('list.metres', { m: Math.round(o._d) }) : '']
        .filter(Boolean).join(' · '))))));
    if (hits.length > LIST_MAX) items.append(el('li', { class: 'muted small' }, t('list.more', { n: hits.length - LIST_MAX })));
    if (map) drawMap(map, hits, fix);
  }

  search.addEventListener('input', () => { query = search.value.trim(); render(); });
  if (mode === 'map' && canMap) {
    map = L.map(mapBox, { zoomControl: true, attributionControl: false });
    L.tileLayer(app.config.tileUrl, { maxZoom: 19 }).addTo(map);
    map._outfallLayer = L.layerGroup().addTo(map);
  }
  if (listLocator) listLocator.stop();
  listLocator = new Locator(() => render());
  listLocator.start();
  window.addEventListener('hashchange', () => listLocator && listLocator.stop(), { once: true });
  render();
}

// The outfalls are drawn again only when the set shown changes, and the phone's own marker moves
// in place: a new fix every second must not take away a marker under the finger, nor pull the map
// back from where the surveyor moved it. The map centres on the phone at its first fix only.
function drawMap(map, hits, fix) {
  const shown = hits.slice(0, 2000).filter((o) => o.lat !== undefined);
  const key = shown.map((o) => `${o.id}@${o.lat},${o.lon} ${name(o)}`).sort().join('\n');
  if (key !== map._drawn) {
    map._drawn = key;
    map._outfallLayer.clearLayers();
    for (const o of shown) {
      L.circleMarker([Number(o.lat), Number(o.lon)], { radius: 8, color: '#0b4f7c', weight: 2, fillOpacity: 0.7, className: 'outfall-pin' })
        .on('click', () => go('o/' + encodeURIComponent(o.id)))
        .bindTooltip(el('span', null, name(o))).addTo(map._outfallLayer); // a node: Leaflet would take a string as HTML
    }
  }
  if (fix) {
    if (map._fixMarker) map._fixMarker.setLatLng([fix.lat, fix.lon]);
    else map._fixMarker = L.circleMarker([fix.lat, fix.lon], { radius: 7, color: '#c62828', weight: 3, fillOpacity: 1, className: 'phone-pin', interactive: false }).addTo(map);
    if (!map._centred) map.setView([fix.lat, fix.lon], map._fitted ? map.getZoom() : 16, { animate: false });
    map._centred = true;
    map._fitted = true;
  } else if (shown.length && !map._fitted) {
    map.fitBounds(shown.map((o) => [Number(o.lat), Number(o.lon)]), { maxZoom: 16 });
    map._fitted = true;
  } else if (!shown.length && !map._fitted) {
    map.setView([35.2, 113.2], 10);
  }
}

// One outfall: its facts, its stage, the supervisor's comment when returned, its observations,
// and the buttons for what comes next.
export async function showDetail(id) {
  const view = document.getElementById('view');
  let o = app.outfalls.find((x) => x.id === id) || (await app.db.get('outfalls', id));
  if (!o) o = (await localRecords()).find((x) => x.id === id);
  if (!o) {
    const to = await app.db.kv('redirect:' + id);
    if (to) return go('o/' + encodeURIComponent(to));
    fill(view, el('p', { class: 'error' }, t('detail.missing')));
    return;
  }
  const observations = (await app.db.all('observations', 'outfall_id', id)).sort((a, b) => Number(b.observedAtMs) - Number(a.observedAtMs));
  const party = o.responsibleParty || {};
  const rows = [
    [t('f.code'), o.code || t('detail.no_code')], [t('f.type'), enumLabel('type', o.type || 0)],
    [t('f.river_code'), riverLabel(o.riverCode)], [t('f.division_code'), divisionLabel(o.divisionCode)],
    [t('f.position'), o.lat !== undefined ? `${Number(o.lat).toFixed(6)}, ${Number(o.lon).toFixed(6)}` +
      (o.positionByHand ? ' ' + t('pos.by_hand_mark') : o.accuracyM !== undefined ? ` ±${o.accuracyM} m` : '') : '—'],
    [t('f.landmark'), o.landmark || '—'], [t('f.entry_method'), enumLabel('entry_method', o.entryMethod || 0)],
    [t('f.discharge_regime'), enumLabel('discharge_regime', o.dischargeRegime || 0)],
    [t('f.party'), party.name ? `${party.name}${party.creditCode ? ' (' + party.creditCode + ')' : ''}` : '—'],
    [t('f.stage'), stageLabel(o.programme && o.programme.stage)],
    [t('f.version'), o.pendingLocal ? t('state.local') : String(o.version || '')],
  ];
  const flags = (o.flags || []).map((f) => el('span', { class: 'chip warn' }, flagLabel(f)));
  const comment = o.reviewComment ? el('div', { class: 'comment', id: 'review-comment' },
    el('b', null, t('detail.comment')), ' ', o.reviewComment) : null;
  const stage = String((o.programme && o.programme.stage) || '');
  const remediation = /PLANNED|REMEDIATED/.test(stage);
  fill(view,
    el('h2', null, name(o), ' ', stateChip(o)),
    comment, flags.length ? el('p', null, flags) : null,
    el('table', { class: 'kv' }, el('tbody', null, rows.map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v))))),
    el('div', { class: 'actions' },
      el('button', { type: 'button', id: 'add-observation', class: 'primary', onclick: () => go('obs/' + encodeURIComponent(id)) }, t('detail.observe')),
      o.pendingLocal ? null : el('button', { type: 'button', id: 'edit-outfall', onclick: () => go('edit/' + encodeURIComponent(id)) }, t('detail.edit')),
      remediation ? el('button', { type: 'button', id: 'remediation-photo', onclick: () => go('obs/' + encodeURIComponent(id) + '?remediation') }, t('detail.remediation')) : null),
    el('h3', null, t('detail.observations', { n: observations.length })),
    el('ul', { class: 'items' }, observations.map((b) => el('li', null,
      el('b', null, formatTime(b.observedAtMs)), ' ',
      b.flowing === undefined ? '' : b.flowing ? t('obs.flowing_yes') : t('obs.flowing_no'), ' ',
      [b.colour, b.odour, b.notes].filter(Boolean).join(' · '),
      b.inspectionResult ? el('span', { class: 'chip' }, enumLabel('inspection_result', b.inspectionResult)) : null,
      b.inspectionComment ? el('div', { class: 'comment' }, el('b', null, t('detail.comment')), ' ', b.inspectionComment) : null,
      el('span', { class: 'muted small block' }, t('detail.photos', { n: (b.photos || []).length }))))));
}
