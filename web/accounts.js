// Accounts (账户, admins only): the users list (GET /v1/users) filtered here by name, role,
// division and state; a new account (POST /v1/users); one account's role and divisions (PATCH
// /v1/users/{u}, which ends the user's sign-ins), disabling and enabling it, a password reset
// (POST /v1/users/{u}/password: the one-time password is shown once and forgotten when the pane
// changes), and the user's phones and sign-ins with revoke (GET/DELETE .../devices, .../tokens).
// Also the own-password view every signed-in user has (POST /v1/me/password). Every refusal is
// worded from the catalogue (errorText).
import * as api from './api.js';
import { el, fill, grid, kvTable } from './dom.js';
import { t, enumLabel, divisionLabel, formatTime, errorText } from './i18n.js';
import { DIVISIONS, CITY_DIVISION, ENUMS } from './labels.js';

const tx = (key, vars) => t('acct.' + key, vars);
const ROLES = ENUMS.role.slice(1);
const ALL_DIVISIONS = [CITY_DIVISION, ...DIVISIONS];
const STATES = ['enabled', 'disabled', 'must_change'];
const userPath = (name) => '/v1/users/' + encodeURIComponent(name);

// Whether user u passes the filters f {q, role, division, state}.
function matches(u, f) {
  if (f.q && !String(u.username || '').toLowerCase().includes(f.q.toLowerCase())) return false;
  if (f.role && u.role !== f.role) return false;
  if (f.division && !(u.divisions || []).includes(f.division)) return false;
  if (f.state === 'enabled' && u.disabled) return false;
  if (f.state === 'disabled' && !u.disabled) return false;
  if (f.state === 'must_change' && !u.mustChangePassword) return false;
  return true;
}

// The state of user u in words.
function stateText(u) {
  const parts = [u.disabled ? tx('state.disabled') : tx('state.enabled')];
  if (u.mustChangePassword) parts.push(tx('state.must_change'));
  return parts.join(t('sep.items'));
}

// Checkboxes for every division, those in chosen (a Set) ticked; ids prefixed by prefix.
function divisionChecks(prefix, chosen) {
  return el('fieldset', { class: 'account-divisions', id: prefix + '-divisions' },
    el('legend', null, tx('divisions')),
    ALL_DIVISIONS.map((d) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', value: d, checked: chosen.has(d),
        onchange: (ev) => { if (ev.target.checked) chosen.add(d); else chosen.delete(d); } }),
      divisionLabel(d))));
}

function roleSelect(id, value, onchange) {
  const s = el('select', { id, onchange: () => onchange(s.value) },
    ROLES.map((r) => el('option', { value: r }, enumLabel('role', r))));
  s.value = value;
  return s;
}

// The accounts view inside root; reload() fetches, render() redraws in the current language.
export function createAccounts(root, { notice }) {
  let users = [];
  let error = '';
  let loading = false;
  const filter = { q: '', role: '', division: '', state: '' };
  let selected = null; // username shown
  let form = null;     // a new account being written {fields, divisions, busy, error}
  let edit = null;     // the selected account's pending edit {role, divisions, busy, error}
  let oneTime = null;  // {username, password} just reset: shown this once
  let owned = null;    // {username, devices, tokens, error, busy} the selected user's phones and sign-ins

  const title = el('h2');
  const q = el('input', { id: 'accounts-q', type: 'search', oninput: () => { filter.q = q.value.trim(); renderList(); } });
  const qLabel = el('label', { for: 'accounts-q' });
  const role = el('select', { id: 'accounts-role', onchange: () => { filter.role = role.value; renderList(); } });
  const roleLabel = el('label', { for: 'accounts-role' });
  const division = el('select', { id: 'accounts-division', onchange: () => { filter.division = division.value; renderList(); } });
  const divisionLabel_ = el('label', { for: 'accounts-division' });
  const state = el('select', { id: 'accounts-state', onchange: () => { filter.state = state.value; renderList(); } });
  const stateLabel = el('label', { for: 'accounts-state' });
  const refresh = el('button', { id: 'accounts-refresh', type: 'button', onclick: () => reload() });
  const create = el('button', { id: 'accounts-new', type: 'button', onclick: () => openForm() });
  const line = el('p', { id: 'accounts-line', class: 'muted', role: 'status' });
  const list = el('div', { id: 'accounts-list', class: 'accounts-list' });
  const detail = el('div', { id: 'account-detail', class: 'account-detail' });

  function build() {
    fill(root, title, el('div', { class: 'progress-controls accounts-controls' },
      qLabel, q, roleLabel, role, divisionLabel_, division, stateLabel, state, refresh, create),
    line, el('div', { class: 'applications-panes' }, list, detail));
    render();
  }

  function row(u) {
    const pick = () => select(u.username);
    return el('tr', { class: 'account-row' + (selected === u.username ? ' selected' : ''),
      dataset: { username: u.username, disabled: u.disabled ? 'true' : 'false' }, tabindex: 0,
      onclick: pick, onkeydown: (ev) => { if (ev.key === 'Enter') pick(); } },
    el('td', null, u.username), el('td', null, enumLabel('role', u.role || 'ROLE_UNSPECIFIED')),
    el('td', null, (u.divisions || []).map(divisionLabel).join(t('sep.items')) || t('value.empty')),
    el('td', { class: 'account-state' }, stateText(u)));
  }

  function renderList() {
    const shown = users.filter((u) => matches(u, filter));
    line.textContent = error ? tx('failed', { msg: error }) : loading ? tx('loading') : tx('count', { n: shown.length, all: users.length });
    if (!shown.length) {
      fill(list, el('p', { class: 'muted' }, loading ? tx('loading') : tx('empty')));
      return;
    }
    fill(list, grid(['username', 'role', 'divisions', 'state'].map((k) => tx(k)), shown.map(row), 'accounts-table'));
  }

  function field(key, control) {
    return el('label', { class: 'form-field' }, el('span', null, tx(key)), control);
  }

  function formBox() {
    const f = form.fields;
    const input = (name, props) => {
      const e = el('input', { id: 'account-new-' + name, value: f[name] || '', ...props, oninput: () => { f[name] = e.value; } });
      return e;
    };
    return el('form', { id: 'account-form', class: 'application-form', onsubmit: (ev) => { ev.preventDefault(); createUser(); } },
      el('h3', null, tx('new')),
      field('username', input('username', { required: true, maxlength: 63, autocomplete: 'off' })),
      field('password', input('password', { type: 'password', required: true, autocomplete: 'new-password' })),
      el('p', { class: 'muted' }, tx('password_rule')),
      field('role', roleSelect('account-new-role', f.role, (v) => { f.role = v; })),
      divisionChecks('account-new', form.divisions),
      el('div', { class: 'buttons' },
        el('button', { id: 'account-create', type: 'submit', disabled: form.busy }, form.busy ? tx('busy') : tx('create')),
        el('button', { type: 'button', disabled: form.busy, onclick: () => { form = null; renderDetail(); } }, tx('cancel'))),
      form.error ? el('p', { class: 'error', role: 'alert' }, form.error) : null);
  }

  function editBox(u) {
    if (!edit || edit.for !== u.username) {
      edit = { for: u.username, role: u.role, divisions: new Set(u.divisions || []), busy: '', error: '' };
    }
    const busy = !!edit.busy;
    return el('section', { class: 'account-edit' },
      el('h4', null, tx('edit')),
      field('role', roleSelect('account-role', edit.role, (v) => { edit.role = v; })),
      divisionChecks('account', edit.divisions),
      el('p', { class: 'muted' }, tx('edit_note')),
      el('div', { class: 'buttons' },
        el('button', { id: 'account-save', type: 'button', disabled: busy, onclick: () => save(u) },
          edit.busy === 'save' ? tx('busy') : tx('save')),
        el('button', { id: 'account-toggle', type: 'button', disabled: busy, onclick: () => toggle(u) },
          edit.busy === 'toggle' ? tx('busy') : u.disabled ? tx('enable') : tx('disable')),
        el('button', { id: 'account-reset', type: 'button', disabled: busy, onclick: () => reset(u) },
          edit.busy === 'reset' ? tx('busy') : tx('reset'))),
      edit.error ? el('p', { id: 'account-error', class: 'error', role: 'alert' }, edit.error) : null,
      oneTime && oneTime.username === u.username
        ? el('p', { class: 'onetime' }, tx('onetime'), ' ', el('code', { id: 'account-onetime' }, oneTime.password)) : null);
  }

  function ownedBox(u) {
    if (!owned || owned.username !== u.username) return el('p', { class: 'muted' }, tx('loading'));
    if (owned.error) return el('p', { class: 'error', role: 'alert' }, owned.error);
    const revoke = (kind, id) => el('button', { type: 'button', class: kind + '-revoke', dataset: { id },
      disabled: !!owned.busy, onclick: () => revokeOwned(u, kind, id) }, owned.busy === kind + id ? tx('busy') : tx('revoke'));
    const yes = (v) => (v ? t('value.yes') : t('value.no'));
    const devices = owned.devices.length
      ? grid(['device', 'device_name', 'enrolled', 'last_seen', 'revoked', 'action'].map((k) => tx(k)),
        owned.devices.map((d) => el('tr', { class: 'device-row', dataset: { id: d.deviceId } },
          el('td', null, el('code', null, d.deviceId)), el('td', null, d.name || t('value.empty')),
          el('td', null, formatTime(d.enrolledAtMs)), el('td', null, d.lastSeenAtMs ? formatTime(d.lastSeenAtMs) : tx('never')),
          el('td', null, yes(d.revoked)), el('td', null, d.revoked ? '' : revoke('device', d.deviceId)))), 'account-devices')
      : el('p', { class: 'muted' }, tx('no_devices'));
    const tokens = owned.tokens.length
      ? grid(['token', 'created_at', 'last_used', 'expires', 'revoked', 'action'].map((k) => tx(k)),
        owned.tokens.map((k) => el('tr', { class: 'token-row', dataset: { id: k.id } },
          el('td', null, el('code', null, k.id), k.current ? ' ' + tx('current') : ''), el('td', null, formatTime(k.createdAtMs)),
          el('td', null, k.lastUsedAtMs ? formatTime(k.lastUsedAtMs) : tx('never')), el('td', null, formatTime(k.expiresAtMs)),
          el('td', null, yes(k.revoked)), el('td', null, k.revoked ? '' : revoke('token', k.id)))), 'account-tokens')
      : el('p', { class: 'muted' }, tx('no_tokens'));
    return el('div', null, el('h4', null, tx('devices')), devices, el('h4', null, tx('tokens')), tokens);
  }

  function renderDetail() {
    if (form) {
      fill(detail, formBox());
      return;
    }
    const u = users.find((x) => x.username === selected);
    if (!u) {
      fill(detail, el('p', { class: 'muted' }, tx('pick')));
      return;
    }
    fill(detail, el('h3', { dataset: { username: u.username } }, u.username),
      kvTable([[tx('role'), enumLabel('role', u.role || 'ROLE_UNSPECIFIED'), 'role'],
        [tx('divisions'), (u.divisions || []).map(divisionLabel).join(t('sep.items')) || t('value.empty'), 'divisions'],
        [tx('state'), stateText(u), 'state']], 'account-facts'),
      editBox(u), ownedBox(u));
  }

  function render() {
    title.textContent = tx('title');
    qLabel.textContent = tx('search');
    q.placeholder = tx('search_hint');
    roleLabel.textContent = tx('role');
    divisionLabel_.textContent = tx('division');
    stateLabel.textContent = tx('state');
    refresh.textContent = t('queue.refresh');
    create.textContent = tx('new');
    fill(role, el('option', { value: '' }, tx('all')), ROLES.map((r) => el('option', { value: r }, enumLabel('role', r))));
    role.value = filter.role;
    fill(division, el('option', { value: '' }, tx('all')), ALL_DIVISIONS.map((d) => el('option', { value: d }, divisionLabel(d))));
    division.value = filter.division;
    fill(state, el('option', { value: '' }, tx('all')), STATES.map((s) => el('option', { value: s }, tx('state.' + s))));
    state.value = filter.state;
    renderList();
    renderDetail();
  }

  async function loadOwned(name) {
    owned = { username: name, devices: [], tokens: [], error: '', busy: '' };
    renderDetail();
    try {
      const [d, k] = await Promise.all([api.call('GET', userPath(name) + '/devices'), api.call('GET', userPath(name) + '/tokens')]);
      if (!owned || owned.username !== name) return;
      owned.devices = d.devices || [];
      owned.tokens = k.tokens || [];
    } catch (e) {
      if (!owned || owned.username !== name) return;
      owned.error = tx('owned_failed', { msg: errorText(e) });
    }
    renderDetail();
  }

  function select(name) {
    selected = name;
    form = null;
    edit = null;
    if (!oneTime || oneTime.username !== name) oneTime = null;
    render();
    loadOwned(name);
  }

  function openForm() {
    form = { fields: { role: 'ROLE_SURVEYOR' }, divisions: new Set(), busy: false, error: '' };
    selected = null;
    oneTime = null;
    render();
  }

  async function createUser() {
    const f = form.fields;
    form.busy = true;
    form.error = '';
    renderDetail();
    try {
      await api.call('POST', '/v1/users', { username: (f.username || '').trim(), password: f.password || '',
        role: f.role, divisions: [...form.divisions] });
      form = null;
      await load();
      select(f.username.trim());
      notice(tx('created', { user: f.username.trim() }), 'ok');
    } catch (e) {
      form.busy = false;
      form.error = errorText(e);
      renderDetail();
    }
  }

  // Runs the PATCH or POST of an edit action (busy names it), then shows the stored user and
  // only then says it is done (done(answer)).
  async function act(u, busy, send, done) {
    edit.busy = busy;
    edit.error = '';
    renderDetail();
    try {
      const res = await send();
      edit = null;
      await load();
      done(res);
      renderDetail();
      if (selected === u.username) loadOwned(u.username);
    } catch (e) {
      if (edit) {
        edit.busy = '';
        edit.error = errorText(e);
      }
      renderDetail();
    }
  }

  function save(u) {
    if (!edit.divisions.size && edit.role !== 'ROLE_ADMIN' && edit.role !== 'ROLE_PROVINCE_CHECKER') {
      edit.error = tx('need_division');
      renderDetail();
      return;
    }
    act(u, 'save', () => api.call('PATCH', userPath(u.username), { role: edit.role, divisions: [...edit.divisions] }),
      () => notice(tx('saved', { user: u.username }), 'ok'));
  }

  function toggle(u) {
    act(u, 'toggle', () => api.call('PATCH', userPath(u.username), { disabled: !u.disabled }),
      () => notice(tx(u.disabled ? 'enabled' : 'disabled', { user: u.username }), 'ok'));
  }

  function reset(u) {
    oneTime = null;
    act(u, 'reset', () => api.call('POST', userPath(u.username) + '/password', {}), (res) => {
      oneTime = { username: u.username, password: res.password || '' };
      notice(tx('reset_done', { user: u.username }), 'ok');
    });
  }

  async function revokeOwned(u, kind, id) {
    owned.busy = kind + id;
    renderDetail();
    try {
      await api.call('DELETE', `${userPath(u.username)}/${kind === 'device' ? 'devices' : 'tokens'}/${encodeURIComponent(id)}`);
      await loadOwned(u.username);
      notice(tx(kind + '_revoked'), 'ok');
    } catch (e) {
      owned.busy = '';
      notice(errorText(e), 'error');
      renderDetail();
    }
  }

  async function load() {
    loading = true;
    error = '';
    renderList();
    try {
      users = (await api.call('GET', '/v1/users')).users || [];
      users.sort((a, b) => String(a.username).localeCompare(String(b.username)));
    } catch (e) {
      error = errorText(e);
    }
    loading = false;
    render();
    root.dataset.loaded = error ? 'error' : 'true';
  }

  function reload() {
    root.dataset.loaded = 'loading';
    if (selected) loadOwned(selected);
    return load();
  }

  return { build, render, reload };
}

// The own-password view inside root: current password, the new one twice. onChanged() runs once
// the server took it (the session stays: this token is kept).
export function createPassword(root, { notice, onChanged }) {
  const s = { busy: false, error: '' };
  const title = el('h2');
  const intro = el('p', { id: 'password-intro', class: 'muted' });
  const fields = ['current', 'new', 'again'].map((k) => ({ k, label: el('label', { for: 'password-' + k }),
    input: el('input', { id: 'password-' + k, type: 'password', required: true,
      autocomplete: k === 'current' ? 'current-password' : 'new-password' }) }));
  const submit = el('button', { id: 'password-submit', type: 'submit' });
  const err = el('p', { id: 'password-error', class: 'error', role: 'alert' });
  const form = el('form', { id: 'password-form', onsubmit: (ev) => { ev.preventDefault(); change(); } },
    title, intro, fields.map((f) => [f.label, f.input]), submit, err);

  function build() {
    fill(root, form);
    render();
  }

  function render() {
    title.textContent = tx('pw.title');
    const must = (api.session() || {}).mustChangePassword;
    intro.textContent = must ? tx('pw.must') : tx('pw.rule');
    for (const f of fields) f.label.textContent = tx('pw.' + f.k);
    submit.textContent = s.busy ? tx('busy') : tx('pw.submit');
    submit.disabled = s.busy;
    err.textContent = s.error;
  }

  async function change() {
    const [cur, neu, again] = fields.map((f) => f.input.value);
    s.error = '';
    if (neu !== again) {
      s.error = tx('pw.mismatch');
      render();
      return;
    }
    s.busy = true;
    render();
    try {
      await api.call('POST', '/v1/me/password', { currentPassword: cur, newPassword: neu });
      for (const f of fields) f.input.value = '';
      notice(tx('pw.done'), 'ok');
      if (onChanged) onChanged();
    } catch (e) {
      s.error = errorText(e);
    }
    s.busy = false;
    render();
  }

  function reload() {
    s.error = '';
    render();
    root.dataset.loaded = 'true';
  }

  return { build, render, reload };
}
