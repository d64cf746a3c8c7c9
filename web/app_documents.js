// An application's documents (docs/api.md "Applications": `documentHashes`, photos of the
// documents): chosen in the filing form, hashed in the browser (BLAKE2b-256, as the server names
// photos), uploaded through the photo upload (PUT /v1/photos/{hash}, the bearer header) before
// the filing names them; and, on an application, listed with a button opening each (fetched with
// the token into a blob: URL). Only the uploader reads such a photo: others see why not.
import * as api from './api.js';
import { el, fill } from './dom.js';
import { t, errorText } from './i18n.js';
import { blake2b } from '../field/vendor/blake2.js';

export const MAX_DOCUMENTS = 20;

// The lowercase hex BLAKE2b-256 of a file, read a MiB at a time.
export async function hashFile(file) {
  const h = blake2b.create({ dkLen: 32 });
  for (let off = 0; off < file.size; off += 1 << 20) {
    h.update(new Uint8Array(await file.slice(off, off + (1 << 20)).arrayBuffer()));
  }
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function upload(file, hash) {
  let res;
  try {
    res = await fetch(`/v1/photos/${hash}`, { method: 'PUT', body: file, credentials: 'omit', headers: {
      Authorization: 'Bearer ' + (api.session() || {}).token, Accept: 'application/json',
      'Content-Type': file.type || 'image/jpeg' } });
  } catch (_) {
    throw new api.ApiError(0, 'network', t('err.network'));
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    throw new api.ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
  }
}

// The form's documents field: docs is the form's list [{name, hash, state, error}] (kept by the
// caller across redraws); busy(b) is told while uploads run, so the form's submit waits.
export function documentsField(docs, busy) {
  const list = el('ul', { id: 'application-documents-list', class: 'documents' });
  const pick = el('input', { id: 'application-documents', type: 'file', multiple: true,
    accept: 'image/jpeg,image/png,image/heic', onchange: () => add([...pick.files]) });
  function draw() {
    fill(list, docs.map((d) => el('li', { dataset: { hash: d.hash || '', state: d.state } }, d.name, ' — ',
      d.state === 'done' ? t('docs.uploaded') : d.state === 'error' ? el('span', { class: 'error' }, t('docs.failed', { msg: d.error }))
        : t('docs.uploading'))));
  }
  async function add(files) {
    busy(true);
    for (const f of files.slice(0, Math.max(0, MAX_DOCUMENTS - docs.length))) {
      const d = { name: f.name, hash: '', state: 'uploading', error: '' };
      docs.push(d);
      draw();
      try {
        d.hash = await hashFile(f);
        if (docs.some((x) => x !== d && x.hash === d.hash)) { docs.splice(docs.indexOf(d), 1); continue; }
        await upload(f, d.hash);
        d.state = 'done';
      } catch (e) {
        d.state = 'error';
        d.error = errorText(e);
      }
      draw();
    }
    pick.value = '';
    draw();
    busy(false);
  }
  draw();
  return el('div', { class: 'form-field documents-field' },
    el('label', { for: 'application-documents' }, t('docs.pick')), pick, list);
}

// The hashes of the documents uploaded, for the filing's documentHashes.
export function uploadedHashes(docs) {
  return docs.filter((d) => d.state === 'done').map((d) => d.hash);
}

// An application's documents: one line each, with a button opening it below.
export function documentsList(hashes) {
  if (!hashes || !hashes.length) return el('p', { class: 'muted', id: 'application-documents-none' }, t('docs.none'));
  const shown = el('div', { class: 'document-view' });
  return el('div', { id: 'application-documents-view' },
    el('ol', { class: 'documents' }, hashes.map((h, i) => el('li', { dataset: { hash: h } },
      el('button', { type: 'button', class: 'link open-document', onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          const url = await api.photoUrl(h);
          fill(shown, el('img', { src: url, alt: t('docs.name', { n: i + 1 }), class: 'document-image', dataset: { hash: h } }));
        } catch (e) {
          fill(shown, el('p', { class: 'error', role: 'alert' }, e.status === 404 ? t('docs.not_yours') : t('docs.failed', { msg: errorText(e) })));
        }
        ev.target.disabled = false;
      } }, t('docs.name', { n: i + 1 })), ' ', el('code', { class: 'hash' }, h.slice(0, 12) + '…')))),
    shown);
}
