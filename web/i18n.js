// The console's two languages: Chinese by default, English on request. The choice lives in
// localStorage; every text the console writes itself comes from t().
import { LABELS, ENUMS, ENUM_FIELDS, NUMBER_FIELDS, BOOL_FIELDS } from './labels.js';

const LANG_KEY = 'outfall.lang';

const UI = {
  zh: {
    'nav.applications': '设置审核', 'nav.reports': '公众举报',
    'reports.title': '公众举报', 'reports.status': '状态', 'reports.count': '共 {n} 条。', 'reports.empty': '没有举报。',
    'reports.failed': '举报加载失败：{msg}', 'reports.number': '举报 {number}', 'reports.received': '收到时间',
    'reports.kind': '类型', 'reports.description': '举报内容', 'reports.contact': '联系方式',
    'reports.outfall_code': '举报人填写的排口编码', 'reports.answered': '答复时间', 'reports.answer': '答复',
    'reports.link': '关联排口（记录编号）', 'reports.link_hint': '可选：排口记录编号', 'reports.send': '提交答复',
    'reports.answer_this': '答复', 'reports.done': '举报 {number} 已答复。',
    'code.answer_required': '请填写答复。', 'code.already_answered': '这条举报已经答复过了。',
    'apps.title': '排污口设置审核', 'apps.status': '状态', 'apps.all': '全部', 'apps.new': '登记新申请', 'apps.more': '加载更多',
    'apps.empty': '没有符合条件的申请。', 'apps.failed': '申请加载失败：{msg}', 'apps.loading': '正在加载…',
    'apps.received': '受理时间', 'apps.project': '项目名称', 'apps.applicant': '申请单位', 'apps.kind': '申请类型',
    'apps.authority': '审批部门', 'apps.basis': '依据', 'apps.consult': '需征求意见', 'apps.decided': '决定时间',
    'apps.comment': '决定意见', 'apps.division': '行政区', 'apps.river': '受纳河流', 'apps.position': '位置',
    'apps.eia': '环评审批级别', 'apps.type': '排口类型', 'apps.credit': '统一社会信用代码', 'apps.contact': '联系人',
    'apps.phone': '联系电话', 'apps.flags': '特殊情形', 'apps.buffer': '省界缓冲区河湖', 'apps.interprov': '存在省际争议',
    'apps.intercity': '存在市际争议', 'apps.misses': '所在河段水质未达标', 'apps.flood': '涉及防洪、供水、堤防安全或河势稳定',
    'apps.version': '版本', 'apps.to_review': '受理并开始审查', 'apps.approve': '批准设置', 'apps.refuse': '不予批准',
    'apps.busy': '正在提交…', 'apps.need_comment': '不予批准时请填写理由。', 'apps.submit': '提交登记', 'apps.cancel': '取消',
    'apps.filed': '已登记，审批部门：{name}。', 'apps.decided_ok': '已记录决定：{status}。', 'apps.pick': '请在列表中选择一项申请。',
    'apps.lat': '纬度', 'apps.lon': '经度', 'apps.none': '无',
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
    'surveyor.text': '外业人员请使用手机上的外业采集应用：离线记录排口、拍照并同步。', 'surveyor.link': '打开外业采集应用',
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
    'dup.mine': '本区县的记录',
    'dup.city': '疑似重复的另一条记录属于{division}，不在您负责的行政区内，您无权查看。是否合并或分开保留，由市级审核人员决定。',
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
    // inspection results (双随机、一公开) and credit codes
    'inspection.title': '抽查结果', 'inspection.decide': '审核抽查结果', 'inspection.approve': '批准结果（公开）',
    'inspection.return': '退回检查人员', 'inspection.need_comment': '退回时请填写意见，告诉检查人员需要补正什么。',
    'inspection.done.approve': '抽查结果已批准，公开页面将显示这一结果。', 'inspection.done.return': '抽查结果已退回检查人员。',
    'inspection.failed': '抽查结果加载失败：{msg}', 'inspection.undecided': '尚未审核',
    'code.inspection.not_open': '这条抽查结果已经处理过了（已批准，或不在待审核状态）。',
    'code.inspection.not_found': '抽查结果不存在。', 'code.inspection.comment_required': '退回抽查结果时必须填写意见。',
    'code.inspection.invalid_decision': '这条抽查结果不属于所显示的排口，请刷新待办后重试。',
    'code.decision_id_reused': '这项决定已以不同内容提交过（可能在网络中断时已生效），请刷新后查看。',
    'code.credit_code_invalid': '责任主体的统一社会信用代码校验位不正确（GB 32100-2015），请先更正或清除该代码，再批准。',
  },
  en: {
    'nav.applications': 'Applications', 'nav.reports': 'Public reports',
    'reports.title': 'Public reports', 'reports.status': 'Status', 'reports.count': '{n} reports.', 'reports.empty': 'No reports.',
    'reports.failed': 'Could not load the reports: {msg}', 'reports.number': 'Report {number}', 'reports.received': 'Received',
    'reports.kind': 'Kind', 'reports.description': 'What was reported', 'reports.contact': 'Contact',
    'reports.outfall_code': 'Outfall code given by the reporter', 'reports.answered': 'Answered', 'reports.answer': 'Answer',
    'reports.link': 'Linked outfall (record id)', 'reports.link_hint': 'optional: the outfall record id', 'reports.send': 'Send the answer',
    'reports.answer_this': 'Answer', 'reports.done': 'Report {number} answered.',
    'code.answer_required': 'Please write an answer.', 'code.already_answered': 'This report was answered already.',
    'apps.title': 'Outfall set-up applications', 'apps.status': 'Status', 'apps.all': 'All',
    'apps.new': 'Record a new application', 'apps.more': 'Load more',
    'apps.empty': 'No application matches.', 'apps.failed': 'Could not load the applications: {msg}',
    'apps.loading': 'Loading…', 'apps.received': 'Received', 'apps.project': 'Project',
    'apps.applicant': 'Applicant', 'apps.kind': 'Kind', 'apps.authority': 'Deciding authority',
    'apps.basis': 'Basis', 'apps.consult': 'Opinion to seek', 'apps.decided': 'Decided',
    'apps.comment': 'Decision comment', 'apps.division': 'Division', 'apps.river': 'Receiving river',
    'apps.position': 'Position', 'apps.eia': 'EIA approved by', 'apps.type': 'Outfall type',
    'apps.credit': 'Unified social credit code', 'apps.contact': 'Contact', 'apps.phone': 'Phone',
    'apps.flags': 'Special cases', 'apps.buffer': 'Provincial-boundary buffer zone',
    'apps.interprov': 'Inter-provincial dispute', 'apps.intercity': 'Inter-city dispute',
    'apps.misses': 'River section misses its water-quality target',
    'apps.flood': 'Touches flood control, water supply, levees or the river course',
    'apps.version': 'Version', 'apps.to_review': 'Accept for review', 'apps.approve': 'Approve',
    'apps.refuse': 'Refuse', 'apps.busy': 'Sending…', 'apps.need_comment': 'A refusal needs a reason.',
    'apps.submit': 'Record the filing', 'apps.cancel': 'Cancel',
    'apps.filed': 'Recorded; deciding authority: {name}.', 'apps.decided_ok': 'Decision recorded: {status}.',
    'apps.pick': 'Pick an application from the list.', 'apps.lat': 'Latitude', 'apps.lon': 'Longitude',
    'apps.none': 'None',
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
    'surveyor.text': 'Surveyors work in the field app on their phones: record outfalls offline, take photos, sync.', 'surveyor.link': 'Open the field app',
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
    'dup.apart': 'Not a duplicate: keep apart', 'dup.mine': 'The record of your county',
    'dup.city': 'The other record of this possible duplicate belongs to {division}, outside your divisions, and is not yours to read. The city-level supervisors decide whether to merge them or keep them apart.',
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
    // inspection results (双随机、一公开) and credit codes
    'inspection.title': 'Inspection result', 'inspection.decide': 'Decide on the result', 'inspection.approve': 'Approve the result (publish)',
    'inspection.return': 'Return to the inspector', 'inspection.need_comment': 'Please give a comment when returning: tell the inspector what to correct.',
    'inspection.done.approve': 'Result approved: the public pages now show it.', 'inspection.done.return': 'Result returned to the inspector.',
    'inspection.failed': 'The inspection result failed to load: {msg}', 'inspection.undecided': 'Not decided yet',
    'code.inspection.not_open': 'This result was decided already (approved, or not waiting for review).',
    'code.inspection.not_found': 'No such inspection result.', 'code.inspection.comment_required': 'Returning a result needs a comment.',
    'code.inspection.invalid_decision': 'This result does not belong to the outfall shown: refresh the queue and try again.',
    'code.decision_id_reused': 'This decision was already sent with other content (it may have applied while the connection dropped): refresh and check.',
    'code.credit_code_invalid': "The responsible party's unified social credit code fails its check character (GB 32100-2015): correct or clear it before approving.",
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
