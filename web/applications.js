// Applications to set up, change or enlarge an outfall (设置审核, 三.一.2 and 三.一.3): the list of
// the caller's divisions (GET /v1/applications, filtered by status, paged), one application's
// detail with the authority the server named, a form to record a new filing (POST
// /v1/applications) and the decision steps (POST /v1/applications/decisions): received → under
// review → approved | refused. Ids are made when a form opens and kept until the server has
// answered, so a second press or a retry after a lost connection records one filing, one decision.
import * as api from './api.js';
import { el, fill, grid, kvTable } from './dom.js';
import { t, enumLabel, divisionLabel, riverLabel, formatTime, errorText } from './i18n.js';
import { DIVISIONS, RIVERS, ENUMS } from './labels.js';
import { documentsField, documentsList, uploadedHashes } from './app_documents.js';

// This view's words are in i18n.js under apps.*; enum values are labelled in labels.js.
const tx = (key, vars) => t('apps.' + key, vars);

const STATUSES = ['APPLICATION_STATUS_RECEIVED', 'APPLICATION_STATUS_UNDER_REVIEW',
  'APPLICATION_STATUS_APPROVED', 'APPLICATION_STATUS_REFUSED'];
const KINDS = ['APPLICATION_KIND_SET_UP', 'APPLICATION_KIND_CHANGE', 'APPLICATION_KIND_ENLARGE'];
const EIA = ['EIA_LEVEL_UNSPECIFIED', 'EIA_LEVEL_NATIONAL', 'EIA_LEVEL_PROVINCIAL', 'EIA_LEVEL_CITY', 'EIA_LEVEL_COUNTY'];
// The next step from each status: [to status, label key, needs a comment].
const STEPS = {
  APPLICATION_STATUS_RECEIVED: [['APPLICATION_STATUS_UNDER_REVIEW', 'to_review', false]],
  APPLICATION_STATUS_UNDER_REVIEW: [['APPLICATION_STATUS_APPROVED', 'approve', false],
    ['APPLICATION_STATUS_REFUSED', 'refuse', true]],
};
const FLAGS = [['provincialBoundaryBuffer', 'buffer'], ['interProvincialDispute', 'interprov'],
  ['interCityDispute', 'intercity'], ['sectionMissesTarget', 'misses'], ['affectsFloodControl', 'flood']];

const label = (v) => t(String(v || ''));


// The view inside root; reload() fetches, render() redraws in the current language.
export function createApplications(root, { notice }) {
  let items = [];
  let next = '';
  let error = '';
  let loading = false;
  let status = '';
  let selected = null; // the application shown
  let form = null;     // the new filing being written: {id, fields, busy, error}
  let step = null;     // the decision being made: {decisionId, to, comment, busy, error}

  const title = el('h2');
  const statusLabel = el('label', { for: 'applications-status' });
  const statusPick = el('select', { id: 'applications-status', onchange: () => { status = statusPick.value; reload(); } });
  const refresh = el('button', { id: 'applications-refresh', type: 'button', onclick: () => reload() });
  const create = el('button', { id: 'applications-new', type: 'button', onclick: () => openForm() });
  const line = el('p', { id: 'applications-line', class: 'muted', role: 'status' });
  const list = el('div', { id: 'applications-list', class: 'applications-list' });
  const detail = el('div', { id: 'application-detail', class: 'application-detail' });

  function build() {
    fill(root, title, el('div', { class: 'progress-controls' }, statusLabel, statusPick, refresh, create), line,
      el('div', { class: 'applications-panes' }, list, detail));
    render();
  }

  function row(a) {
    return el('tr', { class: 'application-row' + (selected && selected.id === a.id ? ' selected' : ''),
      dataset: { id: a.id, status: a.status || '' }, tabindex: 0,
      onclick: () => select(a), onkeydown: (ev) => { if (ev.key === 'Enter') select(a); } },
    el('td', null, formatTime(a.receivedAtMs)),
    el('td', null, a.projectName || ''),
    el('td', null, (a.applicant && a.applicant.name) || ''),
    el('td', null, divisionLabel(a.divisionCode)),
    el('td', { class: 'application-status' }, label(a.status)),
    el('td', { class: 'application-authority' }, a.authorityName || ''));
  }

  function renderList() {
    if (!items.length) {
      fill(list, el('p', { class: 'muted' }, loading ? tx('loading') : tx('empty')));
      return;
    }
    fill(list, grid(['received', 'project', 'applicant', 'division', 'status', 'authority'].map((k) => tx(k)),
      items.map(row), 'applications-table'),
    next ? el('button', { id: 'applications-more', type: 'button', onclick: () => load(true) }, tx('more')) : null);
  }

  function facts(a) {
    const u = a.applicant || {};
    const flags = FLAGS.filter(([f]) => a[f]).map(([, k]) => tx(k));
    const rows = [
      [tx('status'), label(a.status), 'status'],
      [tx('authority'), a.authorityName || t('value.empty'), 'authority'],
      [tx('basis'), a.authorityBasis || t('value.empty'), 'basis'],
      [tx('consult'), a.consult || tx('none'), 'consult'],
      [tx('kind'), label(a.kind), 'kind'],
      [tx('project'), a.projectName || '', 'project'],
      [tx('applicant'), u.name || '', 'applicant'],
      [tx('credit'), u.creditCode || t('value.empty'), 'credit'],
      [tx('contact'), u.contact || t('value.empty'), 'contact'],
      [tx('phone'), u.phone || t('value.empty'), 'phone'],
      [tx('eia'), label(a.eiaLevel || 'EIA_LEVEL_UNSPECIFIED'), 'eia'],
      [tx('division'), divisionLabel(a.divisionCode), 'division'],
      [tx('river'), riverLabel(a.riverCode), 'river'],
      [tx('position'), a.lat !== undefined ? t('detail.coords', { lat: Number(a.lat).toFixed(5), lon: Number(a.lon).toFixed(5) }) : t('value.empty'), 'position'],
      [tx('type'), a.outfallType ? enumLabel('type', a.outfallType) : t('value.empty'), 'type'],
      [tx('flags'), flags.length ? flags.join(t('sep.items')) : tx('none'), 'flags'],
      [tx('received'), formatTime(a.receivedAtMs), 'received'],
      [tx('version'), String(a.version || ''), 'version'],
    ];
    if (a.decidedAtMs) rows.push([tx('decided'), formatTime(a.decidedAtMs), 'decided'], [tx('comment'), a.decisionComment || tx('none'), 'comment']);
    return kvTable(rows, 'application-facts');
  }

  function decisionBox(a) {
    const steps = STEPS[a.status] || [];
    if (!steps.length) return null;
    if (!step || step.for !== a.id) step = { for: a.id, decisionId: api.uuid(), to: '', comment: '', busy: false, error: '' };
    const comment = el('textarea', { id: 'application-comment', rows: 2, maxlength: 2000, value: step.comment,
      'aria-label': tx('comment'), oninput: () => { step.comment = comment.value; } });
    return el('div', { class: 'application-decide' },
      el('label', { for: 'application-comment' }, tx('comment')), comment,
      el('div', { class: 'buttons' }, steps.map(([to, key, needs]) => el('button', {
        type: 'button', class: 'application-step', dataset: { to }, disabled: step.busy,
        onclick: () => decide(a, to, needs) }, step.busy && step.to === to ? tx('busy') : tx(key)))),
      step.error ? el('p', { class: 'error', role: 'alert' }, step.error) : null);
  }

  function input(name, props) {
    const f = form.fields;
    const e = el('input', { id: 'application-' + name, name, value: f[name] ?? '', ...props,
      oninput: () => { f[name] = e.type === 'checkbox' ? e.checked : e.value; } });
    if (props && props.type === 'checkbox') e.checked = !!f[name];
    return e;
  }

  function select_(name, options, labelOf) {
    const f = form.fields;
    const e = el('select', { id: 'application-' + name, name, onchange: () => { f[name] = e.value; } },
      options.map((o) => el('option', { value: o }, labelOf(o))));
    e.value = f[name];
    return e;
  }

  function field(key, control) {
    return el('label', { class: 'form-field' }, el('span', null, tx(key)), control);
  }

  function formBox() {
    const s = api.session() || {};
    const mine = (s.divisions || []).includes('410800') || s.role === 'ROLE_ADMIN'
      ? DIVISIONS : DIVISIONS.filter((d) => (s.divisions || []).includes(d));
    if (!form.fields.divisionCode) form.fields.divisionCode = mine[0] || '';
    return el('form', { id: 'application-form', class: 'application-form', onsubmit: (ev) => { ev.preventDefault(); file(); } },
      el('h3', null, tx('new')),
      field('project', input('projectName', { required: true, maxlength: 500 })),
      field('kind', select_('kind', KINDS, label)),
      field('applicant', input('applicantName', { required: true })),
      field('credit', input('creditCode', { required: true, maxlength: 18 })),
      field('contact', input('contact', {})),
      field('phone', input('phone', {})),
      field('eia', select_('eiaLevel', EIA, label)),
      field('division', select_('divisionCode', mine, divisionLabel)),
      field('river', select_('riverCode', RIVERS, riverLabel)),
      field('type', select_('outfallType', ENUMS.type.slice(1), (v) => enumLabel('type', v))),
      field('lat', input('lat', { type: 'number', step: 'any', required: true })),
      field('lon', input('lon', { type: 'number', step: 'any', required: true })),
      el('fieldset', null, el('legend', null, tx('flags')),
        FLAGS.map(([f, k]) => el('label', { class: 'check' }, input(f, { type: 'checkbox' }), tx(k)))),
      // the documents, uploaded as they are chosen (web/app_documents.js); submitting waits for them
      documentsField(form.docs, (running) => {
        form.uploading = running;
        const b = document.getElementById('application-submit');
        if (b) b.disabled = running || form.busy;
      }),
      el('div', { class: 'buttons' },
        el('button', { id: 'application-submit', type: 'submit', disabled: form.busy || form.uploading }, form.busy ? tx('busy') : tx('submit')),
        el('button', { type: 'button', onclick: () => { form = null; renderDetail(); } }, tx('cancel'))),
      form.error ? el('p', { class: 'error', role: 'alert' }, form.error) : null);
  }

  function renderDetail() {
    if (form) {
      fill(detail, formBox());
      return;
    }
    if (!selected) {
      fill(detail, el('p', { class: 'muted' }, tx('pick')));
      return;
    }
    fill(detail, el('h3', { dataset: { id: selected.id } }, selected.projectName || ''), facts(selected),
      el('h4', null, t('docs.title')), documentsList(selected.documentHashes), decisionBox(selected));
  }

  function render() {
    title.textContent = tx('title');
    statusLabel.textContent = tx('status');
    refresh.textContent = t('queue.refresh');
    create.textContent = tx('new');
    fill(statusPick, el('option', { value: '' }, tx('all')), STATUSES.map((s) => el('option', { value: s }, label(s))));
    statusPick.value = status;
    line.textContent = error ? tx('failed', { msg: error }) : '';
    renderList();
    renderDetail();
  }

  function select(a) {
    selected = a;
    form = null;
    render();
  }

  function openForm() {
    form = { id: api.uuid(), busy: false, uploading: false, docs: [], error: '', fields: {
      kind: KINDS[0], eiaLevel: 'EIA_LEVEL_COUNTY', riverCode: RIVERS[1], outfallType: ENUMS.type[1] } };
    selected = null;
    render();
  }

  // Replaces application a in the list (or puts it first) and shows it.
  function show(a) {
    const i = items.findIndex((x) => x.id === a.id);
    if (i >= 0) items[i] = a; else items.unshift(a);
    selected = a;
    render();
  }

  async function file() {
    const f = form.fields;
    const body = {
      id: form.id, kind: f.kind, projectName: f.projectName,
      applicant: { name: f.applicantName, creditCode: f.creditCode, contact: f.contact || undefined, phone: f.phone || undefined },
      eiaLevel: f.eiaLevel === 'EIA_LEVEL_UNSPECIFIED' ? undefined : f.eiaLevel,
      divisionCode: f.divisionCode, riverCode: f.riverCode, outfallType: f.outfallType,
      lat: Number(f.lat), lon: Number(f.lon),
    };
    for (const [k] of FLAGS) if (f[k]) body[k] = true;
    const documents = uploadedHashes(form.docs);
    if (documents.length) body.documentHashes = documents;
    form.busy = true;
    form.error = '';
    renderDetail();
    try {
      const res = await retried(() => api.call('POST', '/v1/applications', body));
      form = null;
      notice(tx('filed', { name: res.application.authorityName || '' }), 'ok');
      show(res.application);
    } catch (e) {
      form.busy = false;
      form.error = errorText(e);
      renderDetail();
    }
  }

  async function decide(a, to, needsComment) {
    if (needsComment && !step.comment.trim()) {
      step.error = tx('need_comment');
      renderDetail();
      return;
    }
    step.busy = true;
    step.to = to;
    step.error = '';
    renderDetail();
    try {
      const res = await retried(() => api.call('POST', '/v1/applications/decisions', {
        decisionId: step.decisionId, applicationId: a.id, toStatus: to, comment: step.comment.trim() || undefined }));
      step = null;
      notice(tx('decided_ok', { status: label(res.application.status) }), 'ok');
      show(res.application);
    } catch (e) {
      step.busy = false;
      step.error = errorText(e);
      renderDetail();
    }
  }

  async function load(more) {
    loading = true;
    error = '';
    if (!more) { items = []; next = ''; }
    render();
    try {
      const q = new URLSearchParams();
      if (status) q.set('status', status);
      if (more && next) q.set('page_token', next);
      const l = await api.call('GET', '/v1/applications' + (q.toString() ? '?' + q : ''));
      items = items.concat(l.applications || []);
      next = l.nextPageToken || '';
      if (selected) selected = items.find((x) => x.id === selected.id) || selected;
    } catch (e) {
      error = errorText(e);
    }
    loading = false;
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  function reload() {
    root.dataset.loaded = 'loading';
    return load(false);
  }

  return { build, render, reload };
}

// Runs send, retrying a lost connection twice with the same request (its id makes it safe).
async function retried(send) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (e.code !== 'network' || attempt >= 2) throw e;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
}
