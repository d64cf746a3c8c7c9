// The console's entry point: language, sign-in and sign-out, the header's views (review,
// progress, applications, public reports), and wiring the queue to the detail pane. No inline script anywhere: index.html loads this module and nothing else.
import * as api from './api.js';
import { t, lang, setLang, translateStatic, enumLabel, errorText } from './i18n.js';
import { createQueue } from './queue.js';
import { createDetail } from './review.js';
import { createProgress, createReminder } from './progress.js';
import { createApplications } from './applications.js';
import { createReports } from './reports.js';

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
const applications = createApplications($('applications-view'), { notice });
const reports = createReports($('reports-view'), { notice });

// The console's views, each with its header button #nav-NAME and section #NAME-view. The review
// builds itself on sign-in; the others build and load when opened.
const VIEWS = { review: null, progress, applications, reports };
let view = 'review';

// Shows one view; its header button is marked current.
function showView(which) {
  view = which;
  for (const name of Object.keys(VIEWS)) {
    $(name + '-view').hidden = name !== which;
    if (name === which) $('nav-' + name).setAttribute('aria-current', 'page');
    else $('nav-' + name).removeAttribute('aria-current');
  }
  if (VIEWS[which]) {
    VIEWS[which].build();
    VIEWS[which].reload();
  }
}

for (const name of Object.keys(VIEWS)) $('nav-' + name).addEventListener('click', () => showView(name));

function showLogin(message) {
  $('login-view').hidden = false;
  $('logout').hidden = true;
  for (const name of Object.keys(VIEWS)) $(name + '-view').hidden = true;
  $('surveyor-view').hidden = true;
  $('nav').hidden = true;
  reminder.clear();
  $('who').textContent = '';
  $('login-error').textContent = message || '';
  $('username').focus();
}

function showReview() {
  const s = api.session();
  $('login-view').hidden = true;
  $('logout').hidden = false;
  // A surveyor has no queue to review: their work is in the field app.
  if (s.role === 'ROLE_SURVEYOR') {
    $('surveyor-view').hidden = false;
    $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role) });
    return;
  }
  $('nav').hidden = false;
  showView('review');
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
    if (VIEWS[view]) VIEWS[view].render();
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
