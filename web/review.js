// The detail pane: loads the record behind a queue item and lets the supervisor decide —
// approve / reject / return with a comment, resolve field conflicts one choice per field, merge a
// duplicate pair or keep it apart, approve or return an inspection result. Each decision carries
// the version shown and the open item's decisionId: made when the item opens, kept through
// failures and retries (the server stores no refused decision and answers a repeat of an applied
// one with its first answer), renewed after a success. A stale version reloads the record.
import * as api from './api.js';
import { el, fill, grid } from './dom.js';
import { t, fieldLabel, formatJsonValue, formatTime, enumLabel, snake, errorText, divisionLabel } from './i18n.js';
import { ENUMS, ENUM_FIELDS, NUMBER_FIELDS, BOOL_FIELDS, CITY_DIVISION } from './labels.js';
import {
  recordView, fieldsTable, flagList, position, photoStrip, allPhotos, observationView, historyTable, inspectionView,
} from './record.js';

const K = {
  approve: 'DECISION_KIND_APPROVE', reject: 'DECISION_KIND_REJECT', return: 'DECISION_KIND_RETURN',
  resolve: 'DECISION_KIND_RESOLVE_CONFLICT', merge: 'DECISION_KIND_MERGE_DUPLICATE', apart: 'DECISION_KIND_KEEP_APART',
  approveInspection: 'DECISION_KIND_APPROVE_INSPECTION', returnInspection: 'DECISION_KIND_RETURN_INSPECTION',
};

// The fields a merge may take from the record it merges away (Decision.take_from_other).
const MERGE_TAKES = ['position', 'type', 'name', 'landmark', 'entry_method', 'discharge_regime', 'responsible_party'];

// 1 when the signed-in supervisor covers both divisions of duplicate pair d (city-wide does).
function coversPair(d) {
  const s = api.session();
  const mine = (s && s.divisions) || [];
  if (!mine.length || mine.includes(CITY_DIVISION)) return true;
  return [d.outfallDivisionCode, d.neighbourDivisionCode].every((c) => !c || mine.includes(c));
}

const parse = (text) => { try { return JSON.parse(text); } catch (_) { return undefined; } };

// An input for entering a new value of conflict c's field; .json() gives its JSON text or
// throws when the entry is not a value of that field.
function valueInput(c) {
  const f = snake(c.field).split('.').pop();
  const sample = [parse(c.clientValue), parse(c.serverValue)].find((v) => v !== null && v !== undefined);
  const id = `value-${c.id}`;
  let input, json;
  if (ENUM_FIELDS[f]) {
    const names = ENUMS[ENUM_FIELDS[f]];
    input = el('select', { id, name: id }, names.slice(1).map((n) => el('option', { value: n }, enumLabel(ENUM_FIELDS[f], n))));
    const cur = parse(c.clientValue);
    if (cur !== undefined && cur !== null) input.value = typeof cur === 'number' ? names[cur] : cur;
    json = () => JSON.stringify(typeof sample === 'number' ? names.indexOf(input.value) : input.value);
  } else if (BOOL_FIELDS.has(f) || typeof sample === 'boolean') {
    input = el('select', { id, name: id }, el('option', { value: 'true' }, t('value.yes')), el('option', { value: 'false' }, t('value.no')));
    json = () => input.value;
  } else if (NUMBER_FIELDS.has(f) || typeof sample === 'number') {
    input = el('input', { id, name: id, type: 'number', step: 'any', value: typeof sample === 'number' ? String(sample) : '' });
    json = () => {
      const v = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(v)) throw new Error('bad');
      return JSON.stringify(v);
    };
  } else {
    input = el('input', { id, name: id, type: 'text', maxlength: 500, value: typeof sample === 'string' ? sample : '' });
    json = () => JSON.stringify(input.value);
  }
  input.classList.add('enter-value');
  return { input, json };
}

export function createDetail(pane, { queue, notice, config }) {
  const state = {
    item: null, outfall: null, history: null, neighbour: null, nhistory: null, neighbourHidden: false, conflicts: [], observation: null, seq: 0,
    decisionId: '',
  };

  function placeholder() {
    state.item = null;
    fill(pane, el('p', { class: 'placeholder' }, t('detail.pick')));
  }

  function setBusy(busy) {
    for (const b of pane.querySelectorAll('button.act')) b.disabled = busy;
    pane.classList.toggle('busy', busy);
  }

  // Sends decision under the open item's decisionId; on success renews the id and updates the
  // queue, on a stale version reloads the record. codes names a group of error texts
  // ("code.<codes>.<code>") tried before the common ones.
  async function submit(decision, doneKey, codes) {
    setBusy(true);
    try {
      const res = await api.decide({ decisionId: state.decisionId, ...decision });
      state.decisionId = api.uuid();
      notice(t(doneKey, { code: (res.outfall && res.outfall.code) || '' }), 'ok');
      placeholder();
      queue.clearSelection();
      queue.reload();
    } catch (e) {
      if (e.status === 409 && e.code === 'stale_version') {
        notice(t('err.stale'), 'error');
        queue.reload();
        await load();
      } else {
        const key = codes ? `code.${codes}.${e.code}` : '';
        notice(t('err.generic', { msg: key && t(key) !== key ? t(key) : errorText(e) }), 'error');
        setBusy(false);
      }
    }
  }

  function commentBox(id) {
    return el('textarea', { id, name: id, rows: 2, maxlength: 1000, class: 'comment' }); // the server takes 4000 bytes
  }

  function decisionForm(o) {
    const comment = commentBox('decision-comment');
    const btn = (key, done) => el('button', {
      type: 'button', class: 'act act-' + key, id: 'decide-' + key,
      onclick: () => {
        const text = comment.value.trim();
        if (key !== 'approve' && !text) { notice(t('decide.need_comment'), 'error'); comment.focus(); return; }
        submit({ kind: K[key], outfallId: o.id, baseVersion: String(o.version || 0), comment: text }, done);
      },
    }, t('decide.' + key));
    return el('section', { class: 'decide' }, el('h3', null, t('decide.title')),
      el('label', { for: 'decision-comment' }, t('decide.comment')), comment,
      el('div', { class: 'actions' }, btn('approve', 'done.approve'), btn('return', 'done.return'), btn('reject', 'done.reject')));
  }

  // The inspection result ob of outfall o and its decision: approve it (it goes public) or return
  // it to its inspector with a comment. The outfall itself is not decided here.
  function inspectionPanel(o, ob) {
    const comment = commentBox('inspection-comment');
    const btn = (key, kind) => el('button', {
      type: 'button', class: 'act act-' + key, id: 'inspection-' + key,
      onclick: () => {
        const text = comment.value.trim();
        if (key === 'return' && !text) { notice(t('inspection.need_comment'), 'error'); comment.focus(); return; }
        submit({ kind, outfallId: o.id, observationId: ob.id, baseVersion: String(ob.version || 0), comment: text },
          'inspection.done.' + key, 'inspection');
      },
    }, t('inspection.' + key));
    return el('div', { class: 'inspection-review' }, inspectionView(ob),
      el('section', { class: 'decide' }, el('h3', null, t('inspection.decide')),
        el('label', { for: 'inspection-comment' }, t('decide.comment')), comment,
        el('div', { class: 'actions' }, btn('approve', K.approveInspection), btn('return', K.returnInspection))));
  }

  function conflictPanel(o) {
    const cs = state.conflicts;
    if (!cs.length) return el('section', { class: 'conflicts' }, el('h3', null, t('conflict.title')), el('p', { class: 'muted' }, t('conflict.none')));
    const rows = cs.map((c) => {
      const name = `choice-${c.id}`;
      const v = valueInput(c);
      v.input.hidden = true;
      const radio = (value, key) => el('label', { class: 'choice' },
        el('input', { type: 'radio', name, value, checked: value === 'RESOLUTION_CHOICE_KEEP_SERVER',
          onchange: () => { v.input.hidden = value !== 'RESOLUTION_CHOICE_ENTER_VALUE'; } }), t(key));
      const tr = el('tr', { dataset: { conflictId: String(c.id), field: c.field } },
        el('th', { scope: 'row' }, fieldLabel(c.field),
          el('span', { class: 'from' }, t('conflict.from', { user: c.username || '?', device: c.deviceId || '—', time: formatTime(c.atMs) }))),
        el('td', { class: 'base' }, formatJsonValue(c.field, c.baseValue)),
        el('td', { class: 'server' }, formatJsonValue(c.field, c.serverValue)),
        el('td', { class: 'client' }, formatJsonValue(c.field, c.clientValue)),
        el('td', { class: 'choices' }, radio('RESOLUTION_CHOICE_KEEP_SERVER', 'conflict.keep'),
          radio('RESOLUTION_CHOICE_TAKE_CLIENT', 'conflict.take'), radio('RESOLUTION_CHOICE_ENTER_VALUE', 'conflict.enter'), v.input));
      tr.resolution = () => {
        const choice = tr.querySelector(`input[name="${name}"]:checked`).value;
        const r = { conflictId: String(c.id), choice };
        if (choice === 'RESOLUTION_CHOICE_ENTER_VALUE') {
          try { r.value = v.json(); } catch (_) { throw new Error(t('conflict.badvalue', { field: fieldLabel(c.field) })); }
        }
        return r;
      };
      return tr;
    });
    const comment = commentBox('conflict-comment');
    const send = el('button', {
      type: 'button', class: 'act act-resolve', id: 'resolve-conflicts',
      onclick: () => {
        let resolutions;
        try { resolutions = rows.map((r) => r.resolution()); } catch (e) { notice(e.message, 'error'); return; }
        submit({ kind: K.resolve, outfallId: o.id, baseVersion: String(o.version || 0), comment: comment.value.trim(), resolutions }, 'done.resolve');
      },
    }, t('conflict.submit'));
    return el('section', { class: 'conflicts' }, el('h3', null, t('conflict.title')), el('p', null, t('conflict.intro')),
      grid([t('col.field'), t('col.base'), t('col.server'), t('col.client'), t('col.choice')], rows, 'conflict-table'),
      el('label', { for: 'conflict-comment' }, t('decide.comment')), comment, el('div', { class: 'actions' }, send));
  }

  function dupColumn(rec, hist, titleKey) {
    const h = hist && !(hist instanceof Error) ? hist : null;
    return el('div', { class: 'dup-col', dataset: { outfallId: rec.id || '' } },
      el('h4', null, t(titleKey)), fieldsTable(rec), flagList(rec.flags), position(rec, config),
      photoStrip(allPhotos(h ? h.observations : [])));
  }

  // A pair across two counties that this supervisor does not both cover: the city decides (the
  // server refuses them with duplicate_cross_county_city_decides), so no buttons. The other
  // county's record shows only when it is theirs to read (approved records are).
  function cityDecidesPanel(o, d, n) {
    const theirs = d.neighbourId === o.id ? d.outfallDivisionCode : d.neighbourDivisionCode;
    const readable = n && !state.neighbourHidden && n.divisionCode;
    const cols = [dupColumn(o, state.history, 'dup.mine')];
    if (readable) cols.push(dupColumn(n, state.nhistory, 'dup.neighbour'));
    return el('section', { class: 'duplicate city-decides' }, el('h3', null, t('dup.title')),
      el('p', { class: 'distance' }, t('dup.distance', { m: Number(d.distanceM || 0).toFixed(1) })),
      el('p', { class: 'notice city-decides-note', id: 'city-decides' },
        t(readable ? 'dup.city_readable' : 'dup.city', { division: divisionLabel(theirs || '') })),
      el('div', { class: 'dup-pair' }, cols));
  }

  // Checkboxes of the fields the kept record takes from the one merged away.
  function mergeTakes() {
    const boxes = MERGE_TAKES.map((f) => el('label', { class: 'choice' },
      el('input', { type: 'checkbox', name: 'merge-take', value: f }), f === 'position' ? t('dup.take_position') : fieldLabel(f)));
    return el('fieldset', { class: 'merge-take', id: 'merge-take' }, el('legend', null, t('dup.take')), boxes);
  }

  function duplicatePanel(o) {
    const d = state.item.duplicate || {};
    const n = state.neighbour || d.neighbour || { id: d.neighbourId };
    if (d.cityDecides && (state.neighbourHidden || !coversPair(d))) return cityDecidesPanel(o, d, n);
    const comment = commentBox('duplicate-comment');
    const takes = mergeTakes();
    const name = (r) => r.name || r.code || String(r.id || '').slice(0, 8);
    const merge = (survivor, id) => el('button', {
      type: 'button', class: 'act act-merge', id, dataset: { survivor: survivor.id || '' },
      onclick: () => submit({ kind: K.merge, outfallId: o.id, baseVersion: String(o.version || 0), duplicateId: String(d.id),
        survivorId: survivor.id, comment: comment.value.trim(),
        takeFromOther: [...takes.querySelectorAll('input:checked')].map((b) => b.value) }, 'done.merge'),
    }, t('dup.keep', { name: name(survivor) }));
    return el('section', { class: 'duplicate' }, el('h3', null, t('dup.title')),
      el('p', { class: 'distance' }, t('dup.distance', { m: Number(d.distanceM || 0).toFixed(1) })),
      el('div', { class: 'dup-pair' }, dupColumn(o, state.history, 'dup.this'), dupColumn(n, state.nhistory, 'dup.neighbour')),
      takes, el('label', { for: 'duplicate-comment' }, t('decide.comment')), comment,
      el('div', { class: 'actions' }, merge(o, 'merge-keep-this'), merge(n, 'merge-keep-neighbour'),
        el('button', {
          type: 'button', class: 'act act-apart', id: 'keep-apart',
          onclick: () => submit({ kind: K.apart, outfallId: o.id, baseVersion: String(o.version || 0), duplicateId: String(d.id),
            comment: comment.value.trim() }, 'done.apart'),
        }, t('dup.apart'))));
  }

  function render() {
    const item = state.item;
    if (!item) { placeholder(); return; }
    const o = state.outfall;
    if (o instanceof Error) {
      fill(pane, el('p', { class: 'error' }, t('detail.failed', { msg: errorText(o) })));
      return;
    }
    const kind = item.kind;
    const head = el('header', { class: 'detail-head' },
      el('h2', { id: 'record-name' }, o.name || t('queue.unnamed')),
      el('p', { class: 'meta' }, enumLabel('item_kind', kind), ' · ',
        t('detail.state', { s: enumLabel('review_state', o.reviewState || 'REVIEW_STATE_UNSPECIFIED') }),
        o.code ? ` · ${o.code}` : '', ' · ', el('code', null, o.id || '')));
    const parts = [head];
    if (kind === 'REVIEW_ITEM_KIND_CONFLICT') parts.push(conflictPanel(o));
    if (kind === 'REVIEW_ITEM_KIND_DUPLICATE') {
      parts.push(duplicatePanel(o));
      const h = state.history;
      if (h && !(h instanceof Error)) parts.push(el('section', null, el('h3', null, t('detail.history')), historyTable(h)));
    } else if (kind === 'REVIEW_ITEM_KIND_INSPECTION') {
      const ob = state.observation;
      if (ob && !(ob instanceof Error)) parts.push(inspectionPanel(o, ob));
      else parts.push(el('p', { class: 'error' }, t('inspection.failed', { msg: ob ? errorText(ob) : '—' })));
      parts.push(recordView(o, state.history, config));
    } else {
      if (kind === 'REVIEW_ITEM_KIND_FLAGGED' && item.observation) parts.push(el('section', { class: 'flagged' }, observationView(item.observation)));
      parts.push(decisionForm(o), recordView(o, state.history, config));
    }
    fill(pane, el('div', { class: 'detail', dataset: { kind, outfallId: o.id || '', version: String(o.version || '') } }, parts));
  }

  // (Re)loads everything the open item shows, fresh from the server.
  async function load() {
    const item = state.item;
    if (!item) return;
    const seq = ++state.seq;
    fill(pane, el('p', { class: 'status' }, t('detail.loading')));
    const soft = (p) => p.catch((e) => e);
    const [o, h] = await Promise.all([soft(api.outfall(item.outfallId)), soft(api.history(item.outfallId))]);
    let n = null, nh = null, conflicts = [], ob = null, neighbourHidden = false;
    if (item.kind === 'REVIEW_ITEM_KIND_INSPECTION' && item.observation) ob = await soft(api.observation(item.observation.id));
    if (item.kind === 'REVIEW_ITEM_KIND_DUPLICATE' && item.duplicate) {
      const other = item.duplicate.neighbourId === item.outfallId ? item.duplicate.outfallId : item.duplicate.neighbourId;
      [n, nh] = await Promise.all([soft(api.outfall(other)), soft(api.history(other))]);
      neighbourHidden = n instanceof Error && n.status === 404;
      if (n instanceof Error) n = item.duplicate.neighbour || { id: other };
    }
    if (item.kind === 'REVIEW_ITEM_KIND_CONFLICT' && !(o instanceof Error)) {
      conflicts = await queue.conflictsOf(item.outfallId, o.divisionCode, o.riverCode).catch(() => []);
      if (!conflicts.length && item.conflict) conflicts = [item.conflict];
    }
    if (seq !== state.seq) return;
    Object.assign(state, { outfall: o, history: h, neighbour: n, nhistory: nh, neighbourHidden, conflicts, observation: ob });
    render();
  }

  return {
    open(item) { state.item = item; state.decisionId = api.uuid(); load(); },
    render,
    placeholder,
  };
}
