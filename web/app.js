// The console's entry point: language, sign-in and sign-out, the header's views (review,
// progress, applications, public reports), and wiring the queue to the detail pane. No inline script anywhere: index.html loads this module and nothing else.
import * as api from './api.js';
import { t, lang, setLang, translateStatic, enumLabel, errorText } from './i18n.js';
import { createQueue } from './queue.js';
import { createDetail } from './review.js';
import { createProgress, createReminder } from './progress.js';
import { createApplications } from './applications.js';
import { createReports } from './reports.js';
import { createInventory } from './inventory.js';
import { createOutfallPage } from './outfall.js';
import { createAnnual } from './annual.js';
import { createExports } from './exports.js';
import { createSignboards } from './signboards.js';
import { createPlans } from './plans.js';
import { createZones } from './zones.js';
import { createDraws } from './draws.js';
import { createAccounts, createPassword } from './accounts.js';
import { createSelfChecks } from './selfchecks.js';

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
const inventory = createInventory($('inventory-view'), { notice, config });
const outfallPage = createOutfallPage($('outfall-view'), { notice, config });
const annual = createAnnual($('annual-view'), { notice });
const exportsView = createExports($('exports-view'), { notice });
const signboards = createSignboards($('signboards-view'));
const plans = createPlans($('plans-view'), { notice });
const zones = createZones($('zones-view'), { notice, config });
const draws = createDraws($('draws-view'), { notice });

// The console's views, each with its section #NAME-view and (but for the outfall's page, opened
// from the inventory or a link #outfall/<id>) its header button #nav-NAME. The review builds
// itself on sign-in; the others build and load when opened.
const VIEWS = { review: null, progress, applications, reports, inventory, outfall: outfallPage,
  annual, exports: exportsView, signboards, plans, zones, draws };
let view = 'review';
// Issue 19: accounts (admins), the own password (every role), the counties' self-check plans.
Object.assign(VIEWS, {
  selfchecks: createSelfChecks($('selfchecks-view'), { notice }),
  accounts: createAccounts($('accounts-view'), { notice }),
  password: createPassword($('password-view'), { notice, onChanged: passwordChanged }),
});

// Shows one view; its header button is marked current.
function showView(which) {
  view = which;
  $('surveyor-view').hidden = true;
  for (const name of Object.keys(VIEWS)) {
    $(name + '-view').hidden = name !== which;
    const nav = $('nav-' + name);
    if (!nav) continue;
    if (name === which || (name === 'inventory' && (which === 'outfall' || which === 'signboards'))) nav.setAttribute('aria-current', 'page');
    else nav.removeAttribute('aria-current');
  }
  if (VIEWS[which]) {
    VIEWS[which].build();
    VIEWS[which].reload();
  }
}

for (const name of Object.keys(VIEWS)) {
  if (!$('nav-' + name)) continue;
  $('nav-' + name).addEventListener('click', () => {
    if (name === 'inventory') {
      // The address holds the inventory's filters: a click starts from those last searched.
      if (!location.hash.startsWith('#inventory')) history.replaceState(null, '', '#inventory');
    } else if (name === 'plans') {
      // The address names the plans' tab (#plans?tab=...), so Back from an outfall returns to it.
      if (!location.hash.startsWith('#plans')) history.replaceState(null, '', '#plans');
    } else if (location.hash) {
      history.replaceState(null, '', location.pathname + location.search);
    }
    showView(name);
  });
}

// The view the address names: #outfall/<id> (the outfall's page), #inventory[?filters] or
// #plans[?tab=...];
// returns whether it named one.
function showLinked() {
  const h = location.hash;
  if (h.startsWith('#outfall/')) {
    let id = '';
    try { id = decodeURIComponent(h.slice('#outfall/'.length)); } catch (_) { id = ''; }
    showView('outfall');
    outfallPage.open(id);
    return true;
  }
  if (h.startsWith('#signboards/')) { // printable sign boards (web/signboards.js)
    showView('signboards');
    return true;
  }
  if (h.startsWith('#inventory')) {
    showView('inventory');
    return true;
  }
  if (h.startsWith('#plans')) {
    showView('plans');
    return true;
  }
  return false;
}

window.addEventListener('hashchange', () => {
  const s = api.session();
  if (s && s.role !== 'ROLE_SURVEYOR') showLinked();
});

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
  showRoleNav(s);
  if (s.mustChangePassword) {
    $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role || 'ROLE_UNSPECIFIED') });
    showView('password');
    return;
  }
  // A surveyor has no queue to review: their work is in the field app.
  if (s.role === 'ROLE_SURVEYOR') {
    $('surveyor-view').hidden = false;
    for (const name of Object.keys(VIEWS)) $(name + '-view').hidden = true;
    $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role) });
    return;
  }
  $('nav').hidden = false;
  if (!showLinked()) showView(firstView());
  reminder.check();
  $('who').textContent = t('auth.who', { user: s.username, role: enumLabel('role', s.role || 'ROLE_UNSPECIFIED') });
  $('who').dataset.role = s.role || '';
  queue.build();
  detail.placeholder();
  // The queue is asked only by the roles that review (the header shows them 审核).
  if (!$('nav-review').hidden) queue.reload();
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

// Shows the header's buttons marked data-roles="ROLE_… ROLE_…" only to those roles, and the
// header itself to a surveyor too when a button is theirs (their own password).
function showRoleNav(s) {
  let any = false;
  for (const b of document.querySelectorAll('#nav button')) {
    const roles = b.dataset.roles ? b.dataset.roles.split(' ') : null;
    b.hidden = s.role === 'ROLE_SURVEYOR' ? !(roles && roles.includes(s.role)) : !!roles && !roles.includes(s.role);
    if (!b.hidden) any = true;
  }
  $('nav').hidden = !any;
}

// After the own password changed: a session that had to change it goes on to its work.
function passwordChanged() {
  const s = api.session();
  if (s && s.mustChangePassword) {
    api.passwordChanged();
    showReview();
  } else if (s && s.role === 'ROLE_SURVEYOR') {
    showReview();
  }
}

// The view a sign-in opens: the review when the role has it, else the header's first view.
function firstView() {
  const shown = [...document.querySelectorAll('#nav button')].filter((b) => !b.hidden).map((b) => b.id.slice('nav-'.length));
  return shown.includes('review') || !shown.length ? 'review' : shown[0];
}
