// The programme's progress view (一.二): GET /v1/progress as a table per city, division and river,
// and a bar chart of traced and remediated percentages against what the deadlines expect by the
// chosen date. The chart is inline SVG built with DOM calls: no library, no markup strings, no
// inline style (colours come from style.css through classes).
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { t, divisionLabel, riverLabel, errorText } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const num = (v) => Number(v || 0);
const pct = (v) => num(v).toFixed(1) + '%';

// The row's name in the current language: our labels for divisions and rivers, else the server's.
function rowName(r) {
  if (r.scope === 'city') return t('progress.city');
  if (r.scope === 'division') return divisionLabel(r.code);
  if (r.scope === 'river') return riverLabel(r.code);
  return r.name || r.code || '';
}

function target(r, metric) {
  return (r.targets || []).find((x) => x.metric === metric) || null;
}

function statusCell(tc) {
  if (!tc) return '';
  if (tc.status === 'TARGET_STATUS_NOT_STARTED') // nothing found yet: never 达标 (issue 18)
    return el('span', { class: 'target not-started', dataset: { status: 'not_started' } }, t('progress.not_started'));
  const behind = tc.status === 'TARGET_STATUS_BEHIND';
  return el('span', { class: behind ? 'target behind' : 'target on-track', dataset: { status: behind ? 'behind' : 'on_track' } },
    t(behind ? 'progress.behind' : 'progress.on_track', { want: pct(tc.expectedPct) }));
}

function table(rows) {
  const headers = ['progress.col.name', 'progress.col.found', 'progress.col.traced', 'progress.col.traced_target',
    'progress.col.remediated', 'progress.col.remediated_target', 'progress.col.closed', 'progress.col.retained',
    'progress.col.overdue'].map((k) => t(k));
  const body = rows.map((r) => el('tr', { dataset: { scope: r.scope || '', code: r.code || '' } },
    el('th', { scope: 'row' }, rowName(r)),
    el('td', { class: 'n' }, String(num(r.found))),
    el('td', { class: 'n' }, `${num(r.traced)} (${pct(r.tracedPct)})`),
    el('td', null, statusCell(target(r, 'traced'))),
    el('td', { class: 'n' }, `${num(r.remediated)} (${pct(r.remediatedPct)})`),
    el('td', null, statusCell(target(r, 'remediated'))),
    el('td', { class: 'n' }, String(num(r.closed))),
    el('td', { class: 'n' }, String(num(r.retained))),
    el('td', { class: 'n' }, String(num(r.overduePlans)))));
  return grid(headers, body, 'progress-table');
}

// Horizontal bars: per row, traced % and remediated %, with a tick where each should stand.
function chart(rows) {
  const W = 640, LEFT = 150, BAR = 10, GAP = 6, ROW = 2 * BAR + GAP + 10, TOP = 24;
  const H = TOP + rows.length * ROW + 24;
  const scale = (p) => LEFT + ((W - LEFT - 20) * Math.max(0, Math.min(100, num(p)))) / 100;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', class: 'progress-chart' });
  root.append(svg('title', null, t('progress.chart')));
  for (const p of [0, 25, 50, 75, 100]) {
    root.append(svg('line', { x1: scale(p), x2: scale(p), y1: TOP - 6, y2: H - 20, class: 'grid-line' }));
    root.append(svg('text', { x: scale(p), y: H - 6, class: 'axis', 'text-anchor': 'middle' }, p + '%'));
  }
  root.append(svg('rect', { x: LEFT, y: 4, width: 10, height: 10, class: 'bar traced' }),
    svg('text', { x: LEFT + 14, y: 13, class: 'legend' }, t('progress.col.traced')),
    svg('rect', { x: LEFT + 140, y: 4, width: 10, height: 10, class: 'bar remediated' }),
    svg('text', { x: LEFT + 154, y: 13, class: 'legend' }, t('progress.col.remediated')));
  rows.forEach((r, i) => {
    const y = TOP + i * ROW;
    const g = svg('g', { 'data-code': r.code || '', 'data-scope': r.scope || '' });
    g.append(svg('text', { x: LEFT - 6, y: y + BAR + 4, class: 'label', 'text-anchor': 'end' }, rowName(r)));
    [['traced', r.tracedPct, 0], ['remediated', r.remediatedPct, BAR + 2]].forEach(([metric, value, dy]) => {
      const bar = svg('rect', { x: LEFT, y: y + dy, width: Math.max(0, scale(value) - LEFT), height: BAR, class: 'bar ' + metric });
      bar.append(svg('title', null, `${rowName(r)} ${t('progress.col.' + metric)} ${pct(value)}`));
      g.append(bar);
      const tc = target(r, metric);
      if (tc) {
        g.append(svg('line', { x1: scale(tc.expectedPct), x2: scale(tc.expectedPct), y1: y + dy - 1, y2: y + dy + BAR + 1,
          class: 'expected' + (tc.status === 'TARGET_STATUS_BEHIND' ? ' behind' : '') }));
      }
    });
    root.append(g);
  });
  return root;
}

// The view inside root; reload() fetches, render() redraws in the current language.
export function createProgress(root) {
  let report = null;
  let error = '';
  const asOf = el('input', { id: 'progress-as-of', type: 'date' });
  const status = el('p', { id: 'progress-status', class: 'muted', role: 'status' });
  const tableBox = el('div', { id: 'progress-table', class: 'progress-table-box' });
  const chartBox = el('div', { id: 'progress-chart' });
  const title = el('h2');
  const label = el('label', { for: 'progress-as-of' });
  const refresh = el('button', { id: 'progress-refresh', type: 'button', onclick: () => reload() });

  function build() {
    fill(root, title, el('div', { class: 'progress-controls' }, label, asOf, refresh), status, tableBox, chartBox);
    render();
  }

  function render() {
    title.textContent = t('progress.title');
    label.textContent = t('progress.as_of');
    refresh.textContent = t('queue.refresh');
    if (error) {
      status.textContent = t('progress.failed', { msg: error });
      return;
    }
    if (!report) {
      status.textContent = t('queue.loading');
      return;
    }
    const rows = report.rows || [];
    status.textContent = t('progress.as_of_note', { date: report.asOf || '', all: pct(report.basicallyAllPct) });
    fill(tableBox, table(rows));
    fill(chartBox, chart(rows));
  }

  async function reload() {
    root.dataset.loaded = 'loading';
    error = '';
    report = null;
    render();
    try {
      report = await api.call('GET', '/v1/progress' + (asOf.value ? '?as_of=' + encodeURIComponent(asOf.value) : ''));
      if (!asOf.value && report.asOf) asOf.value = report.asOf;
    } catch (e) {
      error = errorText(e);
    }
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  return { build, render, reload };
}

// The annual report reminder (四.一): from 1 to 10 January (China Standard Time) each county the
// caller covers that has not marked last year's report filed is named, with a button to mark it.
export function createReminder(box) {
  let state = null; // {year, due, missing}

  function render() {
    if (!state || !state.missing.length) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const names = state.missing.map((c) => divisionLabel(c)).join(t('sep.items'));
    fill(box, el('span', null, t('filing.reminder', { year: state.year, due: state.due, list: names })),
      state.missing.map((code) => el('button', { type: 'button', class: 'mark-filed', dataset: { division: code },
        onclick: () => markFiled(code) }, t('filing.mark', { name: divisionLabel(code) }))));
    box.hidden = false;
  }

  async function markFiled(code) {
    try {
      await api.call('POST', '/v1/reports/annual/filed', { divisionCode: code, year: state.year });
      await check();
    } catch (e) {
      fill(box, t('err.generic', { msg: errorText(e) }));
    }
  }

  async function check() {
    const cst = new Date(Date.now() + 8 * 3600 * 1000);
    state = null;
    if (cst.getUTCMonth() === 0 && cst.getUTCDate() <= 10) {
      const year = cst.getUTCFullYear() - 1;
      try {
        const l = await api.call('GET', '/v1/reports/filings?year=' + year);
        state = { year, due: l.due || '', missing: l.missing || [] };
      } catch (_) { state = null; }
    }
    render();
    box.dataset.checked = 'true';
  }

  function clear() {
    state = null;
    render();
  }

  return { check, render, clear };
}
