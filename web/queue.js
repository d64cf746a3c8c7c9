// The review queue: counts per kind, filters (kind, division, river), a page of items and more
// on request. Opening an item is left to the caller (onOpen).
import * as api from './api.js';
import { el, fill } from './dom.js';
import { t, enumLabel, divisionLabel, riverLabel, formatTime, fieldLabel, errorText } from './i18n.js';
import { ENUMS, DIVISIONS, RIVERS, CITY_DIVISION } from './labels.js';

const PAGE = 50;
const KINDS = ENUMS.item_kind.slice(1);

// A stable key for an item, to keep it selected across reloads.
export function itemKey(item) {
  const sub = (item.conflict && item.conflict.id) || (item.duplicate && item.duplicate.id) ||
    (item.observation && item.observation.id) || '';
  return `${item.kind}|${item.outfallId}|${sub}`;
}

export function createQueue(pane, onOpen) {
  const state = {
    filters: { kind: '', division: '', river: '' },
    items: [], counts: {}, next: '', selected: '', loading: false, error: '', seq: 0,
  };
  let countsBox, list, more, status, kindSel, divSel, riverSel;

  function divisionsAllowed() {
    const s = api.session();
    const mine = (s && s.divisions) || [];
    if (!mine.length || mine.includes(CITY_DIVISION)) return DIVISIONS;
    return DIVISIONS.filter((d) => mine.includes(d));
  }

  function select(id, label, options, value) {
    const s = el('select', { id, name: id },
      options.map(([v, text]) => el('option', { value: v }, text)));
    s.value = value;
    s.addEventListener('change', () => {
      state.filters[id.replace('filter-', '')] = s.value;
      load(true);
    });
    return [el('label', { for: id }, label), s];
  }

  // Builds the pane's controls (again after a change of language).
  function build() {
    countsBox = el('div', { class: 'counts', id: 'counts', role: 'group' });
    const kindParts = select('filter-kind', t('queue.kind'),
      [['', t('queue.all')], ...KINDS.map((k) => [k, enumLabel('item_kind', k)])], state.filters.kind);
    const divParts = select('filter-division', t('queue.division'),
      [['', t('queue.any')], ...divisionsAllowed().map((d) => [d, divisionLabel(d)])], state.filters.division);
    const riverParts = select('filter-river', t('queue.river'),
      [['', t('queue.any')], ...RIVERS.map((r) => [r, riverLabel(r)])], state.filters.river);
    [kindSel, divSel, riverSel] = [kindParts[1], divParts[1], riverParts[1]];
    const refresh = el('button', { type: 'button', id: 'queue-refresh', onclick: () => load(true) }, t('queue.refresh'));
    status = el('p', { class: 'status', id: 'queue-status', role: 'status' });
    list = el('ol', { class: 'queue', id: 'queue-list' });
    more = el('button', { type: 'button', id: 'queue-more', hidden: true, onclick: () => load(false) }, t('queue.more'));
    fill(pane, el('h2', null, t('queue.title')), countsBox,
      el('div', { class: 'filters' }, kindParts, divParts, riverParts, refresh), status, list, more);
    render();
  }

  function renderCounts() {
    const total = KINDS.reduce((n, k) => n + (state.counts[k] || 0), 0);
    const chip = (kind, label, n) => el('button', {
      type: 'button', class: 'chip', dataset: { kind: kind || 'ALL' },
      'aria-pressed': String(state.filters.kind === kind),
      onclick: () => { state.filters.kind = kind; kindSel.value = kind; load(true); },
    }, label, ' ', el('span', { class: 'n' }, String(n)));
    fill(countsBox, chip('', t('queue.all'), total), KINDS.map((k) => chip(k, enumLabel('item_kind', k), state.counts[k] || 0)));
  }

  function itemView(item) {
    const o = item.outfall || {};
    const key = itemKey(item);
    const lines = [
      el('span', { class: 'kind kind-' + String(item.kind).replace('REVIEW_ITEM_KIND_', '').toLowerCase() },
        enumLabel('item_kind', item.kind)),
      el('span', { class: 'name' }, o.name || t('queue.unnamed')),
      el('span', { class: 'meta' }, [riverLabel(o.riverCode), divisionLabel(o.divisionCode), o.code || ''].filter(Boolean).join(' · ')),
    ];
    if (item.conflict) lines.push(el('span', { class: 'meta' }, t('queue.field', { field: fieldLabel(item.conflict.field) })));
    if (item.duplicate) {
      lines.push(el('span', { class: 'meta' }, t('queue.distance', { m: Number(item.duplicate.distanceM || 0).toFixed(1) })));
    }
    if (item.kind === 'REVIEW_ITEM_KIND_INSPECTION' && item.observation) {
      lines.push(el('span', { class: 'meta result' },
        enumLabel('inspection_result', item.observation.inspectionResult || 'INSPECTION_RESULT_UNSPECIFIED')));
    }
    if (item.atMs) lines.push(el('span', { class: 'meta time' }, formatTime(item.atMs)));
    return el('li', { dataset: { kind: item.kind, outfallId: item.outfallId || '' } },
      el('button', {
        type: 'button', class: 'item', 'aria-current': state.selected === key ? 'true' : 'false',
        onclick: () => { state.selected = key; renderList(); onOpen(item); },
      }, lines));
  }

  function renderList() {
    fill(list, state.items.map(itemView));
    more.hidden = !state.next;
    if (state.error) status.textContent = t('queue.failed', { msg: state.error });
    else if (state.loading) status.textContent = t('queue.loading');
    else status.textContent = state.items.length ? '' : t('queue.empty');
    status.className = 'status' + (state.error ? ' error' : '');
    pane.dataset.state = state.error ? 'error' : state.loading ? 'loading' : 'ready';
  }

  function render() {
    renderCounts();
    renderList();
  }

  // Loads the first page (reset) or the next one; a slower earlier answer is dropped.
  async function load(reset) {
    const seq = ++state.seq;
    state.loading = true;
    state.error = '';
    if (reset) { state.items = []; state.next = ''; }
    renderList();
    try {
      // The counts follow every filter the page does; with a kind chosen, the other kinds'
      // counts come from a one-item query without it.
      const [q, all] = await Promise.all([
        api.reviewQueue({ ...state.filters, limit: PAGE, pageToken: reset ? '' : state.next }),
        state.filters.kind ? api.reviewQueue({ ...state.filters, kind: '', limit: 1 }) : null,
      ]);
      if (seq !== state.seq) return;
      state.items = reset ? (q.items || []) : state.items.concat(q.items || []);
      state.next = q.nextPageToken || '';
      state.counts = {};
      for (const c of (all || q).counts || []) state.counts[c.kind] = Number(c.count || 0);
    } catch (e) {
      if (seq !== state.seq) return;
      state.error = errorText(e);
    }
    state.loading = false;
    render();
  }

  return {
    build,
    reload: () => load(true),
    clearSelection() { state.selected = ''; renderList(); },
    // Open conflicts of outfall id, read from the conflict queue of its division and river.
    async conflictsOf(outfallId, division, river) {
      const found = [];
      let token = '';
      for (let page = 0; page < 10; page++) {
        const q = await api.reviewQueue({ kind: 'REVIEW_ITEM_KIND_CONFLICT', division, river, limit: 200, pageToken: token });
        for (const it of q.items || []) if (it.outfallId === outfallId && it.conflict) found.push(it.conflict);
        token = q.nextPageToken || '';
        if (!token) break;
      }
      return found;
    },
  };
}
