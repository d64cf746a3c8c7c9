// The inventory (台账): every outfall the user may see, searched by part of its code or name and
// filtered by division, river, type, stage, flag and overdue plans (GET /v1/outfalls), as a table
// paged with the server's page_token (100 rows a page, "load more") and a Leaflet map of the
// rows loaded (tiles from --tile-url when set; else labelled points on a blank ground). The
// filters live in the address (#inventory?type=...), so a search can be linked; each row opens
// the outfall's page (#outfall/<id>).
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { ENUMS, DIVISIONS, RIVERS, LABELS } from './labels.js';
import {
  t, enumLabel, flagLabel, divisionLabel, riverLabel, errorText,
} from './i18n.js';

const PAGE = 100;
// The filters the view sends, in form order: [query parameter, kind of input].
const FILTERS = [['q', 'text'], ['division', 'select'], ['river', 'select'], ['type', 'select'],
  ['stage', 'select'], ['flag', 'select'], ['overdue', 'check']];
const FLAGS = Object.keys(LABELS.zh).filter((k) => k.startsWith('flag.')).map((k) => k.slice(5));

// The choices of a select filter: [value, label] pairs after "all".
function choices(name) {
  if (name === 'division') return DIVISIONS.map((c) => [c, divisionLabel(c)]);
  if (name === 'river') return RIVERS.map((c) => [c, riverLabel(c)]);
  if (name === 'type' || name === 'stage') return ENUMS[name].slice(1).map((v) => [v, enumLabel(name, v)]);
  if (name === 'flag') return FLAGS.map((f) => [f, flagLabel(f)]);
  return [];
}

// The filters of an address's hash "#inventory?a=b&..." as {name: value}.
export function filtersFromHash(hash) {
  const at = String(hash || '').indexOf('?');
  const params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  const out = {};
  for (const [name] of FILTERS) if (params.get(name)) out[name] = params.get(name);
  return out;
}

function hashOf(filters) {
  const q = new URLSearchParams();
  for (const [name] of FILTERS) if (filters[name]) q.set(name, filters[name]);
  const s = q.toString();
  return '#inventory' + (s ? '?' + s : '');
}

// Leaflet (the field app's pinned copy), loaded the first time a map is drawn so that the other
// views run one script only. Resolves with window.L; rejects when it cannot load.
let leafletLoad = null;
export function leaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!leafletLoad) {
    leafletLoad = new Promise((resolve, reject) => {
      const s = el('script', { src: '/field/vendor/leaflet.js' });
      s.addEventListener('load', () => resolve(window.L));
      s.addEventListener('error', () => { leafletLoad = null; reject(new Error('leaflet')); });
      document.head.append(s);
    });
  }
  return leafletLoad;
}

// The view in root; ctx.config.tileUrl for the map's tiles.
export function createInventory(root, ctx) {
  let filters = {};
  let rows = [];
  let next = '';
  let state = 'idle';
  let error = null;
  let built = false;
  let map = null;
  let layer = null;
  let seq = 0;

  function input(name, kind) {
    const id = 'inv-' + name;
    if (kind === 'check') {
      return el('label', { class: 'check', for: id }, el('input', { id, type: 'checkbox', name, checked: filters[name] === '1' }),
        ' ', t('inv.' + name));
    }
    const control = kind === 'text'
      ? el('input', { id, name, type: 'search', maxlength: '64', value: filters[name] || '', placeholder: t('inv.q_hint') })
      : el('select', { id, name }, el('option', { value: '' }, t('inv.all')),
        choices(name).map(([v, label]) => el('option', { value: v, selected: filters[name] === v ? true : undefined }, label)));
    if (kind === 'select' && filters[name]) control.value = filters[name];
    return el('label', { class: 'field', for: id }, el('span', null, t('inv.' + name)), control);
  }

  function readForm() {
    const f = {};
    for (const [name, kind] of FILTERS) {
      const e = root.querySelector('#inv-' + name);
      if (!e) continue;
      if (kind === 'check') { if (e.checked) f[name] = '1'; } else if (e.value.trim()) f[name] = e.value.trim();
    }
    return f;
  }

  function form() {
    const f = el('form', { id: 'inventory-filters', class: 'filters' }, FILTERS.map(([n, k]) => input(n, k)),
      el('button', { type: 'submit', id: 'inv-search' }, t('inv.search')));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      filters = readForm();
      const h = hashOf(filters);
      if (location.hash !== h) history.replaceState(null, '', h);
      load(false);
    });
    return f;
  }

  function rowOf(o) {
    const open = () => { location.hash = '#outfall/' + encodeURIComponent(o.id); };
    const stage = o.programme && o.programme.stage
      ? o.programme.stage : Number(o.approvedVersion || 0) > 0 ? 'LIFECYCLE_STAGE_FOUND' : 'LIFECYCLE_STAGE_UNSPECIFIED';
    return el('tr', { dataset: { outfallId: o.id || '', code: o.code || '' } },
      el('td', null, el('button', { type: 'button', class: 'link open', onclick: open, title: t('inv.open') }, o.code || t('inv.nocode'))),
      el('td', { class: 'name' }, o.name || t('inv.noname')),
      el('td', null, riverLabel(o.riverCode)), el('td', null, divisionLabel(o.divisionCode)),
      el('td', null, enumLabel('type', o.type || 'OUTFALL_TYPE_UNSPECIFIED')),
      el('td', { dataset: { stage } }, enumLabel('stage', stage)),
      el('td', null, enumLabel('review_state', o.reviewState || 'REVIEW_STATE_UNSPECIFIED')),
      el('td', null, (o.flags || []).map(flagLabel).join('、')));
  }

  // The map of the rows loaded; a point per outfall, labelled with its code (or name) when there
  // are no tiles to read the place from.
  function drawMap(box) {
    if (!window.L) {
      leaflet().then(() => { if (box.isConnected) drawMap(box); }, () => {});
      return;
    }
    if (map) { map.remove(); map = null; }
    map = window.L.map(box, { attributionControl: false, zoomControl: false });
    window.L.control.zoom({ zoomInTitle: t('map.zoom_in'), zoomOutTitle: t('map.zoom_out') }).addTo(map);
    if (ctx.config && ctx.config.tileUrl) window.L.tileLayer(ctx.config.tileUrl, { maxZoom: 19 }).addTo(map);
    layer = window.L.featureGroup().addTo(map);
    const labelled = !(ctx.config && ctx.config.tileUrl);
    for (const o of rows) {
      if (o.lat === undefined || o.lon === undefined) continue;
      const m = window.L.circleMarker([Number(o.lat), Number(o.lon)], { radius: 6, className: 'inv-point' });
      m.bindTooltip(o.code || o.name || '', { permanent: labelled, direction: 'right', className: 'inv-label' });
      m.on('click', () => { location.hash = '#outfall/' + encodeURIComponent(o.id); });
      m.addTo(layer);
    }
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 15 });
    else map.setView([35.2, 113.2], 9);
  }

  function render() {
    if (!built) return;
    const status = state === 'loading' ? t('inv.loading')
      : state === 'error' ? t('inv.failed', { msg: errorText(error) })
        : !rows.length ? t('inv.empty') : t(next ? 'inv.count_more' : 'inv.count', { n: rows.length });
    const headers = ['code', 'name', 'river', 'division', 'type', 'stage', 'state', 'flags'].map((c) => t('inv.col.' + c));
    const mapBox = el('div', { id: 'inventory-map', class: 'inv-map', role: 'img', 'aria-label': t('inv.map') });
    fill(root,
      el('h2', null, t('inv.title')), form(),
      el('p', { id: 'inventory-status', class: state === 'error' ? 'error' : 'muted', role: state === 'error' ? 'alert' : 'status', dataset: { state } }, status),
      el('div', { class: 'inv-body' },
        el('div', { class: 'inv-table' }, grid(headers, rows.map(rowOf), 'inventory-table'),
          next ? el('button', { type: 'button', id: 'inventory-more', onclick: () => load(true) }, t('inv.more')) : null,
          // Sign boards of the rows shown that have a code (web/signboards.js), one A4 page each.
          rows.some((o) => o.code) ? el('a', { id: 'inventory-signboards', class: 'button',
            href: '#signboards/' + rows.filter((o) => o.code).map((o) => encodeURIComponent(o.id)).join(',') }, t('sign.print_all')) : null),
        mapBox));
    root.dataset.state = state;
    if (state !== 'loading') root.dataset.loaded = 'true';
    root.dataset.rows = String(rows.length);
    drawMap(mapBox);
  }

  async function load(more) {
    const mine = ++seq;
    state = 'loading';
    if (!more) { rows = []; next = ''; }
    render();
    try {
      const q = new URLSearchParams({ ...filters, limit: String(PAGE) });
      if (more && next) q.set('page_token', next);
      const page = await api.call('GET', '/v1/outfalls?' + q.toString());
      if (mine !== seq) return;
      rows = rows.concat(page.outfalls || []);
      next = page.nextPageToken || '';
      state = 'ready';
    } catch (e) {
      if (mine !== seq) return;
      error = e;
      state = 'error';
    }
    render();
  }

  return {
    build() { built = true; },
    // Loads the first page for the filters in the address.
    reload() {
      filters = filtersFromHash(location.hash);
      load(false);
    },
    render,
  };
}
