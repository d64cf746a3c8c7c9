// The console's entry point: language, sign-in and sign-out, and wiring the queue to the
// detail pane. No inline script anywhere: index.html loads this module and nothing else.
import * as api from './api.js';
import { t, lang, setLang, translateStatic, enumLabel, errorText } from './i18n.js';
import { createQueue } from './queue.js';
import { createDetail } from './review.js';
import { createProgress, createReminder } from './progress.js';

const $ = (id) => document.getElementById(id);
const config = { tileUrl: '' };
let noticeTimer = 0;

// Shows text in the notice bar; kind "ok" fades after a while, "error" stays until replaced.
function notice(text, kind) {
  const n = $('notice');
  n.textContent = text;
  n.className = 'notice ' + (kind || 'ok');
  n.dataset.kind = kind || 'ok';
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (kind !== 'error') noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
}

const queue = createQueue($('queue-pane'), (item) => { notice(''); detail.open(item); });
const detail = createDetail($('detail'), { queue, notice, config });
const progress = createProgress($('progress-view'));
const reminder = createReminder($('filing-reminder'));
let view = 'review'; // or 'progress'

// Shows the review (queue and detail) or the progress view; the header button switches.
function showView(which) {
  view = which;
  $('review-view').hidden = which !== 'review';
  $('progress-view').hidden = which !== 'progress';
  $('nav-progress').dataset.i18n = which === 'review' ? 'nav.progress' : 'nav.review';
  $('nav-progress').textContent = t($('nav-progress').dataset.i18n);
  if (which === 'progress') {
    progress.build();
    progress.reload();
  }
}

$('nav-progress').addEventListener('click', () => showView(view === 'review' ? 'progress' : 'review'));

function showLogin(message) {
  $('review-view').hidden = true;
  $('login-view').hidden = false;
  $('logout').hidden = true;
  $('progress-view').hidden = true;
  $('nav-progress').hidden = true;
  reminder.clear();
  $('who').textContent = '';
  $('login-error').textContent = message || '';
  $('username').focus();
}

function showReview() {
  const s = api.session();
  $('login-view').hidden = true;
  $('review-view').hidden = false;
  $('logout').hidden = false;
  $('progress-view').hidden = true;
  $('nav-progress').hidden = false;
  view = 'review';
  $('nav-progress').dataset.i18n = 'nav.progress';
  reminder.check();
  $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role || 'ROLE_UNSPECIFIED') });
  $('who').dataset.role = s.role || '';
  queue.build();
  detail.placeholder();
  queue.reload();
}

function relabel() {
  translateStatic(document);
  $('lang').textContent = t('lang.switch');
  if (api.session()) {
    const s = api.session();
    $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role || 'ROLE_UNSPECIFIED') });
    queue.build();
    detail.render();
    if (view === 'progress') progress.render();
    reminder.render();
  }
}

$('lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  relabel();
});

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = $('login-submit');
  button.disabled = true;
  $('login-error').textContent = '';
  try {
    await api.login($('username').value.trim(), $('password').value);
    $('password').value = '';
    showReview();
  } catch (e) {
    $('login-error').textContent = t('auth.failed', { msg: errorText(e) });
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  await api.logout();
  notice('', 'ok');
  showLogin();
});

$('photo-close').addEventListener('click', () => $('photo-dialog').close());
$('photo-dialog').addEventListener('click', (ev) => { if (ev.target === $('photo-dialog')) $('photo-dialog').close(); });

api.onUnauthorized(() => showLogin(t('auth.expired')));

async function start() {
  setLang(lang());
  translateStatic(document);
  $('lang').textContent = t('lang.switch');
  try {
    const c = await fetch('/web/config.json', { cache: 'no-store', credentials: 'omit' }).then((r) => r.json());
    if (c && typeof c.tileUrl === 'string') config.tileUrl = c.tileUrl;
  } catch (_) { /* no map then */ }
  if (api.session()) showReview(); else showLogin();
  document.body.dataset.ready = 'true';
}

start();
