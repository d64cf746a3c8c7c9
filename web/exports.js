// The exports view: the approved inventory as CSV or GeoJSON, and its photos as a tar archive
// (GET /v1/exports/..., docs/api.md "Exports"), filtered by county, river, found from/to and
// updated since. Each download is fetched with the bearer header, read as a stream with the bytes
// so far shown, and saved as a file from a blob: URL; a refusal shows the catalogue's words.
import * as api from './api.js';
import { el, fill } from './dom.js';
import { t, divisionLabel, riverLabel, errorText } from './i18n.js';
import { DIVISIONS, RIVERS, CITY_DIVISION } from './labels.js';

const FILES = [
  { key: 'csv', path: '/v1/exports/outfalls.csv', name: 'outfalls.csv' },
  { key: 'geojson', path: '/v1/exports/outfalls.geojson', name: 'outfalls.geojson' },
  { key: 'tar', path: '/v1/exports/photos.tar', name: 'photos.tar' },
];

// Bytes as people read them: 512 B, 1.5 KB, 3.2 MB.
export function byteText(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}

// The counties the signed-in user may export (all the city's for a city account).
function counties() {
  const mine = (api.session() || {}).divisions || [];
  return mine.includes(CITY_DIVISION) ? DIVISIONS : DIVISIONS.filter((d) => mine.includes(d));
}

// The view inside root; reload() resets its status, render() redraws in the current language.
export function createExports(root, { notice }) {
  let state = { kind: '', key: '', bytes: 0, error: null };
  const select = (id, values, labelOf) => {
    const s = el('select', { id }, el('option', { value: '' }));
    for (const v of values) s.append(el('option', { value: v }));
    s.labelOf = labelOf;
    return s;
  };
  const controls = {
    division: select('export-division', [], divisionLabel),
    river: select('export-river', RIVERS, riverLabel),
    from: el('input', { id: 'export-from', type: 'date' }),
    to: el('input', { id: 'export-to', type: 'date' }),
    updated_since: el('input', { id: 'export-updated-since', type: 'date' }),
  };
  const labels = Object.fromEntries(Object.keys(controls).map((k) => [k, el('label', { for: controls[k].id })]));
  const buttons = FILES.map((f) => el('button', { id: 'export-' + f.key, type: 'button', dataset: { file: f.key }, onclick: () => download(f) }));
  const title = el('h2');
  const hint = el('p', { class: 'muted' });
  const status = el('p', { id: 'export-status', role: 'status' });

  function build() {
    // the caller's counties, as signed in now
    fill(controls.division, el('option', { value: '' }), counties().map((v) => el('option', { value: v })));
    fill(root, title, hint,
      el('div', { class: 'export-filters' }, Object.keys(controls).map((k) => el('div', { class: 'field' }, labels[k], controls[k]))),
      el('div', { class: 'export-buttons' }, buttons), status);
    render();
  }

  function render() {
    title.textContent = t('export.title');
    hint.textContent = t('export.hint');
    for (const [k, l] of Object.entries(labels)) l.textContent = t('export.' + k);
    for (const s of [controls.division, controls.river]) {
      for (const o of s.options) o.textContent = o.value ? s.labelOf(o.value) : t('export.all');
    }
    FILES.forEach((f, i) => {
      buttons[i].textContent = t('export.' + f.key);
      buttons[i].disabled = state.kind === 'running';
    });
    status.className = state.kind === 'error' ? 'error' : 'muted';
    status.setAttribute('role', state.kind === 'error' ? 'alert' : 'status');
    status.dataset.state = state.kind;
    status.textContent = state.kind === 'running' ? t('export.running', { file: t('export.' + state.key), size: byteText(state.bytes) })
      : state.kind === 'done' ? t('export.done', { file: t('export.' + state.key), size: byteText(state.bytes) })
        : state.kind === 'error' ? t('export.failed', { msg: errorText(state.error) }) : '';
  }

  function query() {
    const q = new URLSearchParams();
    for (const [k, c] of Object.entries(controls)) if (c.value) q.set(k, c.value);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  // Fetches f with the current filters, counting bytes as they come, then saves them as a file.
  async function download(f) {
    state = { kind: 'running', key: f.key, bytes: 0, error: null };
    render();
    try {
      let res;
      try {
        res = await fetch(f.path + query(), { headers: { Authorization: 'Bearer ' + (api.session() || {}).token, Accept: '*/*' },
          credentials: 'omit', cache: 'no-store' });
      } catch (_) {
        throw new api.ApiError(0, 'network', t('err.network'));
      }
      if (!res.ok) {
        let data = null;
        try { data = await res.json(); } catch (_) { data = null; }
        throw new api.ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
      }
      const chunks = [];
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        state.bytes += value.length;
        render();
      }
      const url = URL.createObjectURL(new Blob(chunks, { type: res.headers.get('Content-Type') || 'application/octet-stream' }));
      const a = el('a', { href: url, download: f.name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      state.kind = 'done';
      notice(t('export.done', { file: t('export.' + f.key), size: byteText(state.bytes) }));
    } catch (e) {
      state = { kind: 'error', key: f.key, bytes: 0, error: e };
    }
    render();
  }

  return { build, render, reload() { root.dataset.loaded = 'true'; } };
}
