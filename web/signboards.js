// Printable sign boards (二.二.2), one A4 page each: the QR code of GET
// /v1/outfalls/{id}/signboard (SVG fetched with the bearer header, shown from a blob: URL), the
// code, name, receiving river, responsible party and the hotline 12369. Opened as
// #signboards/<id>[,<id>...] from the outfall's page (one) or the inventory (the rows shown).
import * as api from './api.js';
import { el, fill } from './dom.js';
import { t, riverLabel, divisionLabel, errorText } from './i18n.js';

export const HOTLINE = '12369';

// The ids named by an address #signboards/<id>,<id>... (at most 500, each a UUID or a code).
export function idsFromHash(hash) {
  let rest = '';
  try { rest = decodeURIComponent(String(hash).replace(/^#signboards\/?/, '')); } catch (_) { rest = ''; }
  return rest.split(',').map((s) => s.trim()).filter((s) => /^[\w.-]{1,64}$/.test(s)).slice(0, 500);
}

async function qrUrl(id) {
  let res;
  try {
    res = await fetch(`/v1/outfalls/${encodeURIComponent(id)}/signboard?format=svg`, {
      headers: { Authorization: 'Bearer ' + (api.session() || {}).token, Accept: 'image/svg+xml' },
      credentials: 'omit', cache: 'no-store' });
  } catch (_) {
    throw new api.ApiError(0, 'network', t('err.network'));
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    throw new api.ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
  }
  return URL.createObjectURL(await res.blob());
}

// The view inside root: open(ids) loads each board; render() redraws in the current language.
export function createSignboards(root) {
  let boards = []; // {id, outfall, qr (blob: URL), error}
  let ids = [];
  let seq = 0;

  function board(b) {
    if (b.error) {
      return el('section', { class: 'signboard failed', dataset: { outfallId: b.id } },
        el('p', { class: 'error', role: 'alert' }, t('sign.failed', { id: b.id, msg: errorText(b.error) })));
    }
    const o = b.outfall;
    const party = (o.responsibleParty && o.responsibleParty.name) || t('sign.no_party');
    return el('section', { class: 'signboard', dataset: { outfallId: o.id || b.id, code: o.code || '' } },
      el('h3', { class: 'sign-title' }, t('sign.heading')),
      el('div', { class: 'sign-body' },
        el('img', { class: 'sign-qr', src: b.qr, alt: t('sign.qr_alt', { code: o.code || '' }) }),
        el('dl', { class: 'sign-facts' },
          el('dt', null, t('sign.code')), el('dd', { class: 'sign-code' }, o.code || ''),
          el('dt', null, t('sign.name')), el('dd', { class: 'sign-name' }, o.name || ''),
          el('dt', null, t('sign.river')), el('dd', { class: 'sign-river' }, riverLabel(o.riverCode)),
          el('dt', null, t('sign.division')), el('dd', null, divisionLabel(o.divisionCode)),
          el('dt', null, t('sign.party')), el('dd', { class: 'sign-party' }, party))),
      el('p', { class: 'sign-hotline' }, t('sign.hotline', { tel: HOTLINE })),
      el('p', { class: 'sign-scan' }, t('sign.scan')));
  }

  function render() {
    const printBtn = el('button', { id: 'signboards-print', type: 'button', onclick: () => window.print(), disabled: !boards.length }, t('sign.print'));
    fill(root,
      el('div', { class: 'no-print' }, el('p', null, el('a', { href: '#inventory', class: 'back' }, t('page.back'))),
        el('h2', null, t('sign.title')),
        el('p', { class: 'muted', id: 'signboards-status' }, !ids.length ? t('sign.none')
          : boards.length < ids.length ? t('queue.loading') : t('sign.count', { n: boards.filter((b) => !b.error).length })),
        printBtn),
      el('div', { class: 'signboards' }, boards.map(board)));
    root.dataset.boards = String(boards.filter((b) => !b.error).length);
  }

  async function open(which) {
    const mine = ++seq;
    for (const b of boards) if (b.qr) URL.revokeObjectURL(b.qr);
    ids = which;
    boards = [];
    root.dataset.loaded = 'loading';
    render();
    const loaded = [];
    for (const id of ids) {
      try {
        const [outfall, qr] = await Promise.all([api.outfall(id, 'approved'), qrUrl(id)]);
        loaded.push({ id, outfall, qr });
      } catch (e) {
        loaded.push({ id, error: e });
      }
      if (mine !== seq) return;
    }
    boards = loaded;
    render();
    root.dataset.loaded = 'true';
  }

  return { build() {}, reload() { open(idsFromHash(location.hash)); }, render, open };
}
