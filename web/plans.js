// The programme's lists (「整治计划」, section #plans-view), four tabs over the outfalls the caller
// may see (GET /v1/outfalls by stage, every page) and the server's overdue list (GET
// /v1/progress):
// - plans (一口一策): the overdue plans first, then every plan with its measure, due day, days
//   left or overdue and stage, filtered by county, measure and overdue only;
// - acceptance (待验收): the remediated outfalls with their evidence photos, accepted (销号 for
//   BAN/MERGE, 保留 for REGULARIZE/NONE) or sent back with a comment, through
//   POST /v1/programme/transitions (one transition_id per card and action, kept until it succeeds);
// - parties (责任主体清单) and retained (保留排污口清单).
// Each list downloads as CSV built in the page: codes with their labels beside them. A row's code
// opens the outfall's page (#outfall/<id>); the address names the tab (#plans?tab=...), so the
// browser's Back returns to it.
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { ENUMS, DIVISIONS } from './labels.js';
import { t, fieldLabel, enumLabel, divisionLabel, riverLabel, errorText } from './i18n.js';
import { thumb } from './record.js';
import { todayCst } from './lifecycle.js';

const TABS = ['plans', 'acceptance', 'parties', 'retained'];
const LISTED = ['TRACED', 'PLANNED', 'REMEDIATED', 'CLOSED', 'RETAINED'].map((s) => 'LIFECYCLE_STAGE_' + s);
const WITH_PLAN = LISTED.slice(1);
const PAGE = 1000;
const MAX_PAGES = 50; // 50 000 outfalls a stage at most
const REMOVES = ['REMEDIATION_MEASURE_BAN', 'REMEDIATION_MEASURE_MERGE'];
const DAY_MS = 86400000;
const SHOWN = 500; // rows drawn a table; the CSV holds them all
const DECIDERS = ['ROLE_SUPERVISOR', 'ROLE_ADMIN'];

const stageOf = (o) => (o.programme && o.programme.stage) || '';
const planOf = (o) => (o.programme && o.programme.plan) || {};

// The day a plan falls due: its deadline, or its transition period's end when later.
export function dueOf(plan) {
  const d = plan.deadline || '';
  const e = plan.transitionEnd || '';
  return e > d ? e : d;
}

// Days from today (China Standard Time) to day YYYY-MM-DD: negative once it has passed.
export function daysUntil(day) {
  return Math.round((Date.parse(day + 'T00:00:00Z') - Date.parse(todayCst() + 'T00:00:00Z')) / DAY_MS);
}

// Whether o's plan is overdue: still PLANNED and its due day passed (as programme/progress.c counts).
function overdue(o) {
  const due = dueOf(planOf(o));
  return stageOf(o) === 'LIFECYCLE_STAGE_PLANNED' && due !== '' && daysUntil(due) < 0;
}

// What the days column says of o: days left, days overdue, or nothing once remediated.
function daysText(o) {
  const due = dueOf(planOf(o));
  if (!due || stageOf(o) !== 'LIFECYCLE_STAGE_PLANNED') return '';
  const d = daysUntil(due);
  return d < 0 ? t('plans.days_over', { n: -d }) : t('plans.days_left', { n: d });
}

// One CSV field: quoted when it holds a separator, a quote or a line break; a text that a
// spreadsheet would take for a formula gets a leading apostrophe.
function csvField(v) {
  let s = v === undefined || v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

// The CSV of rows under columns: a column with a code gives two fields, the code and its label.
export function csvText(columns, rows) {
  const head = columns.flatMap((c) => (c.code ? [t('plans.csv.code', { h: c.h }), c.h] : [c.h]));
  const lines = [head].concat(rows.map((o) => columns.flatMap((c) => (c.code ? [c.code(o), c.v(o)] : [c.v(o)]))));
  return '\ufeff' + lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// A button that saves the CSV of rows as name.
function csvButton(id, name, columns, rows) {
  return el('button', {
    type: 'button', id, class: 'csv', disabled: rows.length ? undefined : true,
    onclick: () => {
      const url = URL.createObjectURL(new Blob([csvText(columns, rows)], { type: 'text/csv;charset=utf-8' }));
      const a = el('a', { href: url, download: `${name}-${todayCst()}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    },
  }, t('plans.csv'));
}

const openButton = (o) => el('button', {
  type: 'button', class: 'link open', title: t('inv.open'),
  onclick: () => { location.hash = '#outfall/' + encodeURIComponent(o.id || o.outfallId); },
}, o.code || t('inv.nocode'));

// The columns of each list: h (header), v (the text shown), code (the code beside a label).
const COL = {
  code: () => ({ h: t('inv.col.code'), v: (o) => o.code || '', node: openButton }),
  name: () => ({ h: t('inv.col.name'), v: (o) => o.name || '' }),
  division: () => ({ h: t('inv.col.division'), v: (o) => divisionLabel(o.divisionCode), code: (o) => o.divisionCode || '' }),
  river: () => ({ h: t('inv.col.river'), v: (o) => riverLabel(o.riverCode), code: (o) => o.riverCode || '' }),
  type: () => ({ h: t('inv.col.type'), v: (o) => enumLabel('type', o.type || 'OUTFALL_TYPE_UNSPECIFIED'), code: (o) => o.type || '' }),
  stage: () => ({ h: t('inv.col.stage'), v: (o) => enumLabel('stage', stageOf(o) || 'LIFECYCLE_STAGE_UNSPECIFIED'), code: stageOf }),
  measure: () => ({ h: fieldLabel('measure'), v: (o) => enumLabel('measure', planOf(o).measure || 'REMEDIATION_MEASURE_UNSPECIFIED'), code: (o) => planOf(o).measure || '' }),
  due: () => ({ h: t('plans.col.due'), v: (o) => dueOf(planOf(o)) }),
  days: () => ({ h: t('plans.col.days'), v: daysText }),
  party: () => ({ h: fieldLabel('responsible_party.name'), v: (o) => (o.responsibleParty || {}).name || '' }),
  credit: () => ({ h: fieldLabel('responsible_party.credit_code'), v: (o) => (o.responsibleParty || {}).creditCode || '' }),
  contact: () => ({ h: fieldLabel('responsible_party.contact'), v: (o) => (o.responsibleParty || {}).contact || '' }),
  phone: () => ({ h: fieldLabel('responsible_party.phone'), v: (o) => (o.responsibleParty || {}).phone || '' }),
  basis: () => ({ h: fieldLabel('party_basis'), v: (o) => enumLabel('party_basis', (o.programme || {}).partyBasis || 'PARTY_BASIS_UNSPECIFIED'), code: (o) => (o.programme || {}).partyBasis || '' }),
  traced: () => ({ h: fieldLabel('traced_on'), v: (o) => (o.programme || {}).tracedOn || '' }),
  retained: () => ({ h: fieldLabel('retained_on'), v: (o) => (o.programme || {}).retainedOn || '' }),
  notes: () => ({ h: t('plans.col.decision'), v: (o) => planOf(o).notes || '' }),
};
const LISTS = {
  plans: ['code', 'name', 'division', 'measure', 'due', 'days', 'stage'],
  parties: ['code', 'name', 'division', 'party', 'basis', 'credit', 'contact', 'phone', 'traced', 'stage'],
  retained: ['code', 'name', 'division', 'river', 'type', 'measure', 'retained', 'notes', 'party'],
};
const columnsOf = (list) => LISTS[list].map((k) => ({ key: k, ...COL[k]() }));

// The table of list's rows (the first SHOWN, with a note saying how many more the CSV holds).
function table(list, rows, cls) {
  const cols = columnsOf(list);
  const more = rows.length > SHOWN ? el('p', { class: 'muted capped' }, t('plans.capped', { n: SHOWN, total: rows.length })) : null;
  return [more, grid(cols.map((c) => c.h), rows.slice(0, SHOWN).map((o) => el('tr', { dataset: { outfallId: o.id || o.outfallId || '' } },
    cols.map((c) => el('td', { dataset: { col: c.key } }, c.node ? c.node(o) : c.v(o))))), cls)];
}

// The view in root; ctx.notice(text, kind) tells the outcome of an acceptance.
export function createPlans(root, ctx) {
  let tab = 'plans';
  let outfalls = [];
  let overdueList = [];
  let filters = { division: '', measure: '', overdue: false };
  let state = 'idle';
  let error = null;
  let built = false;
  let seq = 0;
  const evidence = new Map(); // observation id → Promise of the observation

  function filterForm() {
    const sel = (name, opts) => {
      const s = el('select', { id: 'plans-' + name, name }, el('option', { value: '' }, t('inv.all')),
        opts.map(([v, text]) => el('option', { value: v }, text)));
      s.value = filters[name];
      s.addEventListener('change', () => { filters[name] = s.value; render(); });
      return el('label', { class: 'field', for: 'plans-' + name }, el('span', null, name === 'division' ? t('inv.division') : fieldLabel('measure')), s);
    };
    const box = el('input', { id: 'plans-overdue', type: 'checkbox', checked: filters.overdue });
    box.addEventListener('change', () => { filters.overdue = box.checked; render(); });
    return el('div', { class: 'filters' }, sel('division', DIVISIONS.map((c) => [c, divisionLabel(c)])),
      sel('measure', ENUMS.measure.slice(1).map((m) => [m, enumLabel('measure', m)])),
      el('label', { class: 'check', for: 'plans-overdue' }, box, ' ', t('plans.overdue_only')));
  }

  const keep = (o) => (!filters.division || o.divisionCode === filters.division)
    && (!filters.measure || (o.measure || planOf(o).measure) === filters.measure);

  function plansTab() {
    const late = overdueList.filter(keep);
    const rows = outfalls.filter((o) => WITH_PLAN.includes(stageOf(o)) && planOf(o).measure && keep(o)
      && (!filters.overdue || overdue(o)))
      .sort((a, b) => (overdue(b) - overdue(a)) || dueOf(planOf(a)).localeCompare(dueOf(planOf(b))));
    const lateCols = [t('inv.col.code'), t('inv.col.name'), t('inv.col.division'), t('inv.col.river'), fieldLabel('measure'), t('plans.col.due'), t('plans.col.days')];
    return [filterForm(),
      el('section', { class: 'plans-overdue', dataset: { list: 'overdue' } }, el('h3', null, t('plans.overdue_title', { n: late.length })),
        late.length ? grid(lateCols, late.slice(0, SHOWN).map((p) => el('tr', { dataset: { outfallId: p.outfallId || '' } },
          [openButton(p), p.name || '', divisionLabel(p.divisionCode), riverLabel(p.riverCode), enumLabel('measure', p.measure || 'REMEDIATION_MEASURE_UNSPECIFIED'),
            p.due || '', t('plans.days_over', { n: p.daysOverdue || 0 })].map((c) => el('td', null, c)))), 'overdue-table')
          : el('p', { class: 'muted' }, t('plans.overdue_none'))),
      el('section', { class: 'plans-all', dataset: { list: 'plans' } }, el('h3', null, t('plans.all_title', { n: rows.length })),
        csvButton('plans-csv', 'plans', columnsOf('plans'), rows),
        rows.length ? table('plans', rows, 'plans-table') : el('p', { class: 'muted' }, t('plans.none')))];
  }

  // The evidence photos of a remediated outfall, loaded once per observation.
  function evidencePhotos(o) {
    const ids = (o.programme && o.programme.evidenceObservationIds) || [];
    const box = el('div', { class: 'photos' }, ids.length ? t('page.loading') : t('page.evidence.none'));
    if (!ids.length) return box;
    for (const id of ids) if (!evidence.has(id)) evidence.set(id, api.observation(id).catch((e) => { evidence.delete(id); throw e; }));
    Promise.all(ids.map((id) => evidence.get(id))).then((obs) => {
      const photos = obs.flatMap((ob) => ob.photos || []);
      fill(box, photos.length ? photos.map(thumb) : t('detail.nophotos'));
    }, (e) => fill(box, el('span', { class: 'error' }, errorText(e))));
    return box;
  }

  // One remediated outfall to accept or send back; its two transition ids live as long as the card.
  function acceptanceCard(o) {
    const plan = planOf(o);
    const to = REMOVES.includes(plan.measure) ? 'CLOSED' : 'RETAINED';
    const ids = { accept: api.uuid(), send_back: api.uuid() };
    const comment = el('textarea', { id: 'acc-comment-' + o.id, rows: '2', maxlength: '2000' });
    const status = el('p', { class: 'acc-status', role: 'alert' });
    const buttons = {};
    async function act(which) {
      const body = { transitionId: ids[which], outfallId: o.id, baseVersion: String(o.version || ''),
        toStage: 'LIFECYCLE_STAGE_' + (which === 'accept' ? to : 'PLANNED') };
      if (comment.value.trim()) body.comment = comment.value.trim();
      for (const b of Object.values(buttons)) b.disabled = true;
      status.className = 'acc-status muted';
      status.textContent = t('lc.sending');
      try {
        await api.call('POST', '/v1/programme/transitions', body);
        ctx.notice(t(which === 'accept' ? 'plans.accepted' : 'plans.sent_back', { code: o.code || '' }));
        load();
      } catch (e) {
        status.className = 'acc-status error';
        status.dataset.code = e.code || '';
        status.textContent = t('lc.refused', { msg: errorText(e) });
        for (const b of Object.values(buttons)) b.disabled = false;
      }
    }
    const s = api.session();
    const head = [el('h4', null, openButton(o), ' ', o.name || ''),
      el('p', null, [divisionLabel(o.divisionCode), enumLabel('measure', plan.measure || 'REMEDIATION_MEASURE_UNSPECIFIED'),
        fieldLabel('remediated_on') + ' ' + ((o.programme || {}).remediatedOn || '')].join(' · ')),
      evidencePhotos(o)];
    // Only supervisors and admins decide (the server's route table); others see the evidence.
    if (!s || !DECIDERS.includes(s.role)) {
      return el('article', { class: 'acceptance-card', dataset: { outfallId: o.id } }, head, el('p', { class: 'muted' }, t('lc.no_role')));
    }
    buttons.accept = el('button', { type: 'button', class: 'primary accept', onclick: () => act('accept') }, t('plans.accept.' + to));
    buttons.send_back = el('button', { type: 'button', class: 'send-back', onclick: () => act('send_back') }, t('plans.send_back'));
    return el('article', { class: 'acceptance-card', dataset: { outfallId: o.id } }, head,
      el('label', { class: 'field', for: 'acc-comment-' + o.id }, el('span', null, t('plans.acc_comment')), comment),
      el('div', { class: 'lc-buttons' }, buttons.accept, buttons.send_back), status);
  }

  function acceptanceTab() {
    const rows = outfalls.filter((o) => stageOf(o) === 'LIFECYCLE_STAGE_REMEDIATED');
    return [el('p', { class: 'rule' }, t('plans.acc_rule')), el('h3', null, t('plans.acc_title', { n: rows.length })),
      rows.length ? el('div', { class: 'acceptance' }, rows.map(acceptanceCard)) : el('p', { class: 'muted' }, t('plans.acc_none'))];
  }

  function listTab(list, pick) {
    const rows = outfalls.filter(pick);
    return [el('p', { class: 'rule' }, t('plans.' + list + '_rule')), el('h3', null, t('plans.' + list + '_title', { n: rows.length })),
      csvButton(list + '-csv', list, columnsOf(list), rows),
      rows.length ? table(list, rows, list + '-table') : el('p', { class: 'muted' }, t('plans.none'))];
  }

  const BODIES = {
    plans: plansTab,
    acceptance: acceptanceTab,
    parties: () => listTab('parties', (o) => o.responsibleParty || (o.programme && o.programme.partyBasis)),
    retained: () => listTab('retained', (o) => stageOf(o) === 'LIFECYCLE_STAGE_RETAINED'),
  };

  function render() {
    if (!built) return;
    const tabs = el('div', { class: 'tabs', role: 'tablist' }, TABS.map((name) => el('button', {
      type: 'button', id: 'plans-tab-' + name, role: 'tab', class: 'tab', 'aria-selected': String(name === tab),
      onclick: () => {
        tab = name;
        history.replaceState(null, '', '#plans?tab=' + name);
        render();
      },
    }, t('plans.tab.' + name))));
    const status = state === 'loading' ? el('p', { class: 'muted' }, t('inv.loading'))
      : state === 'error' ? el('p', { id: 'plans-error', class: 'error', role: 'alert' }, t('plans.failed', { msg: errorText(error) })) : null;
    fill(root, el('h2', null, t('plans.title')), tabs, status,
      state === 'ready' ? el('div', { class: 'plans-body', dataset: { tab } }, BODIES[tab]()) : null);
    root.dataset.state = state;
    root.dataset.tab = tab;
    if (state !== 'loading') root.dataset.loaded = 'true';
  }

  // Every outfall at stage, page after page.
  async function stage(s) {
    let out = [];
    let token = '';
    for (let i = 0; i < MAX_PAGES; i++) {
      const q = new URLSearchParams({ stage: s, limit: String(PAGE) });
      if (token) q.set('page_token', token);
      const page = await api.call('GET', '/v1/outfalls?' + q.toString());
      out = out.concat(page.outfalls || []);
      token = page.nextPageToken || '';
      if (!token) break;
    }
    return out;
  }

  async function load() {
    const mine = ++seq;
    state = 'loading';
    delete root.dataset.loaded;
    render();
    try {
      const [lists, progress] = await Promise.all([Promise.all(LISTED.map(stage)), api.call('GET', '/v1/progress')]);
      if (mine !== seq) return;
      outfalls = lists.flat();
      overdueList = progress.overdue || [];
      state = 'ready';
    } catch (e) {
      if (mine !== seq) return;
      error = e;
      state = 'error';
    }
    render();
  }

  return {
    build() { built = true; },
    // Loads the lists, showing the tab the address names (#plans?tab=acceptance).
    reload() {
      const at = location.hash.indexOf('?');
      const named = at < 0 ? '' : new URLSearchParams(location.hash.slice(at + 1)).get('tab');
      if (TABS.includes(named)) tab = named;
      load();
    },
    render,
  };
}
