// Random inspections (双随机、一公开, docs/programme.md): a supervisor draws a round (divisions, how
// many, the inspector pool, the deadline; POST /v1/inspections/draws under one draw id per form,
// so a retry draws once), lists the draws they may see (GET /v1/inspections/draws, paged), opens
// one (GET /public/inspections/{id}: the published seed, lists and hashes, each pick with its
// inspector, state, result and date) and verifies it in the browser: draws_verify.js recomputes
// the picks from the published facts and the view shows 「核验一致」 or what differs.
import * as api from './api.js';
import { el, fill, kvTable, grid } from './dom.js';
import { DIVISIONS } from './labels.js';
import { t, enumLabel, divisionLabel, formatTime, errorText } from './i18n.js';
import { verify } from './draws_verify.js';

const PAGE = 20;
const SEED_RE = /^[0-9a-fA-F]{64}$/;

// A fresh form: a new draw id, two empty inspector rows.
function newForm(keep) {
  return {
    drawId: api.uuid(), divisions: keep ? keep.divisions : [], sample: keep ? keep.sample : '',
    deadline: keep ? keep.deadline : '', weighted: keep ? keep.weighted : false, seed: '',
    inspectors: keep ? keep.inspectors : [{ name: '', division: '' }, { name: '', division: '' }],
    busy: false, error: '',
  };
}

// The view in root; ctx.notice shows a line in the notice bar.
export function createDraws(root, { notice }) {
  let built = false;
  let form = newForm(null);
  const list = { draws: [], next: '', state: 'idle', error: '' };
  const open = { id: '', draw: null, state: 'idle', error: '', check: null };
  let seq = 0;

  const canDraw = () => {
    const s = api.session();
    return !!s && ['ROLE_SUPERVISOR', 'ROLE_ADMIN', 'ROLE_PROVINCE_CHECKER'].includes(s.role);
  };

  function divisionChecks() {
    return el('fieldset', { class: 'draw-divisions' }, el('legend', null, t('draws.divisions')),
      DIVISIONS.map((code) => el('label', { class: 'check' },
        el('input', {
          type: 'checkbox', name: 'division', value: code, checked: form.divisions.includes(code),
          onchange: (ev) => {
            form.divisions = ev.target.checked ? form.divisions.concat(code) : form.divisions.filter((c) => c !== code);
          },
        }), ' ', divisionLabel(code))),
      el('p', { class: 'muted' }, t('draws.divisions_hint')));
  }

  function inspectorRows() {
    const rows = form.inspectors.map((p, i) => el('div', { class: 'draw-inspector', dataset: { row: String(i) } },
      el('input', {
        class: 'draw-inspector-name', value: p.name, maxlength: '63', placeholder: t('draws.inspector_name'),
        'aria-label': t('draws.inspector_name'), oninput: (ev) => { p.name = ev.target.value; },
      }),
      el('select', {
        class: 'draw-inspector-division', 'aria-label': t('draws.inspector_division'),
        onchange: (ev) => { p.division = ev.target.value; },
      }, el('option', { value: '' }, t('draws.pick_division')),
      DIVISIONS.map((code) => el('option', { value: code, selected: p.division === code ? true : undefined }, divisionLabel(code)))),
      el('button', {
        type: 'button', class: 'draw-inspector-remove', disabled: form.inspectors.length <= 1,
        onclick: () => { form.inspectors.splice(i, 1); render(); },
      }, t('draws.remove'))));
    return el('fieldset', { class: 'draw-inspectors' }, el('legend', null, t('draws.inspectors')),
      el('p', { class: 'muted' }, t('draws.inspectors_hint')), rows,
      el('button', {
        type: 'button', id: 'draw-add-inspector',
        onclick: () => { form.inspectors.push({ name: '', division: '' }); render(); },
      }, t('draws.add_inspector')));
  }

  function drawForm() {
    if (!canDraw()) return null;
    const f = el('form', { id: 'draw-form', class: 'draw-form', novalidate: true },
      el('h3', null, t('draws.new')),
      divisionChecks(),
      el('label', { class: 'field', for: 'draw-sample' }, el('span', null, t('draws.sample')),
        el('input', { id: 'draw-sample', type: 'number', min: '1', max: '1000', value: form.sample, oninput: (ev) => { form.sample = ev.target.value; } })),
      el('label', { class: 'field', for: 'draw-deadline' }, el('span', null, t('draws.deadline')),
        el('input', { id: 'draw-deadline', type: 'date', value: form.deadline, oninput: (ev) => { form.deadline = ev.target.value; } })),
      el('label', { class: 'check', for: 'draw-weighted' },
        el('input', { id: 'draw-weighted', type: 'checkbox', checked: form.weighted, onchange: (ev) => { form.weighted = ev.target.checked; } }),
        ' ', t('draws.weighted')),
      el('label', { class: 'field', for: 'draw-seed' }, el('span', null, t('draws.seed_in')),
        el('input', { id: 'draw-seed', maxlength: '64', value: form.seed, placeholder: t('draws.seed_hint'), oninput: (ev) => { form.seed = ev.target.value.trim(); } })),
      inspectorRows(),
      el('button', { type: 'submit', id: 'draw-submit', disabled: form.busy }, form.busy ? t('decide.busy') : t('draws.submit')),
      form.error ? el('p', { id: 'draw-error', class: 'error', role: 'alert' }, form.error) : null);
    f.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
    return f;
  }

  function listView() {
    const status = list.state === 'loading' ? t('draws.loading')
      : list.state === 'error' ? t('draws.failed', { msg: list.error })
        : !list.draws.length ? t('draws.empty') : t('draws.count', { n: list.draws.length });
    const headers = ['drawn', 'by', 'divisions', 'sample', 'deadline', ''].map((c) => (c ? t('draws.col.' + c) : ''));
    const rows = list.draws.map((d) => el('tr', { dataset: { drawId: d.id || '' }, 'aria-current': d.id === open.id ? 'true' : undefined },
      el('td', null, formatTime(d.drawnAtMs)), el('td', null, d.drawnBy || t('value.empty')),
      el('td', null, (d.divisionCodes || []).map(divisionLabel).join('、')),
      el('td', null, t('draws.sample_of', { n: d.sample || 0, of: d.candidateCount || 0 })),
      el('td', null, d.deadline || t('value.empty')),
      el('td', null, el('button', { type: 'button', class: 'link draw-open', onclick: () => openDraw(d.id) }, t('draws.open')))));
    return el('section', { class: 'draw-list' }, el('h3', null, t('draws.list')),
      el('p', { id: 'draws-status', class: list.state === 'error' ? 'error' : 'muted', role: 'status' }, status),
      grid(headers, rows, 'draws-table'),
      list.next ? el('button', { type: 'button', id: 'draws-more', disabled: list.state === 'loading', onclick: () => loadList(true) }, t('draws.more')) : null);
  }

  // One difference of a verification, in words.
  function diffText(d) {
    if (d.what === 'error') return t('draws.diff.error', { msg: errorText({ code: d.code }), at: d.at });
    if (d.what === 'count') return t('draws.diff.count', d);
    if (d.what === 'pick') {
      return t('draws.diff.pick', {
        n: d.n, pc: d.published.code, pi: d.published.inspector, dc: d.drawn.code, di: d.drawn.inspector,
      });
    }
    return t('draws.diff.' + d.what, d);
  }

  function checkView() {
    if (!open.check) return el('p', { id: 'draw-verify', class: 'muted', dataset: { result: 'none' } }, t('draws.verify_hint'));
    if (!open.check.length) {
      return el('p', { id: 'draw-verify', class: 'verify-ok', role: 'status', dataset: { result: 'match' } },
        t('draws.match'), ' ', el('span', { class: 'muted' }, t('draws.match_detail')));
    }
    return el('div', { id: 'draw-verify', class: 'verify-bad', role: 'alert', dataset: { result: 'mismatch' } },
      el('p', null, t('draws.mismatch')), el('ul', null, open.check.map((d) => el('li', null, diffText(d)))));
  }

  function detailView() {
    if (!open.id) return null;
    if (open.state === 'loading') return el('section', { id: 'draw-detail', class: 'draw-detail' }, el('p', { class: 'muted' }, t('draws.loading')));
    if (open.state === 'error') {
      return el('section', { id: 'draw-detail', class: 'draw-detail' },
        el('p', { class: 'error', role: 'alert' }, t('draws.open_failed', { msg: open.error })));
    }
    const d = open.draw;
    const divisionOf = new Map((d.candidates || []).map((c) => [c.code, c.divisionCode]));
    const facts = kvTable([
      [t('draws.id'), el('code', null, d.id || '')],
      [t('draws.col.drawn'), formatTime(d.drawnAtMs)],
      [t('draws.col.deadline'), d.deadline || t('value.empty')],
      [t('draws.seed'), el('code', { id: 'draw-seed-published' }, d.seed || '')],
      [t('draws.candidates_hash'), el('code', null, d.candidatesHash || '')],
      [t('draws.inspectors_hash'), el('code', null, d.inspectorsHash || '')],
      [t('draws.candidates'), t('draws.n_candidates', { n: (d.candidates || []).length })],
      [t('draws.inspectors'), (d.inspectors || []).map((p) => `${p.name}（${divisionLabel(p.divisionCode)}）`).join('、')],
      [t('draws.previous'), d.previousDrawId ? el('code', null, d.previousDrawId) : t('draws.no_previous')],
    ], 'draw-facts');
    const headers = ['n', 'code', 'division', 'inspector', 'state', 'result', 'date'].map((c) => t('draws.pick.' + c));
    const picks = (d.picks || []).map((p, i) => el('tr', { dataset: { code: p.code || '', state: p.state || '' } },
      el('td', null, String(i + 1)), el('td', null, p.code || ''), el('td', null, divisionLabel(divisionOf.get(p.code))),
      el('td', null, p.inspector || ''),
      el('td', null, enumLabel('task_state', p.state || 'INSPECTION_TASK_STATE_UNSPECIFIED')),
      el('td', null, p.result ? enumLabel('inspection_result', p.result) : t('value.empty')),
      el('td', null, p.inspectedAtMs ? formatTime(p.inspectedAtMs) : t('value.empty'))));
    return el('section', { id: 'draw-detail', class: 'draw-detail', dataset: { drawId: d.id || '' } },
      el('h3', null, t('draws.detail')), facts,
      grid(headers, picks, 'draw-picks'),
      el('div', { class: 'actions' },
        el('button', { type: 'button', id: 'draw-verify-button', onclick: () => { open.check = verify(d); render(); } }, t('draws.verify'))),
      checkView());
  }

  function render() {
    if (!built) return;
    fill(root, el('h2', null, t('draws.title')), el('p', { class: 'muted' }, t('draws.intro')),
      el('div', { class: 'draws-body' }, drawForm(), listView()), detailView());
    root.dataset.list = list.state;
    if (list.state === 'ready' || list.state === 'error') root.dataset.loaded = 'true';
    root.dataset.open = open.state;
  }

  // The request of the form, or an error text when the form is not complete.
  function request() {
    const sample = Number(form.sample);
    if (!Number.isInteger(sample) || sample < 1) return { error: t('draws.need_sample') };
    const inspectors = form.inspectors.filter((p) => p.name.trim() || p.division)
      .map((p) => ({ name: p.name.trim(), divisionCode: p.division }));
    if (!inspectors.length || inspectors.some((p) => !p.name || !p.divisionCode)) return { error: t('draws.need_inspectors') };
    if (form.seed && !SEED_RE.test(form.seed)) return { error: errorText({ code: 'invalid_seed' }) };
    const body = { drawId: form.drawId, sample, inspectors, weighted: form.weighted };
    if (form.divisions.length) body.divisionCodes = form.divisions.slice();
    if (form.deadline) body.deadline = form.deadline;
    if (form.seed) body.seed = form.seed.toLowerCase();
    return { body };
  }

  async function submit() {
    if (form.busy) return;
    const r = request();
    if (r.error) {
      form.error = r.error;
      render();
      return;
    }
    form.busy = true;
    form.error = '';
    render();
    try {
      const d = await api.call('POST', '/v1/inspections/draws', r.body);
      form = newForm(form); // the next draw is another one
      notice(t('draws.done', { n: (d.picks || []).length }), 'ok');
      await loadList(false);
      await openDraw(d.id);
    } catch (e) {
      form.busy = false;
      form.error = t('err.generic', { msg: errorText(e) });
      render();
    }
  }

  async function loadList(more) {
    const mine = ++seq;
    list.state = 'loading';
    if (!more) { list.draws = []; list.next = ''; }
    render();
    try {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (more && list.next) q.set('page_token', list.next);
      const page = await api.call('GET', '/v1/inspections/draws?' + q.toString());
      if (mine !== seq) return;
      list.draws = list.draws.concat(page.draws || []);
      list.next = page.nextPageToken || '';
      list.state = 'ready';
    } catch (e) {
      if (mine !== seq) return;
      list.error = errorText(e);
      list.state = 'error';
    }
    render();
  }

  async function openDraw(id) {
    open.id = id;
    open.state = 'loading';
    open.check = null;
    render();
    try {
      open.draw = await api.call('GET', '/public/inspections/' + encodeURIComponent(id));
      open.state = 'ready';
    } catch (e) {
      open.error = errorText(e);
      open.state = 'error';
    }
    render();
  }

  return {
    build() { built = true; },
    reload() { loadList(false); if (open.id) openDraw(open.id); },
    render,
  };
}
