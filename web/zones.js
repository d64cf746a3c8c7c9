// Protection zones (水源保护区等, docs/programme.md "Protection zones"): the zones stored
// (GET /v1/zones?geometry=1) with kind, name, the divisions of the outfalls they hold, and a
// Leaflet map of their polygons with the outfalls inside or within NEAR_M of them (from the first
// OUTFALL_LIMIT outfalls the user may see, GET /v1/outfalls; the server's /v1/zones/at and the
// plan rules stay the authority). An admin imports a GeoJSON FeatureCollection file (POST
// /v1/zones): the server stores all of it or nothing, and the view shows what was stored or the
// refusal in the catalogue's words.
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { t, enumLabel, divisionLabel, formatTime, errorText } from './i18n.js';
import { leaflet } from './inventory.js';

const OUTFALL_LIMIT = 1000;
const NEAR_M = 1000;
const MAX_FILE = 4096 * 1024; // the server's BODY_ZONES

// The polygons of a GeoJSON geometry: an array of polygons, each an array of rings of [lon, lat].
function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates || []];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates || [];
  return [];
}

// 1 when [lon, lat] lies inside ring (even-odd crossing).
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Metres from [lon, lat] to the nearest edge of the rings (a local flat approximation).
function metresToEdges(lon, lat, rings) {
  const kx = 111320 * Math.cos((lat * Math.PI) / 180);
  const ky = 110540;
  let best = Infinity;
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) {
      const ax = (ring[i - 1][0] - lon) * kx; const ay = (ring[i - 1][1] - lat) * ky;
      const bx = (ring[i][0] - lon) * kx; const by = (ring[i][1] - lat) * ky;
      const dx = bx - ax; const dy = by - ay;
      const len = dx * dx + dy * dy;
      const s = len ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
      best = Math.min(best, Math.hypot(ax + s * dx, ay + s * dy));
    }
  }
  return best;
}

// 'inside', 'near' or '' for outfall o and zone geometry g (holes excluded; an edge within a
// metre counts as inside, as the server counts the boundary).
export function placeOf(o, g) {
  const lon = Number(o.lon);
  const lat = Number(o.lat);
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return '';
  let near = false;
  for (const rings of polygonsOf(g)) {
    if (!rings.length) continue;
    const d = metresToEdges(lon, lat, rings);
    if (d <= 1) return 'inside';
    if (inRing(lon, lat, rings[0]) && !rings.slice(1).some((h) => inRing(lon, lat, h))) return 'inside';
    if (d <= NEAR_M) near = true;
  }
  return near ? 'near' : '';
}

// The view in root; ctx.notice for the notice bar, ctx.config.tileUrl for the map's tiles.
export function createZones(root, ctx) {
  let built = false;
  let zones = [];
  let outfalls = [];
  let state = 'idle';
  let error = '';
  const upload = { busy: false, error: '', stored: null, file: null };
  let map = null;
  let seq = 0;

  const isAdmin = () => { const s = api.session(); return !!s && s.role === 'ROLE_ADMIN'; };

  // Each zone with its geometry parsed and the outfalls inside and near it.
  function placed() {
    return zones.map((z) => {
      let g = null;
      try { g = z.geometry ? JSON.parse(z.geometry) : null; } catch (_) { g = null; }
      const inside = [];
      const near = [];
      for (const o of outfalls) {
        const p = placeOf(o, g);
        if (p === 'inside') inside.push(o); else if (p === 'near') near.push(o);
      }
      const divisions = [...new Set(inside.map((o) => o.divisionCode).filter(Boolean))].sort();
      return { z, g, inside, near, divisions };
    });
  }

  function importForm() {
    if (!isAdmin()) return null;
    // The browser's own file control speaks the browser's language: it stays hidden behind a
    // label in ours, with the chosen file's name beside it.
    const chosen = el('span', { id: 'zones-file-name', class: 'muted' }, upload.file ? upload.file.name : t('zones.no_file'));
    const file = el('input', {
      id: 'zones-file', type: 'file', class: 'file-hidden', accept: '.geojson,.json,application/geo+json,application/json',
      onchange: (ev) => {
        upload.file = ev.target.files[0] || null;
        upload.error = '';
        chosen.textContent = upload.file ? upload.file.name : t('zones.no_file');
      },
    });
    const f = el('form', { id: 'zones-import', class: 'zones-import' },
      el('h3', null, t('zones.import')), el('p', { class: 'muted' }, t('zones.import_hint')),
      el('div', { class: 'file-pick' }, file, el('label', { for: 'zones-file', class: 'button-like' }, t('zones.file')), ' ', chosen),
      el('button', { type: 'submit', id: 'zones-submit', disabled: upload.busy }, upload.busy ? t('decide.busy') : t('zones.send')),
      upload.error ? el('p', { id: 'zones-error', class: 'error', role: 'alert' }, upload.error) : null,
      upload.stored ? el('p', { id: 'zones-stored', class: 'verify-ok', role: 'status' },
        t('zones.stored', { n: upload.stored.length, names: upload.stored.map((z) => z.name).join('、') })) : null);
    f.addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
    return f;
  }

  function outfallNames(list) {
    return list.length ? list.map((o) => o.code || o.name || o.id).join('、') : t('value.empty');
  }

  function table(rows) {
    const headers = ['kind', 'name', 'division', 'shape', 'inside', 'near', 'imported'].map((c) => t('zones.col.' + c));
    return grid(headers, rows.map(({ z, inside, near, divisions }) => el('tr', { dataset: { zoneId: z.id || '' } },
      el('td', null, enumLabel('zone_kind', z.kind || 'ZONE_KIND_UNSPECIFIED')),
      el('td', null, z.name || ''),
      el('td', null, divisions.length ? divisions.map(divisionLabel).join('、') : t('value.empty')),
      el('td', null, t('zones.shape', { p: z.polygons || 0, h: z.holes || 0 })),
      el('td', { class: 'zone-inside' }, outfallNames(inside)),
      el('td', { class: 'zone-near' }, outfallNames(near)),
      el('td', null, t('zones.by', { at: formatTime(z.importedAtMs), who: z.importedBy || '' })))), 'zones-table');
  }

  // The zones' polygons and the outfalls in or near them; labelled when there are no tiles.
  function drawMap(box, rows) {
    if (!window.L) {
      leaflet().then(() => { if (box.isConnected) drawMap(box, rows); }, () => {});
      return;
    }
    const L = window.L;
    if (map) { map.remove(); map = null; }
    map = L.map(box, { attributionControl: false, zoomControl: false });
    L.control.zoom({ zoomInTitle: t('map.zoom_in'), zoomOutTitle: t('map.zoom_out') }).addTo(map);
    const tiles = ctx.config && ctx.config.tileUrl;
    if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    const layer = L.featureGroup().addTo(map);
    const shown = new Set();
    for (const { z, g, inside, near } of rows) {
      if (g) {
        L.geoJSON(g, { style: { className: 'zone-shape zone-' + String(z.kind || '').toLowerCase() } })
          .bindTooltip(z.name || '', { permanent: !tiles, className: 'zone-label' }).addTo(layer);
      }
      for (const [o, where] of inside.map((x) => [x, 'inside']).concat(near.map((x) => [x, 'near']))) {
        if (shown.has(o.id)) continue;
        shown.add(o.id);
        L.circleMarker([Number(o.lat), Number(o.lon)], { radius: 6, className: 'zone-point zone-point-' + where })
          .bindTooltip(o.code || o.name || '', { permanent: !tiles, direction: 'right', className: 'inv-label' })
          .on('click', () => { location.hash = '#outfall/' + encodeURIComponent(o.id); })
          .addTo(layer);
      }
    }
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 15 });
    else map.setView([35.2, 113.2], 9);
  }

  function render() {
    if (!built) return;
    const rows = state === 'ready' ? placed() : [];
    const status = state === 'loading' ? t('zones.loading')
      : state === 'error' ? t('zones.failed', { msg: error })
        : !zones.length ? t('zones.empty') : t('zones.count', { n: zones.length, m: outfalls.length });
    const mapBox = el('div', { id: 'zones-map', class: 'inv-map', role: 'img', 'aria-label': t('zones.map') });
    fill(root, el('h2', null, t('zones.title')), importForm(),
      el('p', { id: 'zones-status', class: state === 'error' ? 'error' : 'muted', role: 'status' }, status),
      el('div', { class: 'inv-body' }, el('div', { class: 'inv-table' }, table(rows)), mapBox),
      el('p', { class: 'muted' }, t('zones.note', { m: NEAR_M })));
    root.dataset.state = state;
    root.dataset.zones = String(zones.length);
    if (state === 'ready' || state === 'error') root.dataset.loaded = 'true';
    drawMap(mapBox, rows);
  }

  async function load() {
    const mine = ++seq;
    state = 'loading';
    render();
    try {
      const [list, page] = await Promise.all([api.call('GET', '/v1/zones?geometry=1'),
        api.call('GET', '/v1/outfalls?limit=' + OUTFALL_LIMIT)]);
      if (mine !== seq) return;
      zones = list.zones || [];
      outfalls = page.outfalls || [];
      state = 'ready';
    } catch (e) {
      if (mine !== seq) return;
      error = errorText(e);
      state = 'error';
    }
    render();
  }

  // Reads the chosen file, checks it is JSON of a size the server takes, and POSTs it.
  async function send() {
    if (upload.busy) return;
    upload.error = '';
    upload.stored = null;
    const file = upload.file;
    if (!file) { upload.error = t('zones.need_file'); render(); return; }
    if (file.size > MAX_FILE) { upload.error = errorText({ code: 'body_too_large' }); render(); return; }
    upload.busy = true;
    render();
    try {
      let doc;
      try { doc = JSON.parse(await file.text()); } catch (_) { throw new api.ApiError(400, 'invalid_geojson', 'not JSON'); }
      const stored = await api.call('POST', '/v1/zones', doc);
      upload.stored = stored.zones || [];
      upload.file = null;
      ctx.notice(t('zones.stored', { n: upload.stored.length, names: upload.stored.map((z) => z.name).join('、') }), 'ok');
      upload.busy = false;
      await load();
      return;
    } catch (e) {
      upload.error = t('zones.refused', { msg: errorText(e) });
      upload.file = null; // the picker is drawn anew, empty: choose the corrected file
    }
    upload.busy = false;
    render();
  }

  return {
    build() { built = true; },
    reload: load,
    render,
  };
}
