// County self-check plans (市县自查): the year's plans of the caller's counties with their
// progress (GET /v1/self-check-plans?year=: doneCount and donePercent of plannedCount) and the
// counties still missing one; a supervisor of a county (a city supervisor for any county, an
// admin) writes or replaces the county's plan (POST /v1/self-check-plans, one per county and
// year, so sending it again records one plan).
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { t, divisionLabel, riverLabel, formatTime, errorText } from './i18n.js';
import { DIVISIONS, CITY_DIVISION, RIVERS } from './labels.js';

const tx = (key, vars) => t('sc.' + key, vars);
const WRITERS = new Set(['ROLE_SUPERVISOR', 'ROLE_ADMIN']);

// This year in China Standard Time.
function thisYear() {
  return new Date(Date.now() + 8 * 3600 * 1000).getUTCFullYear();
}

// The counties the signed-in user may write plans for.
function myCounties() {
  const s = api.session() || {};
  if (!WRITERS.has(s.role)) return [];
  const mine = s.divisions || [];
  return s.role === 'ROLE_ADMIN' || mine.includes(CITY_DIVISION) ? DIVISIONS : DIVISIONS.filter((d) => mine.includes(d));
}

// Codes typed one per line or separated by commas, spaces or 、 → a list without blanks.
function splitCodes(text) {
  return String(text || '').split(/[\s,，、;；]+/).map((c) => c.trim()).filter(Boolean);
}

// The view inside root; reload() fetches, render() redraws in the current language.
export function createSelfChecks(root, { notice }) {
  let year = thisYear();
  let plans = [];
  let missing = [];
  let error = '';
  let loading = false;
  let form = null; // {division, plannedCount, rivers: Set, codes, note, busy, error}

  const title = el('h2');
  const yearLabel = el('label', { for: 'selfchecks-year' });
  const yearPick = el('select', { id: 'selfchecks-year', onchange: () => { year = Number(yearPick.value); reload(); } });
  const refresh = el('button', { id: 'selfchecks-refresh', type: 'button', onclick: () => reload() });
  const write = el('button', { id: 'selfchecks-new', type: 'button', onclick: () => openForm('') });
  const line = el('p', { id: 'selfchecks-line', class: 'muted', role: 'status' });
  const list = el('div', { id: 'selfchecks-list' });
  const missingBox = el('p', { id: 'selfchecks-missing' });
  const formBox = el('div', { id: 'selfchecks-form-box' });
  const panes = el('div', { class: 'selfchecks-panes' }, list, formBox); // side by side while the form is open

  function build() {
    fill(root, title, el('div', { class: 'progress-controls' }, yearLabel, yearPick, refresh, write), line,
      missingBox, panes);
    render();
  }

  function bar(percent) {
    const b = el('span', { class: 'sc-bar' }, el('span', { class: 'sc-fill' }));
    b.firstChild.style.width = Math.min(100, Number(percent) || 0) + '%';
    return b;
  }

  function row(p) {
    const canWrite = myCounties().includes(p.divisionCode);
    return el('tr', { class: 'selfcheck-row', dataset: { division: p.divisionCode } },
      el('td', null, divisionLabel(p.divisionCode)),
      el('td', { class: 'sc-planned' }, String(p.plannedCount || 0)),
      el('td', { class: 'sc-done' }, tx('done_of', { done: p.doneCount || 0, percent: p.donePercent || 0 }), bar(p.donePercent)),
      el('td', null, (p.riverCodes || []).map(riverLabel).join(t('sep.items')) || t('value.empty')),
      el('td', null, (p.outfallCodes || []).length ? tx('codes_n', { n: p.outfallCodes.length }) : t('value.empty')),
      el('td', { class: 'sc-note' }, p.note || t('value.empty')),
      el('td', null, tx('recorded', { user: p.recordedBy || '', time: formatTime(p.recordedAtMs) })),
      el('td', null, canWrite ? el('button', { type: 'button', class: 'sc-edit', onclick: () => openForm(p.divisionCode) }, tx('replace')) : ''));
  }

  function renderList() {
    line.textContent = error ? tx('failed', { msg: error }) : loading ? tx('loading') : tx('count', { n: plans.length, year });
    fill(missingBox, missing.length
      ? [el('strong', null, tx('missing')), ' ', missing.map(divisionLabel).join(t('sep.items'))]
      : loading || error ? '' : tx('none_missing'));
    if (!plans.length) {
      fill(list, el('p', { class: 'muted' }, loading ? tx('loading') : tx('empty')));
      return;
    }
    fill(list, grid(['county', 'planned', 'done', 'rivers', 'codes', 'note', 'by', 'action'].map((k) => tx('col.' + k)),
      plans.map(row), 'selfchecks-table'));
  }

  function renderForm() {
    panes.className = form ? 'applications-panes' : 'selfchecks-panes';
    if (!form) {
      fill(formBox);
      return;
    }
    const counties = myCounties();
    const county = el('select', { id: 'selfcheck-division', onchange: () => { form.division = county.value; } },
      counties.map((d) => el('option', { value: d }, divisionLabel(d))));
    county.value = form.division;
    const planned = el('input', { id: 'selfcheck-planned', type: 'number', min: 1, max: 100000, required: true,
      value: form.plannedCount, oninput: () => { form.plannedCount = planned.value; } });
    const codes = el('textarea', { id: 'selfcheck-codes', rows: 3, value: form.codes, oninput: () => { form.codes = codes.value; } });
    const note = el('textarea', { id: 'selfcheck-note', rows: 3, maxlength: 2000, value: form.note, oninput: () => { form.note = note.value; } });
    const field = (key, control) => el('label', { class: 'form-field' }, el('span', null, tx(key)), control);
    fill(formBox, el('form', { id: 'selfcheck-form', class: 'application-form', onsubmit: (ev) => { ev.preventDefault(); send(); } },
      el('h3', null, tx('form_title', { year })),
      field('county', county), field('planned', planned),
      el('fieldset', null, el('legend', null, tx('rivers')), RIVERS.map((r) => el('label', { class: 'check' },
        el('input', { type: 'checkbox', value: r, checked: form.rivers.has(r),
          onchange: (ev) => { if (ev.target.checked) form.rivers.add(r); else form.rivers.delete(r); } }), riverLabel(r)))),
      field('codes', codes), el('p', { class: 'muted' }, tx('codes_hint')), field('note', note),
      el('div', { class: 'buttons' },
        el('button', { id: 'selfcheck-submit', type: 'submit', disabled: form.busy }, form.busy ? tx('busy') : tx('submit')),
        el('button', { type: 'button', disabled: form.busy, onclick: () => { form = null; renderForm(); } }, tx('cancel'))),
      form.error ? el('p', { id: 'selfcheck-error', class: 'error', role: 'alert' }, form.error) : null));
  }

  function render() {
    title.textContent = tx('title');
    yearLabel.textContent = tx('year');
    refresh.textContent = t('queue.refresh');
    write.textContent = tx('new');
    write.hidden = !myCounties().length;
    const years = [];
    for (let y = thisYear() + 1; y >= 2023; y--) years.push(y);
    fill(yearPick, years.map((y) => el('option', { value: String(y) }, tx('year_n', { year: y }))));
    yearPick.value = String(year);
    renderList();
    renderForm();
  }

  function openForm(division) {
    const counties = myCounties();
    const old = plans.find((p) => p.divisionCode === division);
    form = { division: division || missing.find((d) => counties.includes(d)) || counties[0] || '',
      plannedCount: old ? String(old.plannedCount) : '', rivers: new Set(old ? old.riverCodes || [] : []),
      codes: old ? (old.outfallCodes || []).join('\n') : '', note: old ? old.note || '' : '', busy: false, error: '' };
    renderForm();
  }

  async function send() {
    form.busy = true;
    form.error = '';
    renderForm();
    const body = { divisionCode: form.division, year, plannedCount: Number(form.plannedCount),
      riverCodes: [...form.rivers], outfallCodes: splitCodes(form.codes), note: form.note.trim() || undefined };
    try {
      await api.call('POST', '/v1/self-check-plans', body);
      notice(tx('saved', { county: divisionLabel(form.division), year }), 'ok');
      form = null;
      await load();
    } catch (e) {
      form.busy = false;
      form.error = errorText(e);
      renderForm();
    }
  }

  async function load() {
    loading = true;
    error = '';
    renderList();
    try {
      const l = await api.call('GET', '/v1/self-check-plans?year=' + encodeURIComponent(year));
      plans = l.plans || [];
      missing = l.missing || [];
    } catch (e) {
      error = errorText(e);
      plans = [];
      missing = [];
    }
    loading = false;
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  function reload() {
    root.dataset.loaded = 'loading';
    return load();
  }

  return { build, render, reload };
}
