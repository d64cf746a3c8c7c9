// The lifecycle actions of the outfall's page (#outfall-actions): for the outfall's stage, the
// steps programme/lifecycle.h allows (溯源, 一口一策, 整治完成, 验收退回, 销号, 列入保留清单, and
// the corrections within a stage), each a small form with the plan's rules in words, the
// effective date and, for a date far back, the reason and evidence the server asks for. Each
// opened form makes one transition_id, kept until the step succeeds, so a second press or a retry
// after a lost connection records one step (the server stores no refused step). A refusal shows
// the catalogue's text for its code and changes nothing; a success calls done() so the page
// reloads the stage and history.
import * as api from './api.js';
import { el, fill } from './dom.js';
import { ENUMS } from './labels.js';
import { t, fieldLabel, enumLabel, errorText } from './i18n.js';

const STAGE = 'LIFECYCLE_STAGE_';
const REMOVES = ['REMEDIATION_MEASURE_BAN', 'REMEDIATION_MEASURE_MERGE'];
const KEEPS = ['REMEDIATION_MEASURE_REGULARIZE', 'REMEDIATION_MEASURE_NONE'];

// The steps from each stage: [step key, stage it goes to, form kind, which measures it fits
// (absent: any)]. Anything else is transition_not_allowed on the server.
const STEPS = {
  LIFECYCLE_STAGE_FOUND: [['date_found', 'FOUND', 'date'], ['trace', 'TRACED', 'party']],
  LIFECYCLE_STAGE_TRACED: [['correct_party', 'TRACED', 'party'], ['plan', 'PLANNED', 'plan']],
  LIFECYCLE_STAGE_PLANNED: [['revise_plan', 'PLANNED', 'plan'], ['remediate', 'REMEDIATED', 'evidence']],
  LIFECYCLE_STAGE_REMEDIATED: [['send_back', 'PLANNED', 'send_back'], ['close', 'CLOSED', 'date', REMOVES],
    ['retain', 'RETAINED', 'date', KEEPS]],
};
const PARTY = ['name', 'credit_code', 'contact', 'phone', 'permit_number', 'address'];
const BASES = ['PARTY_BASIS_TRACED', 'PARTY_BASIS_APPLICANT', 'PARTY_BASIS_DESIGNATED', 'PARTY_BASIS_COUNTY_GOVERNMENT'];
const ROLES = ['ROLE_SUPERVISOR', 'ROLE_ADMIN'];
const HASH_RE = /^[0-9a-f]{64}$/;

const camel = (s) => s.replace(/_([a-z0-9])/g, (m, c) => c.toUpperCase());

// Today in China Standard Time, YYYY-MM-DD (the server's "today" for effective dates).
export function todayCst() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

// The steps offered to an outfall at stage with plan measure (names as the server sends them).
export function stepsFor(stage, measure) {
  return (STEPS[stage] || []).filter(([, , , fits]) => !fits || !measure || fits.includes(measure));
}

// POSTs transition; a lost connection is retried with the same id, which the server answers
// with its first result, so a step never applies twice.
async function send(transition) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.call('POST', '/v1/programme/transitions', transition);
    } catch (e) {
      if (e.code !== 'network' || attempt >= 2) throw e;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
}

// A labelled input; kind 'text', 'date', 'number', 'check', 'area' or 'select' (options given).
function field(name, label, kind, value, options) {
  const id = 'lc-' + name;
  if (kind === 'check') {
    return el('label', { class: 'check', for: id }, el('input', { id, name, type: 'checkbox', checked: Boolean(value) }), ' ', label);
  }
  let control;
  if (kind === 'select') {
    control = el('select', { id, name }, options.map(([v, text]) => el('option', { value: v }, text)));
    if (value) control.value = value;
  } else if (kind === 'area') {
    control = el('textarea', { id, name, rows: '2', maxlength: '2000' });
    control.value = value || '';
  } else {
    control = el('input', { id, name, type: kind, value: value || '', maxlength: kind === 'text' ? '200' : undefined });
  }
  return el('label', { class: 'field', for: id }, el('span', null, label), control);
}

function value(form, name) {
  const e = form.querySelector('#' + CSS.escape('lc-' + name));
  if (!e) return '';
  return e.type === 'checkbox' ? e.checked : e.value.trim();
}

// The party form's fields, filled from the record's party.
function partyFields(o) {
  const p = o.responsibleParty || {};
  const basis = (o.programme && o.programme.partyBasis) || 'PARTY_BASIS_TRACED';
  return [el('p', { class: 'rule' }, t('lc.rule.party')),
    field('party_basis', fieldLabel('party_basis'), 'select', basis, BASES.map((b) => [b, enumLabel('party_basis', b)])),
    PARTY.map((f) => field('party.' + f, fieldLabel('responsible_party.' + f), 'text', p[camel(f)])),
    field('party.in_industrial_park', t('lc.in_park'), 'check', p.inIndustrialPark),
    field('party.permit_outfalls_allowed', t('lc.permit_outfalls'), 'number', p.permitOutfallsAllowed)];
}

function readParty(form) {
  const party = {};
  for (const f of PARTY) if (value(form, 'party.' + f)) party[camel(f)] = value(form, 'party.' + f);
  if (value(form, 'party.in_industrial_park')) party.inIndustrialPark = true;
  const allowed = value(form, 'party.permit_outfalls_allowed');
  if (allowed) party.permitOutfallsAllowed = Number(allowed);
  const out = { partyBasis: value(form, 'party_basis') };
  if (Object.keys(party).length) out.responsibleParty = party;
  return out;
}

// The plan form's fields (一口一策), filled from the plan in force, with rules 1, 2 and 5.
function planFields(o) {
  const plan = (o.programme && o.programme.plan) || {};
  const measures = ENUMS.measure.slice(1).map((m) => [m, enumLabel('measure', m)]);
  return [el('ul', { class: 'rule' }, ['measures', 'rule1', 'rule2', 'rule5', 'deadline'].map((r) => el('li', null, t('lc.rule.' + r)))),
    field('measure', fieldLabel('measure'), 'select', plan.measure || 'REMEDIATION_MEASURE_REGULARIZE', measures),
    field('deadline', fieldLabel('deadline'), 'date', plan.deadline),
    field('transition_end', fieldLabel('transition_end'), 'date', plan.transitionEnd),
    field('merge_into_outfall_id', fieldLabel('merge_into_outfall_id'), 'text', plan.mergeIntoOutfallId),
    field('merge_into_sewer', fieldLabel('merge_into_sewer'), 'text', plan.mergeIntoSewer),
    field('affects_flood_control', fieldLabel('affects_flood_control'), 'check', plan.affectsFloodControl),
    field('blocks_outfall', fieldLabel('blocks_outfall'), 'check', plan.blocksOutfall),
    field('safety_note', fieldLabel('safety_note'), 'area', plan.safetyNote),
    field('notes', t('lc.plan_notes'), 'area', plan.notes)];
}

function readPlan(form) {
  const plan = { measure: value(form, 'measure') };
  for (const f of ['deadline', 'transition_end', 'merge_into_outfall_id', 'merge_into_sewer', 'safety_note', 'notes']) {
    if (value(form, f)) plan[camel(f)] = value(form, f);
  }
  for (const f of ['affects_flood_control', 'blocks_outfall']) if (value(form, f)) plan[camel(f)] = true;
  return { plan };
}

// The observations holding a remediation_done photo, to name as evidence.
function evidenceChoices(obs) {
  return obs.filter((ob) => (ob.photos || []).some((p) => p.kind === 'PHOTO_KIND_REMEDIATION_DONE'));
}

function evidenceFields(o, obs) {
  const choices = evidenceChoices(obs);
  return [el('p', { class: 'rule' }, t('lc.rule.evidence')),
    choices.length
      ? el('fieldset', { class: 'evidence-choice' }, el('legend', null, t('lc.evidence_pick')),
        choices.map((ob) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'evidence', value: ob.id, checked: true }),
          ' ', t('lc.evidence_obs', { id: String(ob.id).slice(0, 8), n: ob.photos.length }))))
      : el('p', { class: 'muted', dataset: { evidence: 'none' } }, t('lc.evidence_none'))];
}

function readEvidence(form) {
  const ids = Array.from(form.querySelectorAll('input[name="evidence"]:checked'), (e) => e.value);
  return ids.length ? { evidenceObservationIds: ids } : {};
}

// What each form kind adds: [its fields, how to read them, whether the comment is required].
const KINDS = {
  date: [() => [], () => ({}), false],
  party: [(o) => partyFields(o), readParty, false],
  plan: [(o) => planFields(o), readPlan, false],
  evidence: [(o, obs) => evidenceFields(o, obs), readEvidence, false],
  send_back: [() => [el('p', { class: 'rule' }, t('lc.rule.send_back'))], () => ({}), true],
};

// The date, comment and backdating fields every step has; hashes lists the outfall's photos.
function commonFields(hashes, needComment) {
  return [field('effective_date', t('lc.effective_date'), 'date', todayCst()),
    field('comment', t(needComment ? 'lc.comment_required' : 'lc.comment'), 'area', ''),
    el('fieldset', { class: 'backdate' }, el('legend', null, t('lc.backdate')),
      el('p', { class: 'rule' }, t('lc.rule.backdate')),
      field('reason', t('lc.reason'), 'text', ''),
      field('evidence_hash', t('lc.evidence_hash'), 'text', ''),
      hashes.length ? el('datalist', { id: 'lc-hashes' }, hashes.map((h) => el('option', { value: h }))) : null)];
}

// The actions box for outfall o (with its observations obs) in box; ctx.notice(text) tells the
// outcome, ctx.done() reloads the page after a step.
export function renderActions(box, o, obs, ctx) {
  const s = api.session();
  const stage = (o.programme && o.programme.stage) || (Number(o.approvedVersion || 0) > 0 ? STAGE + 'FOUND' : '');
  const measure = o.programme && o.programme.plan && o.programme.plan.measure;
  const heading = el('h3', null, t('page.actions'));
  box.dataset.stage = stage;
  if (!s || !ROLES.includes(s.role)) {
    fill(box, heading, el('p', { class: 'muted', dataset: { why: 'role' } }, t('lc.no_role')));
    return;
  }
  if (!stage) {
    fill(box, heading, el('p', { class: 'muted', dataset: { why: 'not_approved' } }, t('lc.not_approved')));
    return;
  }
  if (Number(o.version || 0) > Number(o.approvedVersion || 0)) {
    fill(box, heading, el('p', { class: 'error', dataset: { why: 'pending' } }, t('lc.pending')));
    return;
  }
  const steps = stepsFor(stage, measure);
  if (!steps.length) {
    fill(box, heading, el('p', { class: 'muted', dataset: { why: 'final' } }, t('lc.final', { stage: enumLabel('stage', stage) })));
    return;
  }
  const formBox = el('div', { class: 'lc-form-box' });
  const hashes = [...new Set(obs.flatMap((ob) => (ob.photos || []).map((p) => p.hash)).filter((h) => HASH_RE.test(h || '')))];
  let openKey = '';

  function openForm(step) {
    const [key, to, kind] = step;
    const [fields, read, needComment] = KINDS[kind];
    const transitionId = api.uuid();
    const status = el('p', { class: 'lc-status', role: 'alert' });
    const submit = el('button', { type: 'submit', class: 'primary', id: 'lc-submit' }, t('lc.submit.' + key));
    const cancel = el('button', { type: 'button', class: 'link', id: 'lc-cancel' }, t('lc.cancel'));
    const form = el('form', { id: 'lc-form', class: 'lc-form', dataset: { step: key, transitionId } },
      el('h4', null, t('lc.step.' + key)), el('p', { class: 'muted' }, t('lc.goes_to', { stage: enumLabel('stage', STAGE + to) })),
      fields(o, obs), commonFields(hashes, needComment), el('div', { class: 'lc-buttons' }, submit, cancel), status);
    const hashInput = form.querySelector('#lc-evidence_hash');
    if (hashes.length) hashInput.setAttribute('list', 'lc-hashes');
    cancel.addEventListener('click', () => { openKey = ''; fill(formBox); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { transitionId, outfallId: o.id, baseVersion: String(o.version || ''), toStage: STAGE + to, ...read(form) };
      for (const f of ['effective_date', 'comment', 'reason', 'evidence_hash']) if (value(form, f)) body[camel(f)] = value(form, f);
      submit.disabled = true;
      cancel.disabled = true;
      status.className = 'lc-status muted';
      status.textContent = t('lc.sending');
      delete form.dataset.code;
      try {
        const r = await send(body);
        openKey = '';
        const days = r.backdatedDays ? t('lc.backdated', { days: r.backdatedDays }) : '';
        ctx.notice(t('lc.done', { step: t('lc.step.' + key), stage: enumLabel('stage', (r.outfall && r.outfall.programme && r.outfall.programme.stage) || STAGE + to) }) + days);
        ctx.done();
      } catch (e) {
        status.className = 'lc-status error';
        form.dataset.code = e.code || '';
        status.textContent = t('lc.refused', { msg: errorText(e) }) + (e.code === 'stale_version' ? ' ' + t('lc.stale') : '');
        submit.disabled = false;
        cancel.disabled = false;
      }
    });
    openKey = key;
    fill(formBox, form);
    form.querySelector('input, select, textarea').focus();
  }

  fill(box, heading,
    el('p', { class: 'muted' }, t('lc.at', { stage: enumLabel('stage', stage) })),
    el('div', { class: 'lc-steps' }, steps.map((step) => el('button', {
      type: 'button', class: 'lc-step', dataset: { step: step[0] },
      onclick: () => { if (openKey !== step[0]) openForm(step); },
    }, t('lc.step.' + step[0])))),
    formBox);
}
