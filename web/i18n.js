// The console's two languages: Chinese by default, English on request. The choice lives in
// localStorage; every text the console writes itself comes from t().
import { LABELS, ENUMS, ENUM_FIELDS, NUMBER_FIELDS, BOOL_FIELDS } from './labels.js';

const LANG_KEY = 'outfall.lang';

const UI = {
  zh: {
    'app.title': '入河排污口审核', 'lang.switch': 'English', 'lang.name': '中文',
    'nav.progress': '整治进度', 'nav.review': '审核',
    'progress.title': '排查整治进度', 'progress.as_of': '截至日期', 'progress.city': '全市（或所辖范围）',
    'progress.as_of_note': '截至 {date}；“基本完成”按 {all} 计。', 'progress.failed': '进度加载失败：{msg}',
    'progress.chart': '溯源、整治比例与按期应达到的比例', 'progress.on_track': '达标（应达 {want}）',
    'progress.behind': '滞后（应达 {want}）', 'progress.col.name': '范围', 'progress.col.found': '排查',
    'progress.col.traced': '溯源', 'progress.col.traced_target': '溯源目标', 'progress.col.remediated': '整治',
    'progress.col.remediated_target': '整治目标', 'progress.col.closed': '销号', 'progress.col.retained': '保留',
    'progress.col.overdue': '逾期方案',
    'filing.reminder': '请于 {due} 前向市局报送 {year} 年度入河排污口监督管理工作报告。尚未标记报送：{list}。', 'filing.mark': '标记“{name}”已报送',
    'auth.title': '审核人员登录', 'auth.username': '用户名', 'auth.password': '密码', 'auth.submit': '登录',
    'auth.logout': '退出登录', 'auth.expired': '登录已过期，请重新登录。',
    'auth.failed': '登录失败：{msg}', 'auth.who': '{user}（{role}）',
    'queue.title': '待办', 'queue.all': '全部', 'queue.kind': '类别', 'queue.division': '行政区',
    'queue.river': '河流', 'queue.any': '全部', 'queue.refresh': '刷新', 'queue.more': '加载更多',
    'queue.empty': '没有待处理的条目。', 'queue.loading': '正在加载…', 'queue.failed': '待办加载失败：{msg}',
    'queue.unnamed': '（未命名）', 'queue.field': '字段：{field}', 'queue.distance': '相距 {m} 米',
    'detail.pick': '请在左侧选择一条待办。', 'detail.loading': '正在加载记录…',
    'detail.failed': '记录加载失败：{msg}', 'detail.fields': '基本信息',
    'detail.state': '审核状态：{s}', 'sep.kv': '：', 'sep.list': '；', 'sep.items': '、', 'detail.flags': '标记',
    'detail.noflags': '无标记', 'detail.position': '位置', 'detail.coords': '纬度 {lat}，经度 {lon}',
    'detail.accuracy': '定位精度 ±{m} 米', 'detail.map': '地图', 'detail.photos': '照片',
    'detail.nophotos': '暂无照片', 'detail.photo.failed': '照片无法加载', 'detail.photo.open': '查看大图：{kind}',
    'detail.observations': '现场记录', 'detail.observation': '现场记录 {time}',
    'detail.history': '修改历史', 'detail.nohistory': '暂无历史记录',
    'detail.history.unavailable': '历史记录无法加载：{msg}',
    'detail.since.title': '批准后的变化', 'detail.since': '与已批准版本 {v} 相比：', 'detail.since.none': '批准后没有变化。',
    'detail.never': '尚未批准', 'detail.versions': '版本 {v}（已批准版本 {a}）', 'detail.versions.never': '版本 {v}（尚未批准）',
    'col.field': '字段', 'col.value': '值', 'col.version': '版本', 'col.user': '人员',
    'col.device': '设备', 'col.time': '时间', 'col.change': '变更编号', 'col.approved': '已批准的值',
    'col.latest': '最新的值', 'col.base': '原值', 'col.server': '服务器的值', 'col.client': '手机的值',
    'col.choice': '处理',
    'value.empty': '（空）', 'value.yes': '是', 'value.no': '否',
    'conflict.title': '字段冲突', 'conflict.intro': '同一字段在服务器和手机上被改成了不同的值。请逐个字段选择。',
    'conflict.from': '由 {user} 通过设备 {device} 于 {time} 提交', 'conflict.keep': '保留服务器的值',
    'conflict.take': '采用手机的值', 'conflict.enter': '输入新值', 'conflict.submit': '提交冲突处理',
    'conflict.badvalue': '“{field}”的新值无效。', 'conflict.none': '这条记录没有未处理的冲突。',
    'dup.title': '疑似重复', 'dup.distance': '两条记录相距 {m} 米。', 'dup.this': '新记录',
    'dup.neighbour': '已有记录', 'dup.keep': '合并，保留“{name}”', 'dup.apart': '不是重复，分开保留',
    'decide.title': '审核决定', 'decide.comment': '意见', 'decide.approve': '批准',
    'decide.reject': '驳回', 'decide.return': '退回修改', 'decide.busy': '正在提交…',
    'decide.need_comment': '驳回或退回时请填写意见。',
    'done.approve': '已批准，排口编码 {code}。', 'done.reject': '已驳回。', 'done.return': '已退回修改。',
    'done.resolve': '冲突已处理。', 'done.merge': '已合并。', 'done.apart': '已分开保留。',
    'err.stale': '这条记录已被修改（版本已变化），已重新载入最新内容，请重新确认后再提交。',
    'err.generic': '操作失败：{msg}', 'err.network': '无法连接服务器。',
    'photo.close': '关闭', 'photo.title': '照片',
    'code.open_conflicts': '请先处理这条记录的字段冲突，再批准。',
    'code.open_duplicate': '请先处理这条记录的疑似重复，再批准。',
    'code.comment_required': '请填写意见。', 'code.not_open': '这一项已经处理过了。',
    'code.merged': '这条记录已被合并到另一条记录。', 'code.outside_division': '这条记录不在您负责的行政区内。',
    'code.forbidden_role': '您的账户没有审核权限。', 'code.bad_credentials': '用户名或密码错误。',
    'code.locked_out': '尝试次数过多，请稍后再试。', 'code.not_found': '记录不存在或无权查看。',
  },
  en: {
    'app.title': 'Outfall review', 'lang.switch': '中文', 'lang.name': 'English',
    'nav.progress': 'Progress', 'nav.review': 'Review',
    'progress.title': 'Survey and remediation progress', 'progress.as_of': 'As of', 'progress.city': 'City (or your divisions)',
    'progress.as_of_note': 'As of {date}; "basically all" counts as {all}.', 'progress.failed': 'Progress failed to load: {msg}',
    'progress.chart': 'Traced and remediated shares against where the deadlines expect them', 'progress.on_track': 'On track (expected {want})',
    'progress.behind': 'Behind (expected {want})', 'progress.col.name': 'Scope', 'progress.col.found': 'Found',
    'progress.col.traced': 'Traced', 'progress.col.traced_target': 'Tracing target', 'progress.col.remediated': 'Remediated',
    'progress.col.remediated_target': 'Remediation target', 'progress.col.closed': 'Closed', 'progress.col.retained': 'Retained',
    'progress.col.overdue': 'Overdue plans',
    'filing.reminder': 'File the {year} outfall supervision report with the city by {due}. Not yet marked filed: {list}.', 'filing.mark': 'Mark {name} filed',
    'auth.title': 'Supervisor sign-in', 'auth.username': 'Username', 'auth.password': 'Password',
    'auth.submit': 'Sign in', 'auth.logout': 'Sign out', 'auth.expired': 'Your session has ended; please sign in again.',
    'auth.failed': 'Sign-in failed: {msg}', 'auth.who': '{user} ({role})',
    'queue.title': 'Queue', 'queue.all': 'All', 'queue.kind': 'Kind', 'queue.division': 'Division',
    'queue.river': 'River', 'queue.any': 'Any', 'queue.refresh': 'Refresh', 'queue.more': 'Load more',
    'queue.empty': 'Nothing to review.', 'queue.loading': 'Loading…', 'queue.failed': 'The queue failed to load: {msg}',
    'queue.unnamed': '(no name)', 'queue.field': 'Field: {field}', 'queue.distance': '{m} m apart',
    'detail.pick': 'Pick an item from the queue.', 'detail.loading': 'Loading the record…',
    'detail.failed': 'The record failed to load: {msg}', 'detail.fields': 'Record',
    'detail.state': 'Review state: {s}', 'sep.kv': ': ', 'sep.list': '; ', 'sep.items': ', ',
    'detail.flags': 'Flags', 'detail.noflags': 'No flags', 'detail.position': 'Position',
    'detail.coords': 'Latitude {lat}, longitude {lon}', 'detail.accuracy': 'Accuracy ±{m} m',
    'detail.map': 'Map', 'detail.photos': 'Photos', 'detail.nophotos': 'No photos yet',
    'detail.photo.failed': 'Photo unavailable', 'detail.photo.open': 'Open full size: {kind}',
    'detail.observations': 'Field observations', 'detail.observation': 'Observation {time}',
    'detail.history': 'History', 'detail.nohistory': 'No history yet',
    'detail.history.unavailable': 'History unavailable: {msg}',
    'detail.since.title': 'Changed since approval', 'detail.since': 'Compared with approved version {v}:', 'detail.since.none': 'Nothing changed since approval.',
    'detail.never': 'Never approved', 'detail.versions': 'Version {v} (approved version {a})',
    'detail.versions.never': 'Version {v} (never approved)',
    'col.field': 'Field', 'col.value': 'Value', 'col.version': 'Version', 'col.user': 'User',
    'col.device': 'Device', 'col.time': 'Time', 'col.change': 'Change', 'col.approved': 'Approved value',
    'col.latest': 'Latest value', 'col.base': 'Base value', 'col.server': 'Server value',
    'col.client': 'Phone value', 'col.choice': 'Decision',
    'value.empty': '(empty)', 'value.yes': 'Yes', 'value.no': 'No',
    'conflict.title': 'Field conflicts', 'conflict.intro': 'The server and a phone changed the same field to different values. Choose per field.',
    'conflict.from': 'Sent by {user} from device {device} at {time}', 'conflict.keep': 'Keep server value',
    'conflict.take': 'Take phone value', 'conflict.enter': 'Enter a value', 'conflict.submit': 'Resolve conflicts',
    'conflict.badvalue': 'The new value of "{field}" is not valid.', 'conflict.none': 'This record has no open conflicts.',
    'dup.title': 'Possible duplicate', 'dup.distance': 'The two records are {m} m apart.',
    'dup.this': 'New record', 'dup.neighbour': 'Existing record', 'dup.keep': 'Merge, keep "{name}"',
    'dup.apart': 'Not a duplicate: keep apart',
    'decide.title': 'Decision', 'decide.comment': 'Comment', 'decide.approve': 'Approve',
    'decide.reject': 'Reject', 'decide.return': 'Return for rework', 'decide.busy': 'Sending…',
    'decide.need_comment': 'Please give a comment when rejecting or returning.',
    'done.approve': 'Approved: outfall code {code}.', 'done.reject': 'Rejected.', 'done.return': 'Returned for rework.',
    'done.resolve': 'Conflicts resolved.', 'done.merge': 'Merged.', 'done.apart': 'Kept apart.',
    'err.stale': 'Someone changed this record meanwhile (its version moved on). It has been reloaded: please check it and decide again.',
    'err.generic': 'That failed: {msg}', 'err.network': 'The server cannot be reached.',
    'photo.close': 'Close', 'photo.title': 'Photo',
    'code.open_conflicts': "Resolve the record's open conflicts before approving it.",
    'code.open_duplicate': "Decide the record's duplicate suspect before approving it.",
    'code.comment_required': 'A comment is required.', 'code.not_open': 'This was decided already.',
    'code.merged': 'This record was merged into another one.', 'code.outside_division': 'This record is outside your divisions.',
    'code.forbidden_role': 'Your account may not review.', 'code.bad_credentials': 'Wrong username or password.',
    'code.locked_out': 'Too many attempts: try again later.', 'code.not_found': 'No such record, or not yours to see.',
  },
};

// Both dictionaries, for a test that they hold the same keys.
export const MESSAGES = { ui: UI, labels: LABELS };

let current = null;

// The language in use: 'zh' (the default) or 'en'.
export function lang() {
  if (!current) {
    let saved = null;
    try { saved = localStorage.getItem(LANG_KEY); } catch (_) { /* storage disabled */ }
    current = saved === 'en' ? 'en' : 'zh';
  }
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(LANG_KEY, current); } catch (_) { /* storage disabled */ }
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}

// The text for key in the current language with {name} placeholders filled from vars.
export function t(key, vars) {
  const l = lang();
  let s = UI[l][key] ?? LABELS[l][key] ?? UI.zh[key] ?? LABELS.zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// Fills every element under root marked data-i18n (its text) or data-i18n-title (its title).
export function translateStatic(root) {
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
  document.title = t('app.title');
}

// What went wrong with an API call, for people: our own words for the codes we know, else the
// server's message.
export function errorText(e) {
  const key = 'code.' + (e && e.code);
  const s = t(key);
  return s !== key ? s : String((e && e.message) || e);
}

// "responsibleParty.phone" or "responsible_party.phone" → "responsible_party.phone".
export function snake(path) {
  return String(path).replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

export function fieldLabel(path) {
  const key = 'f.' + snake(path);
  const s = t(key);
  return s === key ? String(path) : s;
}

// The label of an enum value given by name or number, for the enum of field (snake_case).
export function enumLabel(field, value) {
  const list = ENUMS[field];
  let name = value;
  if (list && (typeof value === 'number' || /^\d+$/.test(String(value)))) name = list[Number(value)] ?? value;
  const s = t(String(name));
  return s;
}

export function flagLabel(flag) {
  const key = 'flag.' + flag;
  const s = t(key);
  return s === key ? String(flag) : s;
}

export function divisionLabel(code) {
  if (!code) return t('value.empty');
  const key = 'div.' + code;
  const s = t(key);
  return s === key ? String(code) : s;
}

export function riverLabel(code) {
  if (!code) return t('value.empty');
  const key = 'river.' + code;
  const s = t(key);
  return s === key ? String(code) : s;
}

// A Unix time in milliseconds (number or int64 string) as local date and time.
export function formatTime(ms) {
  if (ms === undefined || ms === null || ms === '') return t('value.empty');
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

// A decoded value of field (snake_case path) as text for people.
export function formatValue(field, v) {
  const f = snake(field);
  if (v === undefined || v === null || v === '') return t('value.empty');
  if (ENUM_FIELDS[f]) return enumLabel(ENUM_FIELDS[f], v);
  if (f === 'river_code') return riverLabel(v);
  if (f === 'division_code') return divisionLabel(v);
  if (f === 'observed_at_ms') return formatTime(v);
  if (f === 'lat' || f === 'lon') return Number(v).toFixed(6);
  if (BOOL_FIELDS.has(f) || typeof v === 'boolean') return v ? t('value.yes') : t('value.no');
  if (Array.isArray(v)) return v.map((x) => (f === 'flags' ? flagLabel(x) : formatValue('', x))).join(t('sep.items'));
  if (typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => fieldLabel(f ? f + '.' + snake(k) : k) + t('sep.kv') + formatValue(k, x))
      .join(t('sep.list'));
  }
  if (NUMBER_FIELDS.has(f)) return String(v);
  return String(v);
}

// A value sent as JSON text ("null" when absent) as text for people.
export function formatJsonValue(field, text) {
  if (text === undefined || text === null) return t('value.empty');
  let v;
  try { v = JSON.parse(text); } catch (_) { return String(text); }
  return formatValue(field, v);
}
