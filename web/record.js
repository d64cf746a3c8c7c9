// Showing one outfall: its fields with their human names, flags, position (with a map only when
// tiles are configured), photos (thumbnails, full size on click), field observations, history
// and what changed since the approved version.
import * as api from './api.js';
import { el, kvTable, grid } from './dom.js';
import {
  t, fieldLabel, formatValue, formatJsonValue, formatTime, enumLabel, flagLabel,
} from './i18n.js';

const FIELDS = [
  'name', 'code', 'type', 'river_code', 'division_code', 'entry_method', 'discharge_regime',
  'landmark', 'survey_level', 'national_code', 'review_state', 'merged_into',
];
const PARTY = ['name', 'credit_code', 'contact', 'phone', 'permit_number', 'address'];
const OBS_FIELDS = [
  'flowing', 'discharge_regime', 'colour', 'odour', 'turbidity', 'oil_film', 'cod_mg_l', 'nh3n_mg_l',
  'tp_mg_l', 'tn_mg_l', 'ph', 'flow_m3_s', 'survey_level', 'notes', 'inspection_result', 'inspection_state',
];
// What an inspection result (an observation naming its draw) shows to the reviewer, in order.
const INSPECTION_FIELDS = ['inspection_draw_id', 'inspection_result', 'observed_at_ms', 'notes', 'inspection_state', 'version'];

const camel = (s) => s.replace(/_([a-z0-9])/g, (m, c) => c.toUpperCase());

// The outfall's own fields (including its responsible party) as a label/value table.
export function fieldsTable(o) {
  const rows = FIELDS.filter((f) => o[camel(f)] !== undefined || ['name', 'type', 'river_code', 'division_code'].includes(f))
    .map((f) => [fieldLabel(f), formatValue(f, o[camel(f)]), f]);
  const approved = Number(o.approvedVersion || 0);
  rows.push([fieldLabel('version'), t(approved ? 'detail.versions' : 'detail.versions.never', {
    v: o.version || '0', a: o.approvedVersion,
  }), 'version']);
  const p = o.responsibleParty || {};
  for (const f of PARTY) {
    if (p[camel(f)] !== undefined) rows.push([fieldLabel('responsible_party.' + f), formatValue(f, p[camel(f)]), 'responsible_party.' + f]);
  }
  return kvTable(rows, 'fields');
}

// The reviewer flags as chips ("no flags" when none).
export function flagList(flags) {
  if (!flags || !flags.length) return el('p', { class: 'muted' }, t('detail.noflags'));
  return el('ul', { class: 'flags' }, flags.map((f) => el('li', { class: 'flag', dataset: { flag: f } }, flagLabel(f))));
}

// A 3×3 block of map tiles around (lat, lon) with a marker; tileUrl holds {z}, {x}, {y}.
function tileMap(lat, lon, tileUrl) {
  const z = 17, size = 128, n = 2 ** z;
  const xf = ((lon + 180) / 360) * n;
  const r = (lat * Math.PI) / 180;
  const yf = ((1 - Math.asinh(Math.tan(r)) / Math.PI) / 2) * n;
  const tx = Math.floor(xf), ty = Math.floor(yf);
  const box = el('div', { class: 'map', role: 'img', 'aria-label': t('detail.map') });
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const src = tileUrl.replace('{z}', z).replace('{x}', tx + dx).replace('{y}', ty + dy);
      const img = el('img', { class: 'tile', alt: '', src, referrerpolicy: 'no-referrer' });
      img.style.left = `${(dx + 1) * size}px`;
      img.style.top = `${(dy + 1) * size}px`;
      box.append(img);
    }
  }
  const pin = el('span', { class: 'pin' });
  pin.style.left = `${size + ((xf - tx) * size)}px`;
  pin.style.top = `${size + ((yf - ty) * size)}px`;
  box.append(pin);
  return box;
}

// Coordinates always; a map only when config.tileUrl is set.
export function position(o, config) {
  const has = o.lat !== undefined && o.lon !== undefined;
  const parts = [el('p', { class: 'coords' }, has
    ? t('detail.coords', { lat: Number(o.lat).toFixed(6), lon: Number(o.lon).toFixed(6) })
    : t('value.empty'))];
  if (o.accuracyM !== undefined) parts.push(el('p', { class: 'muted' }, t('detail.accuracy', { m: Number(o.accuracyM).toFixed(1) })));
  if (has && config && config.tileUrl) parts.push(tileMap(Number(o.lat), Number(o.lon), config.tileUrl));
  return el('div', { class: 'position' }, parts);
}

// Shows url full size in the page's photo dialog.
function openPhoto(url, label) {
  const dlg = document.getElementById('photo-dialog');
  const img = document.getElementById('photo-full');
  img.src = url;
  img.alt = label;
  document.getElementById('photo-caption').textContent = label;
  if (!dlg.open) dlg.showModal();
}

// A thumbnail of photo {hash, kind}; its bytes come through the API with the bearer header.
export function thumb(photo) {
  const label = enumLabel('photo_kind', photo.kind || 'PHOTO_KIND_UNSPECIFIED');
  const img = el('img', { alt: label });
  const cap = el('span', { class: 'cap' }, label);
  const b = el('button', { type: 'button', class: 'thumb', title: t('detail.photo.open', { kind: label }), dataset: { hash: photo.hash || '' } }, img, cap);
  let url = null;
  b.addEventListener('click', () => { if (url) openPhoto(url, label); });
  api.photoUrl(photo.hash).then((u) => { url = u; img.src = u; }, () => {
    b.classList.add('missing');
    b.disabled = true;
    cap.textContent = `${label} · ${t('detail.photo.failed')}`;
  });
  return b;
}

export function photoStrip(photos) {
  if (!photos || !photos.length) return el('p', { class: 'muted' }, t('detail.nophotos'));
  return el('div', { class: 'photos' }, photos.map(thumb));
}

// Every photo of the observations, newest observation first.
export function allPhotos(observations) {
  return (observations || []).slice().reverse().flatMap((ob) => ob.photos || []);
}

// One field observation: when, what was seen, its flags and photos.
export function observationView(ob) {
  const rows = OBS_FIELDS.filter((f) => ob[camel(f)] !== undefined).map((f) => [fieldLabel(f), formatValue(f, ob[camel(f)])]);
  return el('section', { class: 'observation', dataset: { observationId: ob.id || '' } },
    el('h4', null, t('detail.observation', { time: formatTime(ob.observedAtMs) })),
    position(ob, null), rows.length ? kvTable(rows) : null,
    ob.flags && ob.flags.length ? flagList(ob.flags) : null, photoStrip(ob.photos));
}

// An inspection result (双随机、一公开): its draw, finding, notes, time, review state, version and
// photos, each row marked with its field (data-field) for tests and styles.
export function inspectionView(ob) {
  const rows = INSPECTION_FIELDS.map((f) => [fieldLabel(f), f === 'inspection_draw_id'
    ? el('code', null, ob.inspectionDrawId || t('value.empty'))
    : f === 'inspection_state' && !ob.inspectionState ? t('inspection.undecided') : formatValue(f, ob[camel(f)]), f]);
  return el('section', { class: 'inspection', dataset: { observationId: ob.id || '', version: String(ob.version || '') } },
    el('h3', null, t('inspection.title')), kvTable(rows, 'inspection-facts'),
    ob.flags && ob.flags.length ? flagList(ob.flags) : null,
    el('h4', null, t('detail.photos')), photoStrip(ob.photos));
}

// The field history, newest first: field, value, version, who, device, when, which change.
export function historyTable(h) {
  const changes = (h.changes || []).slice().reverse();
  if (!changes.length) return el('p', { class: 'muted' }, t('detail.nohistory'));
  return grid(
    [t('col.time'), t('col.field'), t('col.value'), t('col.version'), t('col.user'), t('col.device'), t('col.change')],
    changes.map((c) => [formatTime(c.atMs), fieldLabel(c.field), c.value === undefined ? t('value.empty') : formatJsonValue(c.field, c.value),
      String(c.version || ''), c.username || '', c.deviceId || '—',
      el('code', { title: c.changeId || '', dataset: { changeId: c.changeId || '' } }, String(c.changeId || '').slice(0, 8))]),
    'history');
}

// What changed since the approved version, field by field.
export function sinceApproved(h, o) {
  const approved = Number(h.approvedVersion || o.approvedVersion || 0);
  if (!approved) return el('p', { class: 'muted' }, t('detail.never'));
  const diffs = h.sinceApproved || [];
  return el('div', { class: 'since' },
    el('p', null, t('detail.since', { v: String(approved) })),
    diffs.length
      ? grid([t('col.field'), t('col.approved'), t('col.latest')],
        diffs.map((d) => [fieldLabel(d.field), formatJsonValue(d.field, d.approvedValue), formatJsonValue(d.field, d.latestValue)]), 'diff')
      : el('p', { class: 'muted' }, t('detail.since.none')));
}

// A whole record: fields, flags, position, photos, observations, the diff and history.
// history may be null (not loaded) or an Error (failed to load).
export function recordView(o, history, config) {
  const h = history && !(history instanceof Error) ? history : null;
  const obs = h ? h.observations || [] : [];
  return el('div', { class: 'record', dataset: { outfallId: o.id || '', version: String(o.version || '') } },
    el('section', { class: 'sec-fields' }, el('h3', null, t('detail.fields')), fieldsTable(o)),
    el('section', { class: 'sec-flags' }, el('h3', null, t('detail.flags')), flagList(o.flags)),
    el('section', { class: 'sec-position' }, el('h3', null, t('detail.position')), position(o, config)),
    el('section', { class: 'sec-photos' }, el('h3', null, t('detail.photos')), photoStrip(allPhotos(obs))),
    history instanceof Error
      ? el('p', { class: 'error' }, t('detail.history.unavailable', { msg: history.message }))
      : null,
    h ? el('section', { class: 'sec-since' }, el('h3', null, t('detail.since.title')), sinceApproved(h, o)) : null,
    obs.length ? el('section', { class: 'sec-observations' }, el('h3', null, t('detail.observations')),
      obs.slice().reverse().map(observationView)) : null,
    h ? el('section', { class: 'sec-history' }, el('h3', null, t('detail.history')), historyTable(h)) : null);
}
