// The public's report form (举报): a citizen files a report without an account — what it is,
// where (the phone's position, a point on the map when the server has map tiles, or typed
// coordinates), the county, the outfall's code from its sign board, a description, a contact and up
// to five photos — and gets a tracking number with a link to the report's page
// (GET /public/reports/{number}, which the server renders for a browser). Photos are hashed
// (BLAKE2b-256) before filing, listed in the report, then uploaded with the one-time token the
// answer carries; a photo that fails never loses the report. No inline script: index.html loads
// this module and nothing else.
import { el, fill } from '../web/dom.js';
import { ENUMS, DIVISIONS } from '../web/labels.js';
import { blake2b } from '../field/vendor/blake2.js';
import { t, lang, setLang, translateStatic, enumLabel, divisionLabel, errorText } from './i18n.js';

const $ = (id) => document.getElementById(id);
const MAX_PHOTOS = 5;
const MAX_DESCRIPTION = 2000;
const MAX_CONTACT = 100;
const config = { tileUrl: '', maxPhotoBytes: 20 * 1048576 };
let map = null;
let marker = null;

const bytes = (s) => new TextEncoder().encode(s).length;

// The lowercase hex BLAKE2b-256 of a file, read a piece at a time.
async function hashFile(file) {
  const h = blake2b.create({ dkLen: 32 });
  for (let off = 0; off < file.size; off += 1 << 20) {
    h.update(new Uint8Array(await file.slice(off, off + (1 << 20)).arrayBuffer()));
  }
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
}

// A call to the server: the answer's JSON, or an Error with the server's code and message (code
// "network" when it cannot be reached).
async function call(method, path, body, headers = {}) {
  let res;
  try {
    res = await fetch(path, { method, body, headers: { Accept: 'application/json', ...headers } });
  } catch (e) {
    throw Object.assign(new Error(t('err.network')), { code: 'network' });
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (!res.ok) throw Object.assign(new Error((json && json.message) || `HTTP ${res.status}`), { code: json && json.code, status: res.status });
  return json;
}

function showError(text) {
  $('form-error').textContent = text;
  $('form-error').hidden = !text;
  if (text) $('form-error').scrollIntoView({ block: 'center' });
}

function progress(text) {
  $('progress').textContent = text || '';
  $('progress').hidden = !text;
}

function fillSelects() {
  const kind = $('kind').value;
  fill($('kind'), ...ENUMS.report_kind.slice(1).map((k) => el('option', { value: k }, enumLabel('report_kind', k))));
  if (kind) $('kind').value = kind;
  const div = $('division').value;
  fill($('division'), el('option', { value: '' }, t('pick.division')),
    ...DIVISIONS.map((d) => el('option', { value: d }, divisionLabel(d))));
  $('division').value = div;
}

function render() {
  translateStatic(document);
  $('lang').textContent = lang() === 'zh' ? 'English' : '中文';
  fillSelects();
}

function setPosition(lat, lon) {
  $('lat').value = lat.toFixed(6);
  $('lon').value = lon.toFixed(6);
  if (map) {
    if (marker) marker.setLatLng([lat, lon]);
    else marker = window.L.marker([lat, lon]).addTo(map);
    map.setView([lat, lon], Math.max(map.getZoom(), 15));
  }
}

function locate() {
  if (!navigator.geolocation) { $('pos-status').textContent = t('pos.none'); return; }
  $('pos-status').textContent = t('pos.locating');
  navigator.geolocation.getCurrentPosition((p) => {
    setPosition(p.coords.latitude, p.coords.longitude);
    $('pos-status').textContent = t('pos.got', { m: Math.round(p.coords.accuracy) });
  }, (e) => {
    $('pos-status').textContent = t('pos.denied', { why: e.message || e.code });
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
}

// The map, when the server has tiles (--tile-url): Leaflet as the field app ships it.
function loadMap() {
  if (!config.tileUrl) return;
  const css = el('link', { rel: 'stylesheet', href: '../field/vendor/leaflet.css' });
  const js = el('script', { src: '../field/vendor/leaflet.js' });
  js.addEventListener('load', () => {
    $('map').hidden = false;
    map = window.L.map('map').setView([35.2, 113.2], 10);
    window.L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    map.on('click', (ev) => setPosition(ev.latlng.lat, ev.latlng.lng));
    $('pos-status').textContent = t('pos.map');
  });
  document.head.append(css, js);
}

// The form's values as a PublicReport, or throws the first problem in the user's words.
function readForm() {
  const problem = (key, vars) => { throw new Error(t(key, vars)); };
  const kind = $('kind').value;
  if (!kind) problem('err.kind');
  const lat = Number($('lat').value.trim());
  const lon = Number($('lon').value.trim());
  if (!$('lat').value.trim() || !$('lon').value.trim() || !Number.isFinite(lat) || !Number.isFinite(lon) ||
      Math.abs(lat) > 90 || Math.abs(lon) > 180) problem('err.position');
  const divisionCode = $('division').value;
  if (!divisionCode) problem('err.division');
  const description = $('description').value.trim();
  if (!description) problem('err.description');
  if (bytes(description) > MAX_DESCRIPTION) problem('err.description_long');
  const contact = $('contact').value.trim();
  if (bytes(contact) > MAX_CONTACT) problem('err.contact_long');
  const files = Array.from($('photos').files || []);
  if (files.length > MAX_PHOTOS) problem('err.photos_many');
  for (const f of files) {
    if (f.size > config.maxPhotoBytes) problem('err.photo_big', { name: f.name, mb: Math.round(config.maxPhotoBytes / 1048576) });
  }
  const report = { kind, lat, lon, divisionCode, description };
  if (contact) report.contact = contact;
  const code = $('code').value.trim();
  if (code) report.outfallCode = code;
  return { report, files };
}

// Uploads each photo with the report's token; returns how many failed and the last reason.
async function uploadPhotos(files, hashes, token) {
  let failed = 0;
  let reason = '';
  for (let i = 0; i < files.length; i++) {
    progress(t('photo.uploading', { i: i + 1, n: files.length }));
    try {
      await call('PUT', `/v1/photos/${hashes[i]}`, files[i],
        { Authorization: `Bearer ${token}`, 'Content-Type': files[i].type || 'image/jpeg' });
    } catch (e) {
      failed++;
      reason = errorText(e);
    }
  }
  return { failed, reason };
}

async function submit(ev) {
  ev.preventDefault();
  showError('');
  let form;
  try { form = readForm(); } catch (e) { showError(e.message); return; }
  $('submit').disabled = true;
  try {
    const hashes = [];
    for (let i = 0; i < form.files.length; i++) {
      progress(t('photo.hashing', { i: i + 1, n: form.files.length }));
      hashes.push(await hashFile(form.files[i]));
    }
    if (hashes.length) form.report.photos = hashes;
    progress(t('sending'));
    const filed = await call('POST', '/public/reports', JSON.stringify(form.report), { 'Content-Type': 'application/json' });
    let photoText = '';
    if (hashes.length) {
      const up = await uploadPhotos(form.files, hashes, filed.uploadToken);
      photoText = up.failed ? t('photo.failed', { n: up.failed, msg: up.reason }) : t('photo.done', { n: hashes.length });
    }
    progress('');
    $('number').textContent = filed.number;
    $('status-link').href = `/public/reports/${encodeURIComponent(filed.number)}`;
    $('photo-result').textContent = photoText;
    $('report-form').hidden = true;
    $('done').hidden = false;
  } catch (e) {
    progress('');
    showError(e.code === 'network' ? t('err.network') : errorText(e));
  } finally {
    $('submit').disabled = false;
  }
}

function again() {
  $('report-form').reset();
  $('pos-status').textContent = '';
  $('done').hidden = true;
  $('report-form').hidden = false;
  fillSelects();
}

async function start() {
  render();
  const code = new URLSearchParams(location.search).get('code');
  if (code) $('code').value = code.slice(0, 40);
  $('lang').addEventListener('click', () => { setLang(lang() === 'zh' ? 'en' : 'zh'); render(); });
  $('locate').addEventListener('click', locate);
  $('report-form').addEventListener('submit', submit);
  $('again').addEventListener('click', again);
  try {
    Object.assign(config, await call('GET', '/web/config.json'));
  } catch (_) { /* defaults: no map */ }
  loadMap();
  document.body.dataset.ready = 'true';
}

start();
