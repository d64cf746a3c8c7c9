// The forms of the field: a new outfall (with its first observation and photos), an observation
// of a known outfall (also an inspection task's result, and remediation evidence), and an edit of
// a known outfall (only the fields that changed, on the version the phone has). They mirror the
// server's rules so rejections are rare; every form is a draft kept in IndexedDB as it is
// filled in, so closing the app loses nothing. Saving puts the changes in the outbox.
import { el, fill } from '../web/dom.js';
import { ENUMS, RIVERS, DIVISIONS, CITY_DIVISION } from '../web/labels.js';
import { t, enumLabel, riverLabel, divisionLabel } from './i18n.js';
import { app, go, banner, problem, refreshBadges } from './app.js';
import { Locator, nearby } from './position.js';
import { hashBlob, uuid } from './keys.js';
import { req } from './db.js';

// The photo kinds offered, the usual field set first.
const KINDS = ['PHOTO_KIND_NEAR', 'PHOTO_KIND_FAR', 'PHOTO_KIND_SIGNBOARD', 'PHOTO_KIND_SURROUNDINGS',
  'PHOTO_KIND_SAMPLING_POINT', 'PHOTO_KIND_SAMPLE', 'PHOTO_KIND_RAPID_TEST', 'PHOTO_KIND_TRACE_NODE',
  'PHOTO_KIND_RESPONSIBLE_UNIT', 'PHOTO_KIND_REMEDIATION_DONE'];
const MEASURES = [['cod_mg_l', 'codMgL'], ['nh3n_mg_l', 'nh3nMgL'], ['tp_mg_l', 'tpMgL'], ['tn_mg_l', 'tnMgL'], ['ph', 'ph'], ['flow_m3_s', 'flowM3S']];
const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

// Whether code is a unified social credit code whose check character is right (GB 32100-2015).
export function creditCodeValid(code) {
  if (!/^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CREDIT_ALPHABET.indexOf(code[i]) * (3 ** i % 31);
  return CREDIT_ALPHABET[(31 - (sum % 31)) % 31] === code[17];
}

// ---- small form parts ----

function field(label, input, hint) {
  return el('label', { class: 'field' }, el('span', null, label), input, hint || null);
}

function select(id, values, chosen, labelOf) {
  return el('select', { id }, values.map((v) => el('option', { value: v, selected: String(v) === String(chosen) }, labelOf(v))));
}

function enumSelect(id, enumName, chosen) {
  return select(id, [''].concat(ENUMS[enumName].slice(1)), chosen || '', (v) => (v ? enumLabel(enumName, v) : t('form.choose')));
}

function input(id, value, props = {}) {
  return el('input', { id, value: value ?? '', ...props });
}

function val(id) {
  const e = document.getElementById(id);
  return e ? e.value.trim() : '';
}

// The divisions this user may record in: their own, or every county for a city-wide account.
function userDivisions() {
  const d = app.session.divisions || [];
  return d.includes(CITY_DIVISION) ? DIVISIONS : d;
}

// ---- drafts ----

async function loadDraft(id) {
  return (await app.db.get('drafts', id)) || { id, values: {}, photos: [], position: null };
}

let saveTimer = null;
function keepDraft(draft) {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => app.db.put('drafts', draft).catch((e) => banner(problem(e))), 300);
}

// Remembers every input of form in draft.values as it changes, and restores them.
function bindDraft(form, draft) {
  for (const e of form.querySelectorAll('input, select, textarea')) {
    if (!e.id || e.type === 'file') continue;
    if (draft.values[e.id] !== undefined) e.value = draft.values[e.id];
    e.addEventListener('input', () => { draft.values[e.id] = e.value; keepDraft(draft); });
    e.addEventListener('change', () => { draft.values[e.id] = e.value; keepDraft(draft); });
  }
}

// ---- position ----

// The position block: the live fix and its accuracy, waiting for one better than the set
// accuracy, and a position placed by hand (typed, or a tap on the map) when the fix stays poor.
function positionBlock(draft) {
  const status = el('p', { id: 'pos-status', class: 'pos' });
  const useFix = el('button', { type: 'button', id: 'pos-use', class: 'small' }, t('pos.use'));
  const byHand = el('button', { type: 'button', id: 'pos-hand', class: 'small' }, t('pos.hand'));
  const handBox = el('div', { id: 'pos-hand-box', hidden: true },
    el('div', { class: 'row' }, field(t('f.lat'), input('hand-lat', '', { inputmode: 'decimal' })),
      field(t('f.lon'), input('hand-lon', '', { inputmode: 'decimal' }))),
    app.config.tileUrl && typeof L !== 'undefined' ? el('div', { id: 'hand-map', class: 'map small-map' }) : null,
    el('button', { type: 'button', id: 'pos-hand-ok', class: 'small' }, t('pos.hand_ok')));
  const chosen = el('p', { id: 'pos-chosen', class: 'pos-chosen' });
  const box = el('fieldset', { class: 'position' }, el('legend', null, t('pos.title')), status, chosen,
    el('div', { class: 'row' }, useFix, byHand), handBox);

  function showChosen() {
    const p = draft.position;
    chosen.textContent = p ? t(p.byHand ? 'pos.chosen_hand' : 'pos.chosen', { lat: p.lat.toFixed(6), lon: p.lon.toFixed(6), acc: p.accuracyM }) : t('pos.none');
    chosen.className = 'pos-chosen ' + (p ? 'ok' : 'bad');
  }
  const loc = new Locator((l) => {
    if (l.error && !l.best) status.textContent = t('pos.' + l.error);
    else if (l.best) status.textContent = t(l.good() ? 'pos.good' : 'pos.poor', { acc: l.best.accuracyM, good: l.goodM });
    status.className = 'pos ' + (l.good() ? 'ok' : 'warn');
    useFix.disabled = !l.best;
    // The first good fix is taken by itself unless a position was chosen already.
    if (l.good() && !draft.position) {
      draft.position = { lat: l.best.lat, lon: l.best.lon, accuracyM: l.best.accuracyM, byHand: false };
      keepDraft(draft);
      showChosen();
    }
  }, Number(localStorage.getItem('field.goodM')) || undefined);
  status.textContent = t('pos.waiting');
  useFix.disabled = true;
  useFix.addEventListener('click', () => {
    if (!loc.best) return;
    draft.position = { lat: loc.best.lat, lon: loc.best.lon, accuracyM: loc.best.accuracyM, byHand: false };
    keepDraft(draft);
    showChosen();
  });
  let handMap = null;
  byHand.addEventListener('click', () => {
    handBox.hidden = false;
    const at = draft.position || loc.best;
    if (at) {
      document.getElementById('hand-lat').value = at.lat.toFixed(6);
      document.getElementById('hand-lon').value = at.lon.toFixed(6);
    }
    const mapEl = document.getElementById('hand-map');
    if (mapEl && !handMap) {
      handMap = L.map(mapEl, { attributionControl: false }).setView(at ? [at.lat, at.lon] : [35.2, 113.2], at ? 17 : 10);
      L.tileLayer(app.config.tileUrl, { maxZoom: 19 }).addTo(handMap);
      const pin = L.circleMarker(at ? [at.lat, at.lon] : [0, 0], { radius: 9, color: '#c62828' }).addTo(handMap);
      handMap.on('click', (e) => {
        pin.setLatLng(e.latlng);
        document.getElementById('hand-lat').value = e.latlng.lat.toFixed(6);
        document.getElementById('hand-lon').value = e.latlng.lng.toFixed(6);
      });
    }
  });
  handBox.querySelector('#pos-hand-ok').addEventListener('click', () => {
    const lat = Number(val('hand-lat'));
    const lon = Number(val('hand-lon'));
    if (!val('hand-lat') || !val('hand-lon') || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
      banner(t('pos.hand_bad'));
      return;
    }
    draft.position = { lat, lon, byHand: true };
    keepDraft(draft);
    handBox.hidden = true;
    showChosen();
  });
  showChosen();
  loc.start();
  window.addEventListener('hashchange', () => loc.stop(), { once: true });
  return box;
}

// ---- photos ----

// A small JPEG of the photo for lists (the original bytes are kept apart, untouched).
async function thumbnail(file) {
  try {
    const bmp = await createImageBitmap(file, { resizeWidth: 200, resizeQuality: 'medium' });
    const c = document.createElement('canvas');
    c.width = bmp.width;
    c.height = bmp.height;
    c.getContext('2d').drawImage(bmp, 0, 0);
    return await new Promise((res) => c.toBlob(res, 'image/jpeg', 0.7));
  } catch (_) {
    return null; /* not decodable here (HEIC on some phones): the server still checks it */
  }
}

// Keeps a photo file on the phone under its BLAKE2b-256: the original bytes (for the server's
// EXIF checks) and a thumbnail. Resolves with {hash, kind}.
export async function keepPhoto(file, kind) {
  if (file.size > app.config.maxPhotoBytes) throw Object.assign(new Error(), { code: 'photo_too_large', message: t('photo.too_large', { mb: Math.round(app.config.maxPhotoBytes / 1048576) }) });
  const hash = await hashBlob(file);
  const thumb = await thumbnail(file);
  await app.db.write('photos', async (s) => {
    const had = await req(s.photos.get(hash));
    if (!had || !had.blob) s.photos.put({ ...(had || {}), hash, blob: file, thumb, kind, size: file.size, type: file.type, taken_ms: Date.now(), uploaded: !!(had && had.uploaded) });
  });
  return { hash, kind };
}

const urls = new Map();
export async function thumbUrl(hash) {
  if (urls.has(hash)) return urls.get(hash);
  const p = await app.db.get('photos', hash);
  const blob = p && (p.thumb || p.blob);
  const u = blob ? URL.createObjectURL(blob) : '';
  urls.set(hash, u);
  return u;
}

// The photos block: a kind, a camera button (capture), the photos taken with their kinds.
function photoBlock(draft, defaultKind) {
  const list = el('ul', { id: 'photo-list', class: 'photos' });
  const kind = select('photo-kind', KINDS, defaultKind || 'PHOTO_KIND_NEAR', (v) => enumLabel('photo_kind', v));
  const file = el('input', { id: 'photo-input', type: 'file', accept: 'image/jpeg,image/png,image/heic,image/*', capture: 'environment', multiple: true, class: 'file' });
  const busy = el('span', { id: 'photo-busy', class: 'muted small' });

  async function render() {
    const items = [];
    for (const p of draft.photos) {
      const u = await thumbUrl(p.hash);
      items.push(el('li', { dataset: { hash: p.hash } }, u ? el('img', { src: u, alt: '' }) : el('span', { class: 'noimg' }, '📷'),
        el('span', { class: 'small' }, enumLabel('photo_kind', p.kind)),
        el('button', { type: 'button', class: 'small', onclick: () => { draft.photos = draft.photos.filter((x) => x !== p); keepDraft(draft); render(); } }, t('photo.remove'))));
    }
    fill(list, items);
  }
  file.addEventListener('change', async () => {
    const files = Array.from(file.files || []);
    for (const [i, f] of files.entries()) {
      busy.textContent = t('photo.hashing', { i: i + 1, n: files.length });
      try {
        draft.photos.push(await keepPhoto(f, kind.value));
        keepDraft(draft);
      } catch (e) {
        banner(e.code === 'photo_too_large' ? e.message : problem(e));
      }
    }
    busy.textContent = '';
    file.value = '';
    await render();
  });
  render();
  return el('fieldset', { class: 'photos-box' }, el('legend', null, t('photo.title')),
    el('div', { class: 'row' }, kind, el('label', { class: 'button primary' }, t('photo.take'), file)), busy, list,
    el('p', { class: 'muted small' }, t('photo.hint')));
}

// ---- the observation's fields ----

function observationFields(prefix) {
  return el('fieldset', null, el('legend', null, t('obs.title')),
    field(t('obs.flowing'), select(prefix + 'flowing', ['', 'true', 'false'], '', (v) => (v === '' ? t('form.unknown') : v === 'true' ? t('obs.flowing_yes') : t('obs.flowing_no')))),
    el('div', { class: 'row' }, field(t('f.colour'), input(prefix + 'colour', '', { maxlength: 100 })), field(t('f.odour'), input(prefix + 'odour', '', { maxlength: 100 }))),
    el('div', { class: 'row' }, field(t('f.turbidity'), input(prefix + 'turbidity', '', { maxlength: 100 })),
      field(t('f.oil_film'), select(prefix + 'oil', ['', 'true', 'false'], '', (v) => (v === '' ? t('form.unknown') : v === 'true' ? t('value.yes') : t('value.no'))))),
    el('details', null, el('summary', null, t('obs.rapid')),
      el('div', { class: 'grid2' }, MEASURES.map(([k]) => field(t('f.' + k), input(prefix + k, '', { inputmode: 'decimal' }))))),
    field(t('f.notes'), el('textarea', { id: prefix + 'notes', rows: 3, maxlength: 2000 })));
}

// The observation's fields as the contract's JSON (only what was given), or throws a message.
function observationJson(prefix, draft, outfallId) {
  const o = { outfallId, observedAtMs: String(Date.now()) };
  const p = draft.position;
  if (p) {
    o.lat = p.lat;
    o.lon = p.lon;
    if (p.byHand) o.positionByHand = true;
    else o.accuracyM = p.accuracyM;
  }
  const flowing = val(prefix + 'flowing');
  if (flowing) o.flowing = flowing === 'true';
  for (const k of ['colour', 'odour', 'turbidity', 'notes']) if (val(prefix + k)) o[k] = val(prefix + k);
  if (val(prefix + 'oil')) o.oilFilm = val(prefix + 'oil') === 'true';
  for (const [k, j] of MEASURES) {
    const v = val(prefix + k);
    if (!v) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (k === 'ph' && n > 14)) throw new Error(t('form.bad_number', { field: t('f.' + k) }));
    o[j] = n;
  }
  if (draft.photos.length) o.photos = draft.photos.map((x) => ({ hash: x.hash, kind: x.kind }));
  o.surveyLevel = 'SURVEY_LEVEL_WALK';
  return o;
}

// Puts changes into the outbox in one transaction and drops the draft (a draft save still
// waiting for its 300 ms would put it back: the form's photos then showed on the next new form).
async function enqueue(changes, draftId) {
  clearTimeout(saveTimer);
  await app.db.write(['outbox', 'drafts'], (s) => {
    for (const c of changes) s.outbox.add({ ...c, state: 'queued', created_ms: Date.now() });
    s.drafts.delete(draftId);
  });
  await refreshBadges();
}

function change(kind, entityId, baseVersion, fields) {
  return { change_id: uuid(), entity_id: entityId, kind, base_version: baseVersion, fields, client_time_ms: Date.now() };
}

// Saves form with save() on submit: its message in the form's error line when it throws (a
// check that failed, or the disk full), else "saved" and the outfall's page (save resolves with
// the outfall's id).
function onSave(form, save) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = document.getElementById('form-error');
    err.hidden = true;
    try {
      const id = await save();
      if (!id) return; /* the surveyor went another way (the duplicate question) */
      banner(t('form.saved'), 'ok', 4000);
      go('o/' + encodeURIComponent(id));
    } catch (e) {
      err.textContent = e.code ? problem(e) : e.message;
      err.hidden = false;
    }
  });
}

// ---- new outfall ----

function outfallFields(o = {}) {
  const party = o.responsibleParty || {};
  const divisions = userDivisions();
  return el('div', null,
    field(t('f.name'), input('name', o.name, { maxlength: 200 })),
    field(t('f.river_code'), select('river', [''].concat(RIVERS), o.riverCode || '', (v) => (v ? riverLabel(v) : t('form.choose')))),
    field(t('f.division_code'), select('division', divisions.length > 1 ? [''].concat(divisions) : divisions, o.divisionCode || '', (v) => (v ? divisionLabel(v) : t('form.choose')))),
    field(t('f.type'), enumSelect('type', 'type', o.type)),
    el('div', { class: 'row' }, field(t('f.entry_method'), enumSelect('entry', 'entry_method', o.entryMethod)),
      field(t('f.discharge_regime'), enumSelect('regime', 'discharge_regime', o.dischargeRegime))),
    field(t('f.landmark'), input('landmark', o.landmark, { maxlength: 500 })),
    el('fieldset', null, el('legend', null, t('f.party')),
      field(t('f.party_name'), input('party-name', party.name, { maxlength: 200 })),
      field(t('f.credit_code'), input('credit-code', party.creditCode, { maxlength: 18, autocapitalize: 'characters' }),
        el('span', { id: 'credit-code-check', class: 'small' })),
      el('div', { class: 'row' }, field(t('f.contact'), input('party-contact', party.contact, { maxlength: 100 })),
        field(t('f.phone'), input('party-phone', party.phone, { inputmode: 'tel', maxlength: 24 })))));
}

function bindCreditCheck() {
  const box = document.getElementById('credit-code');
  const out = document.getElementById('credit-code-check');
  const check = () => {
    const v = box.value.trim().toUpperCase();
    out.textContent = !v ? '' : creditCodeValid(v) ? t('party.code_ok') : t('party.code_bad');
    out.className = 'small ' + (!v ? '' : creditCodeValid(v) ? 'ok' : 'bad');
  };
  box.addEventListener('input', check);
  check();
}

// The outfall's fields as the contract's JSON: only those given (all for a new one), or only
// those that differ from old for an edit.
function outfallJson(old) {
  const o = {};
  const set = (k, v) => { if (v !== '' && v !== undefined) o[k] = v; };
  set('name', val('name'));
  set('riverCode', val('river'));
  set('divisionCode', val('division'));
  set('type', val('type'));
  set('entryMethod', val('entry'));
  set('dischargeRegime', val('regime'));
  set('landmark', val('landmark'));
  const party = {};
  if (val('party-name')) party.name = val('party-name');
  if (val('credit-code')) party.creditCode = val('credit-code').toUpperCase();
  if (val('party-contact')) party.contact = val('party-contact');
  if (val('party-phone')) party.phone = val('party-phone');
  if (Object.keys(party).length) o.responsibleParty = party;
  if (!old) return o;
  const diff = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'responsibleParty') {
      const was = old.responsibleParty || {};
      const p = {};
      for (const [pk, pv] of Object.entries(v)) if (String(was[pk] ?? '') !== String(pv)) p[pk] = pv;
      if (Object.keys(p).length) diff.responsibleParty = p;
    } else if (String(old[k] ?? '') !== String(v)) {
      diff[k] = v;
    }
  }
  return diff;
}

// The duplicate check at the source: known outfalls within the duplicate radius on the same
// river. Resolves true to go on creating, false when the surveyor says it is the same outfall
// (then an observation of that one opens with this form's position and photos).
function confirmNotDuplicate(near, draft) {
  return new Promise((resolve) => {
    const dlg = el('div', { id: 'duplicate-dialog', class: 'dialog', role: 'dialog', 'aria-modal': 'true' },
      el('div', { class: 'card' },
        el('h3', null, t('dup.title')),
        el('p', null, t('dup.text', { r: app.config.duplicateRadiusM })),
        el('ul', { class: 'items' }, near.map(({ outfall: o, d }) => el('li', null,
          el('b', null, o.name || o.code || t('list.unnamed')), ' ', el('span', { class: 'muted' }, t('list.metres', { m: Math.round(d) })), ' ',
          el('button', { type: 'button', class: 'small same', dataset: { id: o.id }, onclick: async () => {
            dlg.remove();
            const obsDraft = { id: 'obs:' + o.id, values: {}, photos: draft.photos, position: draft.position };
            for (const k of Object.keys(draft.values)) if (k.startsWith('o-')) obsDraft.values[k] = draft.values[k];
            await app.db.write('drafts', (s) => { s.drafts.put(obsDraft); s.drafts.delete(draft.id); });
            resolve(false);
            go('obs/' + encodeURIComponent(o.id));
          } }, t('dup.same'))))),
        el('button', { type: 'button', id: 'dup-new', class: 'primary', onclick: () => { dlg.remove(); resolve(true); } }, t('dup.new')),
        el('button', { type: 'button', id: 'dup-cancel', onclick: () => { dlg.remove(); resolve(null); } }, t('form.cancel'))));
    document.body.append(dlg);
  });
}

export async function showNewOutfall() {
  const view = document.getElementById('view');
  const draft = await loadDraft('new');
  const form = el('form', { id: 'new-form', class: 'form', novalidate: true },
    el('h2', null, t('new.title')), positionBlock(draft), outfallFields(), photoBlock(draft), observationFields('o-'),
    el('p', { id: 'form-error', class: 'error', role: 'alert', hidden: true }),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'save-new', class: 'primary big' }, t('form.save')),
      el('button', { type: 'button', id: 'discard', onclick: () => discard(draft) }, t('form.discard'))));
  fill(view, form);
  bindDraft(form, draft);
  bindCreditCheck();
  onSave(form, async () => {
    const fields = outfallJson(null);
    const missing = [];
    if (!draft.position) missing.push(t('pos.title'));
    if (!fields.riverCode) missing.push(t('f.river_code'));
    if (!fields.divisionCode) missing.push(t('f.division_code'));
    if (missing.length) throw new Error(t('form.missing', { fields: missing.join(t('sep.items')) }));
    if (fields.responsibleParty && fields.responsibleParty.creditCode && !creditCodeValid(fields.responsibleParty.creditCode)) {
      throw new Error(t('party.code_bad'));
    }
    fields.lat = draft.position.lat;
    fields.lon = draft.position.lon;
    if (draft.position.byHand) fields.positionByHand = true;
    else fields.accuracyM = draft.position.accuracyM;
    fields.surveyLevel = 'SURVEY_LEVEL_WALK';
    const near = nearby(app.outfalls, fields.riverCode, fields.lat, fields.lon, app.config.duplicateRadiusM);
    if (near.length) {
      const goOn = await confirmNotDuplicate(near, draft);
      if (!goOn) return;
    }
    const id = uuid();
    const obs = observationJson('o-', draft, id);
    await enqueue([change('outfall', id, 0, fields), change('observation', uuid(), 0, obs)], draft.id);
    return id;
  });
}

async function discard(draft) {
  if (!confirm(t('form.discard_confirm'))) return;
  await app.db.delete('drafts', draft.id);
  go('list');
}

// ---- observation of a known outfall (and an inspection task's result) ----

export async function showObservation(arg) {
  const [id, flag] = arg.split('?');
  const view = document.getElementById('view');
  const o = app.outfalls.find((x) => x.id === id) || (await app.db.get('outfalls', id)) ||
    (await import('./boxes.js').then((b) => b.localRecords())).find((x) => x.id === id);
  if (!o) {
    fill(view, el('p', { class: 'error' }, t('detail.missing')));
    return;
  }
  const task = flag && flag.startsWith('task=') ? await app.db.get('tasks', decodeURIComponent(flag.slice(5))) : null;
  const draft = await loadDraft('obs:' + id + (task ? ':task' : ''));
  const taskBlock = task ? el('fieldset', null, el('legend', null, t('task.result')),
    select('inspection-result', ['', 'INSPECTION_RESULT_COMPLIANT', 'INSPECTION_RESULT_ISSUES_FOUND', 'INSPECTION_RESULT_ILLEGAL_DISCHARGE'], '',
      (v) => (v ? enumLabel('inspection_result', v) : t('form.choose')))) : null;
  const form = el('form', { id: 'obs-form', class: 'form', novalidate: true },
    el('h2', null, task ? t('task.title') : t('obs.new_title'), ' ', el('span', { class: 'muted' }, o.name || o.code || '')),
    taskBlock, positionBlock(draft), photoBlock(draft, flag === 'remediation' ? 'PHOTO_KIND_REMEDIATION_DONE' : 'PHOTO_KIND_NEAR'), observationFields('o-'),
    el('p', { id: 'form-error', class: 'error', role: 'alert', hidden: true }),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'save-obs', class: 'primary big' }, t('form.save')),
      el('button', { type: 'button', id: 'discard', onclick: () => discard(draft) }, t('form.discard'))));
  fill(view, form);
  bindDraft(form, draft);
  onSave(form, async () => {
    const obs = observationJson('o-', draft, id);
    if (task) {
      if (!val('inspection-result')) throw new Error(t('form.missing', { fields: t('task.result') }));
      obs.inspectionDrawId = task.drawId;
      obs.inspectionResult = val('inspection-result');
    }
    if (flag === 'remediation' && !draft.photos.some((p) => p.kind === 'PHOTO_KIND_REMEDIATION_DONE')) {
      throw new Error(t('obs.need_remediation_photo'));
    }
    if (task && task.observationId) {
      // A result sent back is corrected in place: an edit of the same observation (a second
      // result for the pick would be refused), on the version the phone saw.
      const seen = await app.db.get('observations', task.observationId);
      const { outfallId, inspectionDrawId, ...fields } = obs;
      await enqueue([change('observation', task.observationId, Number((seen && seen.version) || 1), fields)], draft.id);
    } else {
      await enqueue([change('observation', uuid(), 0, obs)], draft.id);
    }
    // Off the to-do list until the next sync tells how the supervisor sees it.
    if (task) await app.db.put('tasks', { ...task, state: 'INSPECTION_TASK_STATE_SUBMITTED', comment: '' });
    return id;
  });
}

// ---- edit of a known outfall ----

export async function showEdit(id) {
  const view = document.getElementById('view');
  const o = (await app.db.get('outfalls', id)) || app.outfalls.find((x) => x.id === id);
  if (!o) {
    fill(view, el('p', { class: 'error' }, t('detail.missing')));
    return;
  }
  const draft = await loadDraft('edit:' + id);
  const form = el('form', { id: 'edit-form', class: 'form', novalidate: true },
    el('h2', null, t('edit.title'), ' ', el('span', { class: 'muted' }, o.name || o.code || '')),
    o.reviewComment ? el('div', { class: 'comment' }, el('b', null, t('detail.comment')), ' ', o.reviewComment) : null,
    outfallFields(o),
    el('p', { class: 'muted small' }, t('edit.hint', { v: o.version })),
    el('p', { id: 'form-error', class: 'error', role: 'alert', hidden: true }),
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'save-edit', class: 'primary big' }, t('form.save')),
      el('button', { type: 'button', id: 'discard', onclick: () => discard(draft) }, t('form.discard'))));
  fill(view, form);
  bindDraft(form, draft);
  bindCreditCheck();
  onSave(form, async () => {
    const fields = outfallJson(o);
    if (Object.keys(fields).length === 0) throw new Error(t('edit.nothing'));
    const cc = fields.responsibleParty && fields.responsibleParty.creditCode;
    if (cc && !creditCodeValid(cc)) throw new Error(t('party.code_bad'));
    await enqueue([change('outfall', id, Number(o.version || 0), fields)], draft.id);
    return id;
  });
}

// A change the server rejected, opened for correction: its fields in the matching form. Saving
// sends a new change (a new change_id: the old one stays as the server recorded it).
export async function correctRejected(c) {
  await app.db.write(['outbox'], (s) => { s.outbox.put({ ...c, state: 'corrected' }); });
  if (c.kind === 'outfall' && Number(c.base_version) === 0) {
    const f = c.fields;
    const party = f.responsibleParty || {};
    const draft = { id: 'new', photos: [], position: f.lat !== undefined ? { lat: f.lat, lon: f.lon, accuracyM: f.accuracyM, byHand: !!f.positionByHand } : null,
      values: { name: f.name || '', river: f.riverCode || '', division: f.divisionCode || '', type: f.type || '', entry: f.entryMethod || '', regime: f.dischargeRegime || '',
        landmark: f.landmark || '', 'party-name': party.name || '', 'credit-code': party.creditCode || '', 'party-contact': party.contact || '', 'party-phone': party.phone || '' } };
    await app.db.put('drafts', draft);
    go('new');
  } else if (c.kind === 'outfall') {
    go('edit/' + encodeURIComponent(c.entity_id));
  } else {
    // An observation (or an inspection task's result: it opens with its task again).
    const f = c.fields;
    const task = f.inspectionDrawId ? `${f.inspectionDrawId}/${f.outfallId}` : '';
    const draft = { id: 'obs:' + f.outfallId + (task ? ':task' : ''), photos: (f.photos || []).map((p) => ({ hash: p.hash, kind: p.kind })),
      position: f.lat !== undefined ? { lat: f.lat, lon: f.lon, accuracyM: f.accuracyM, byHand: !!f.positionByHand } : null,
      values: { 'o-notes': f.notes || '', 'o-colour': f.colour || '', 'o-odour': f.odour || '', 'inspection-result': f.inspectionResult || '' } };
    await app.db.put('drafts', draft);
    go('obs/' + encodeURIComponent(f.outfallId) + (task ? '?task=' + encodeURIComponent(task) : ''));
  }
}
