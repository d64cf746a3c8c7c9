// Public reports (举报, 四.四) for supervisors: GET /v1/reports lists the reports of the caller's
// divisions, newest first, open ones by default, with the reporter's photos (those uploaded yet); each open report can be answered once, optionally
// linked to an outfall (POST /v1/reports/{number}/answer). The answer id is made when the form opens
// and kept until the server has taken the answer, so pressing the button twice, or again after a
// lost connection, answers once.
import * as api from './api.js';
import { el, fill, kvTable } from './dom.js';
import { t, enumLabel, divisionLabel, formatTime, errorText } from './i18n.js';
import { photoStrip } from './record.js';

const STATUSES = ['REPORT_STATUS_RECEIVED', 'REPORT_STATUS_ANSWERED'];

// The view inside root; reload() fetches, render() redraws in the current language.
export function createReports(root, { notice }) {
  let reports = null;
  let error = '';
  let status = STATUSES[0];
  const open = new Map(); // number -> {answerId, text, outfallId, busy, error}

  const title = el('h2');
  const statusLabel = el('label', { for: 'reports-status' });
  const statusPick = el('select', { id: 'reports-status', onchange: () => { status = statusPick.value; reload(); } });
  const refresh = el('button', { id: 'reports-refresh', type: 'button', onclick: () => reload() });
  const line = el('p', { id: 'reports-line', class: 'muted', role: 'status' });
  const list = el('div', { id: 'reports-list', class: 'reports-list' });

  function build() {
    fill(root, title, el('div', { class: 'progress-controls' }, statusLabel, statusPick, refresh), line, list);
    render();
  }

  function answerForm(r) {
    const f = open.get(r.number);
    const text = el('textarea', { class: 'report-answer-text', rows: 3, maxlength: 2000, value: f.text,
      'aria-label': t('reports.answer'), oninput: () => { f.text = text.value; } });
    const link = el('input', { class: 'report-outfall-id', value: f.outfallId, placeholder: t('reports.link_hint'),
      'aria-label': t('reports.link'), oninput: () => { f.outfallId = link.value.trim(); } });
    const send = el('button', { type: 'button', class: 'report-send', disabled: f.busy, onclick: () => submit(r.number) },
      f.busy ? t('decide.busy') : t('reports.send'));
    return el('div', { class: 'report-answer-form' },
      el('label', null, t('reports.answer'), text), el('label', null, t('reports.link'), link), send,
      f.error ? el('p', { class: 'error', role: 'alert' }, f.error) : null);
  }

  function card(r) {
    const rows = [
      [t('reports.received'), formatTime(r.receivedAtMs)],
      [t('reports.kind'), enumLabel('report_kind', r.kind || 'REPORT_KIND_UNSPECIFIED')],
      [t('queue.division'), divisionLabel(r.divisionCode)],
      [t('detail.position'), r.lat !== undefined ? t('detail.coords', { lat: Number(r.lat).toFixed(5), lon: Number(r.lon).toFixed(5) }) : t('value.empty')],
      [t('reports.description'), r.description || t('value.empty')],
      [t('reports.contact'), r.contact || t('value.empty')],
      [t('reports.outfall_code'), r.outfallCode || t('value.empty')],
      [t('detail.photos'), photoStrip((r.photos || []).map((hash) => ({ hash })))],
    ];
    if (r.status === 'REPORT_STATUS_ANSWERED') {
      rows.push([t('reports.answered'), formatTime(r.answeredAtMs)], [t('reports.answer'), r.answer || ''],
        [t('reports.link'), r.outfallId || t('value.empty')]);
    }
    const answerable = r.status !== 'REPORT_STATUS_ANSWERED';
    return el('section', { class: 'report', dataset: { number: r.number, status: r.status || '' } },
      el('h3', null, t('reports.number', { number: r.number })),
      kvTable(rows, 'report-facts'),
      answerable && !open.has(r.number)
        ? el('button', { type: 'button', class: 'report-open', onclick: () => {
          open.set(r.number, { answerId: api.uuid(), text: '', outfallId: '', busy: false, error: '' });
          render();
        } }, t('reports.answer_this'))
        : null,
      answerable && open.has(r.number) ? answerForm(r) : null);
  }

  function render() {
    title.textContent = t('reports.title');
    statusLabel.textContent = t('reports.status');
    refresh.textContent = t('queue.refresh');
    fill(statusPick, STATUSES.map((s) => el('option', { value: s }, enumLabel('report_status', s))));
    statusPick.value = status;
    if (error) {
      line.textContent = t('reports.failed', { msg: error });
      list.replaceChildren();
      return;
    }
    if (!reports) {
      line.textContent = t('queue.loading');
      return;
    }
    line.textContent = reports.length ? t('reports.count', { n: reports.length }) : t('reports.empty');
    fill(list, reports.map(card));
  }

  async function submit(number) {
    const f = open.get(number);
    if (!f || f.busy) return;
    if (!f.text.trim()) {
      f.error = errorText({ code: 'answer_required' });
      render();
      return;
    }
    f.busy = true;
    f.error = '';
    render();
    try {
      const body = { answerId: f.answerId, answer: f.text.trim() };
      if (f.outfallId) body.outfallId = f.outfallId;
      await api.call('POST', '/v1/reports/' + encodeURIComponent(number) + '/answer', body);
      open.delete(number);
      notice(t('reports.done', { number }), 'ok');
      await reload();
    } catch (e) {
      f.busy = false;
      f.error = t('err.generic', { msg: errorText(e) });
      render();
    }
  }

  async function reload() {
    root.dataset.loaded = 'loading';
    error = '';
    reports = null;
    render();
    try {
      const l = await api.call('GET', '/v1/reports?status=' + encodeURIComponent(status.replace('REPORT_STATUS_', '')));
      reports = l.reports || [];
    } catch (e) {
      error = errorText(e);
    }
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  return { build, render, reload };
}
