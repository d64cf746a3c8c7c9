// The annual county report (四.一) in the console: GET /v1/reports/annual fetched with the bearer
// header and rendered into the page (its tables copied as text, no markup of the server's run),
// printed on A4 (style.css's print rules show the report alone), filed (POST
// /v1/reports/annual/filed; the server's refusal in the catalogue's words), the year's filings
// with the counties still missing, and compared with what was filed (current=1: today's report
// followed by section 六, the differences since the filing).
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { t, divisionLabel, errorText, formatTime } from './i18n.js';
import { DIVISIONS, CITY_DIVISION } from './labels.js';

// The elements copied from the server's report page; everything else is dropped, its text kept.
const KEPT = new Set(['H1', 'H2', 'H3', 'P', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'UL', 'OL', 'LI']);

// The report's HTML text as DOM nodes built here: kept elements recreated, text as text nodes,
// no attribute but colspan/rowspan, no script, style or link (the page's CSP stays whole).
export function reportNodes(html) {
  // The page's <head> (its <style>) is cut before parsing: a parsed inline style counts against
  // the console's CSP even in a document that is never shown.
  const body = String(html).replace(/<head[\s\S]*?<\/head>/gi, '').replace(/<style[\s\S]*?<\/style>/gi, '');
  const doc = new DOMParser().parseFromString(body, 'text/html');
  const copy = (node, into) => {
    for (const c of node.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) into.append(c.data);
      else if (c.nodeType !== Node.ELEMENT_NODE || ['SCRIPT', 'STYLE', 'TITLE', 'HEAD'].includes(c.tagName)) continue;
      else if (KEPT.has(c.tagName)) {
        const e = document.createElement(c.tagName.toLowerCase());
        for (const a of ['colspan', 'rowspan']) if (c.hasAttribute(a)) e.setAttribute(a, String(Number(c.getAttribute(a)) || 1));
        copy(c, e);
        into.append(e);
      } else copy(c, into);
    }
    return into;
  };
  return copy(doc.body, document.createElement('div'));
}

// The report's figures by the keys its CSV (and so section 六, the differences) names them, in
// the words of the report's own tables (programme/progress.c).
const FIGURES = {
  found_in_year: '年内排查发现', traced_in_year: '年内完成溯源', planned_in_year: '年内制定整治方案',
  remediated_in_year: '年内完成整治', remediated_ban: '其中：取缔', remediated_merge: '其中：合并',
  remediated_regularize: '其中：规范', remediated_none: '另：无需整治（不计入整治）', closed_in_year: '年内销号',
  retained_in_year: '年内列入保留清单', inspections_drawn: '年内随机抽取排污口（抽查任务）',
  inspection_results: '其中：已提交检查结果', inspection_results_approved: '其中：检查结果已审核公开',
  inspections_not_done: '其中：逾期未检查（不计为检查）', self_check_planned: '市县自查计划检查排污口',
  self_check_done: '市县自查已完成（检查结果已审核）', public_reports_received: '年内收到公众举报',
  public_reports_answered: '年内答复公众举报', public_reports_illegal_discharge: '其中：偷排、超标排放、违规设置排污口',
  public_reports_borrowed_use: '其中：私设暗管借道排污', found_by_year_end: '截至年底已排查',
  traced_by_year_end: '截至年底已溯源', remediated_by_year_end: '截至年底已整治', overdue_plans: '逾期未完成整治方案',
  traced_pct: '溯源比例（%）', remediated_pct: '整治比例（%）', traced_status: '溯源目标', remediated_status: '整治目标',
};
const LISTS = { closed: '年内销号排污口', retained: '保留排污口清单', overdue: '逾期未完成整治的排污口' };

// Section 六 (the differences since the filing) made readable: each figure's key replaced by its
// name, each listed outfall's CSV line by its list's name, code and name. Marks the rows.
function readableDifferences(box) {
  const head = [...box.querySelectorAll('h2')].find((h) => h.textContent.startsWith('六'));
  const table = head && head.nextElementSibling;
  if (!table || table.tagName !== 'TABLE') return;
  table.classList.add('annual-diff');
  for (const tr of table.querySelectorAll('tr')) {
    const cell = tr.querySelector('td');
    if (!cell || cell.colSpan > 1) continue;
    const raw = cell.textContent;
    tr.dataset.what = raw.split(',')[0];
    if (FIGURES[raw]) cell.textContent = FIGURES[raw];
    else if (raw.includes(',')) {
      const [list, code, name] = raw.split(',');
      cell.textContent = `${LISTS[list] || list}：${code || ''} ${name || ''}`.trim();
    }
  }
}

// The counties the signed-in user covers (all the city's for a city account).
function counties() {
  const s = api.session() || {};
  const mine = s.divisions || [];
  return mine.includes(CITY_DIVISION) ? DIVISIONS.slice() : mine.filter((d) => d !== CITY_DIVISION);
}

// The view inside root; reload() fetches the filings and the report, render() redraws.
export function createAnnual(root, { notice }) {
  const lastYear = new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear() - 1;
  let filings = null; // ReportFilingList of the chosen year
  let html = '';
  let mode = 'view'; // 'view' (as filed, or today's when not filed) or 'compare' (current=1)
  let error = null;
  let busy = false;
  const year = el('input', { id: 'annual-year', type: 'number', min: '2000', max: '2100', step: '1', value: String(lastYear) });
  const county = el('select', { id: 'annual-division' });
  const yearLabel = el('label', { for: 'annual-year' });
  const countyLabel = el('label', { for: 'annual-division' });
  const show = el('button', { id: 'annual-show', type: 'button', onclick: () => load('view') });
  const compare = el('button', { id: 'annual-compare', type: 'button', onclick: () => load('compare') });
  const print = el('button', { id: 'annual-print', type: 'button', onclick: () => window.print() });
  const file = el('button', { id: 'annual-file', type: 'button', onclick: () => fileReport() });
  const csv = el('button', { id: 'annual-csv', type: 'button', onclick: () => saveCsv() });
  const title = el('h2');
  const status = el('p', { id: 'annual-status', class: 'muted', role: 'status' });
  const filedBox = el('div', { id: 'annual-filings' });
  const doc = el('article', { id: 'annual-report', class: 'annual-doc' });

  function build() {
    // the caller's counties, as signed in now (the choice kept when still theirs)
    const was = county.value;
    fill(county, counties().map((c) => el('option', { value: c })));
    if (counties().includes(was)) county.value = was;
    fill(root, title, el('div', { class: 'annual-controls' }, yearLabel, year, countyLabel, county, show, compare, print, csv, file),
      status, filedBox, doc);
    render();
  }

  function filingOf(code) {
    return ((filings && filings.filed) || []).find((f) => f.divisionCode === code) || null;
  }

  function render() {
    title.textContent = t('annual.title');
    yearLabel.textContent = t('annual.year');
    countyLabel.textContent = t('annual.division');
    for (const o of county.options) o.textContent = divisionLabel(o.value);
    show.textContent = t('annual.show');
    compare.textContent = t('annual.compare');
    print.textContent = t('annual.print');
    file.textContent = t('annual.file');
    csv.textContent = t('annual.csv');
    for (const b of [show, compare, file, csv]) b.disabled = busy;
    const f = filingOf(county.value);
    compare.disabled = busy || !f;
    status.className = error ? 'error' : 'muted';
    status.setAttribute('role', error ? 'alert' : 'status');
    status.textContent = error ? t('annual.failed', { msg: errorText(error) })
      : busy ? t('queue.loading')
        : mode === 'compare' ? t('annual.comparing', { n: f ? f.number || 1 : 1 })
          : f ? t('annual.as_filed', { n: f.number || 1, at: formatTime(f.filedAtMs), by: f.filedBy || '' })
            : t('annual.not_filed');
    root.dataset.mode = mode;
    if (!filings) { fill(filedBox); return; }
    const rows = (filings.filed || []).map((x) => el('tr', { dataset: { division: x.divisionCode || '', state: 'filed' } },
      el('td', null, divisionLabel(x.divisionCode)), el('td', null, t('annual.filed_state', { n: x.number || 1 })),
      el('td', null, formatTime(x.filedAtMs)), el('td', null, x.filedBy || '')));
    for (const m of filings.missing || []) {
      rows.push(el('tr', { class: 'missing', dataset: { division: m, state: 'missing' } },
        el('td', null, divisionLabel(m)), el('td', null, t('annual.missing')), el('td', null, ''), el('td', null, '')));
    }
    fill(filedBox, el('h3', null, t('annual.filings', { year: filings.year || year.value, due: filings.due || '' })),
      grid(['division', 'state', 'at', 'by'].map((k) => t('annual.col.' + k)), rows, 'annual-filings'));
  }

  // The report as the view shows it (as filed, or compared): HTML text, or CSV bytes.
  async function fetchReport(which, format = 'html') {
    const q = new URLSearchParams({ year: year.value, division: county.value, format });
    if (which === 'compare') q.set('current', '1');
    let res;
    try {
      res = await fetch('/v1/reports/annual?' + q, { headers: { Authorization: 'Bearer ' + (api.session() || {}).token,
        Accept: format === 'csv' ? 'text/csv' : 'text/html' },
        credentials: 'omit', cache: 'no-store' });
    } catch (_) {
      throw new api.ApiError(0, 'network', t('err.network'));
    }
    if (res.ok && format === 'csv') return res.arrayBuffer(); // its bytes: the BOM kept for spreadsheets
    const text = await res.text();
    if (!res.ok) {
      let data = null;
      try { data = JSON.parse(text); } catch (_) { data = null; }
      throw new api.ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
    }
    return text;
  }

  async function load(which) {
    mode = which || 'view';
    error = null;
    busy = true;
    root.dataset.loaded = 'loading';
    render();
    try {
      filings = await api.call('GET', '/v1/reports/filings?year=' + encodeURIComponent(year.value));
      html = await fetchReport(mode);
      fill(doc, reportNodes(html));
      readableDifferences(doc);
    } catch (e) {
      error = e;
      fill(doc);
    }
    busy = false;
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  // Saves the report shown as CSV (annual-<county>-<year>.csv).
  async function saveCsv() {
    busy = true;
    error = null;
    render();
    try {
      const bytes = await fetchReport(mode, 'csv');
      const url = URL.createObjectURL(new Blob([bytes], { type: 'text/csv;charset=utf-8' }));
      const a = el('a', { href: url, download: `annual-${county.value}-${year.value}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      error = e;
    }
    busy = false;
    render();
  }

  async function fileReport() {
    busy = true;
    error = null;
    render();
    try {
      const f = await api.call('POST', '/v1/reports/annual/filed', { divisionCode: county.value, year: Number(year.value) });
      notice(t('annual.filed_ok', { name: divisionLabel(county.value), year: year.value, n: f.number || 1 }));
      busy = false;
      await load('view');
      return;
    } catch (e) {
      error = e;
    }
    busy = false;
    render();
    root.dataset.loaded = 'error';
  }

  return { build, render, reload: () => load('view') };
}
