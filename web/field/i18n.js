// The field app's words, Chinese first, English on the switch. Enum, field, river and division
// names and their formats are the console's (web/labels.js, web/words.js), so a record reads the
// same on the phone and in the console.
import { ERRORS } from '../web/errors.js';
import { makeWords } from '../web/words.js';

const LANG_KEY = 'field.lang';

const zh = {
  'app.title': '排污口外业采集', 'update.ready': '新版本已下载。', 'update.reload': '立即更新',
  'login.title': '外业人员登录', 'login.username': '用户名', 'login.password': '密码', 'login.submit': '登录',
  'login.offline': '手机当前没有网络：首次登录需要联网。已登录过的账号可离线继续工作。',
  'login.bad': '用户名或密码不正确。', 'login.expired': '登录已过期，请重新登录后同步。未同步的记录和照片都保存在手机上，不会丢失。',
  'tab.list': '排口', 'tab.new': '新建', 'tab.outbox': '同步', 'tab.inbox': '待办', 'tab.me': '我的',
  'net.online': '在线', 'net.offline': '离线',
  'err.storage_full': '手机存储空间已满，本次内容未能保存。请删除手机上的其他文件或先同步已上传的照片，然后再试。表单内容仍在页面上。',
  'err.unexpected': '出现意外错误：{msg}', 'err.clock': '手机时间与服务器相差约 {min} 分钟，请先校准手机时间，否则记录的现场时间不准确。',
  'err.server': '服务器暂时出错（{status}），稍后会自动重试，记录不会丢失。', 'err.refused': '服务器拒绝了请求：{msg}',
  'code.network': '连不上服务器（没有信号或服务器未开）。记录都保存在手机上，有网络后会自动同步。',
  'code.timeout': '服务器长时间没有响应，稍后会自动重试。', 'code.token_expired': '登录已过期，请重新登录后同步。',
  'code.device_revoked': '这部手机已被管理员停用，无法同步。请联系管理员。未同步的记录仍保存在手机上。',
  'code.batch_refused_device_revoked': '这部手机已被管理员停用，等待中的一批记录未被接收。请联系管理员。',
  'code.body_too_large': '一次提交的内容过大，已自动拆分重试。',
  'code.body_memory_busy': '服务器繁忙，稍后会自动重试。',
  // Codes the server does not send (web/errors.js has the server's), kept as the app had them.
  'code.unauthorized': '登录已失效，请重新登录后同步。', 'code.too_many_requests': '请求过于频繁，稍后自动重试。',
  'code.login_locked': '登录失败次数过多，账号暂时锁定，请稍后再试。', 'code.server_busy': '服务器繁忙，稍后会自动重试。',
  'sync.photo': '照片 {done}/{total}（当前 {pct}%）', 'sync.changes': '已发送 {sent}/{total} 条', 'sync.pulled': '已下载 {n} 条',
  'sync.now': '立即同步', 'sync.phase.start': '正在同步', 'sync.phase.photos': '正在上传照片', 'sync.phase.batches': '正在发送记录',
  'sync.phase.pull': '正在下载本辖区排口', 'sync.failed': '同步未完成：{msg}', 'sync.last': '上次同步：{at}', 'sync.never': '尚未同步',
  'sync.phase.resend': '服务器已从备份恢复', 'sync.resend': '正在重新发送 {resend} 批',
  'kept.waiting': '{n} 批已同步，等待服务器备份确认（确认前保留在手机上）',
  'kept.refused': '{n} 批因手机存储空间不足未保留副本：服务器在下次备份前出故障时，这些记录需重新录入',
  'list.unnamed': '（未命名排口）', 'list.search': '搜索编码、名称、河流', 'list.as_list': '列表', 'list.as_map': '地图',
  'list.count': '手机上共有 {n} 个排口', 'list.sorted_near': '按距离排序（当前定位精度 ±{acc} 米）', 'list.no_fix': '尚未定位：按编码排序',
  'list.metres': '{m} 米', 'list.more': '还有 {n} 个，请输入关键字缩小范围',
  'state.local': '未同步',
  'pos.title': '位置', 'pos.waiting': '正在定位…', 'pos.denied': '未获得定位权限：请在手机设置中允许本应用使用位置，或手动标点。',
  'pos.unavailable': '暂时无法定位（可能在室内或信号弱），可以手动标点。', 'pos.timeout': '定位超时，请到开阔处再试，或手动标点。',
  'pos.unsupported': '这部手机的浏览器不支持定位，请手动标点。',
  'pos.good': '定位精度 ±{acc} 米（优于 {good} 米，可用）', 'pos.poor': '定位精度 ±{acc} 米，正在等待优于 {good} 米的定位…',
  'pos.use': '使用当前定位', 'pos.hand': '手动标点', 'pos.hand_ok': '确定此位置', 'pos.hand_bad': '请填写正确的纬度（-90 到 90）和经度（-180 到 180）。',
  'pos.chosen': '已定位：{lat}, {lon}（±{acc} 米）', 'pos.chosen_hand': '手动标点：{lat}, {lon}', 'pos.none': '尚未确定位置',
  'pos.by_hand_mark': '（手动标点）',
  'f.position': '位置', 'f.party': '责任主体', 'f.party_name': '单位名称', 'f.credit_code': '统一社会信用代码', 'f.contact': '联系人', 'f.phone': '联系电话',
  'f.stage': '整治阶段', 'f.nh3n_mg_l': '氨氮（mg/L）', 'f.flow_m3_s': '流量（m³/s）',
  'party.code_ok': '信用代码校验通过', 'party.code_bad': '统一社会信用代码校验位不正确（GB 32100-2015），请核对后再填，或留空。',
  'detail.comment': '审核意见：', 'detail.no_code': '（审核通过后编码）', 'detail.observe': '新增现场观测', 'detail.edit': '修改排口信息',
  'detail.remediation': '拍整治完成照片', 'detail.observations': '现场观测（{n}）', 'detail.missing': '手机上没有这个排口（可能已合并或不在您的辖区）。',
  'detail.photos': '照片 {n} 张',
  'obs.title': '现场情况', 'obs.flowing': '是否在排水', 'obs.flowing_yes': '正在排水', 'obs.flowing_no': '未排水', 'obs.rapid': '快检数据（选填）',
  'obs.new_title': '新增现场观测', 'obs.need_remediation_photo': '请至少拍一张“整治完成”照片。',
  'photo.title': '照片', 'photo.take': '拍照 / 选择照片', 'photo.remove': '删除', 'photo.hashing': '正在处理照片 {i}/{n}…',
  'photo.hint': '请拍近景两张、远景一张；照片保留原始文件（含拍摄位置和时间），上传成功后才会从手机删除原图。',
  'photo.too_large': '照片超过 {mb} MB，服务器无法接收。请用较低分辨率重新拍摄。', 'photo.refused': '{n} 张照片被服务器拒收（文件损坏或格式不对），请重新拍摄。',
  'form.choose': '请选择', 'form.unknown': '未观察', 'form.save': '保存到手机', 'form.discard': '放弃', 'form.cancel': '取消',
  'form.missing': '请先填写：{fields}', 'form.saved': '已保存到手机，等待同步。', 'form.discard_confirm': '放弃这张表单？已填内容将被删除。',
  'form.bad_number': '“{field}”须为不小于 0 的数字（pH 为 0–14）。',
  'new.title': '新建排口', 'edit.title': '修改排口', 'edit.hint': '只提交改动的内容（基于服务器版本 {v}）。', 'edit.nothing': '没有改动需要提交。',
  'dup.title': '是否为同一排口？', 'dup.text': '同一河流 {r} 米内已有以下排口。如果是同一个，请为它新增观测，而不要重复新建。',
  'dup.same': '是同一个，改为新增观测', 'dup.new': '不是，仍然新建',
  'task.result': '抽查结论', 'task.title': '双随机抽查', 'task.open': '待检查（{at} 抽取）', 'task.returned': '结果被退回：{comment}',
  'outbox.title': '同步', 'outbox.summary': '待发送 {changes} 条记录、{photos} 张照片（{mb} MB）。',
  'outbox.create': '新建排口：{what}', 'outbox.edit': '修改排口：{what}', 'outbox.observe': '现场观测：{what}（照片 {n} 张）',
  'outbox.inspection': '抽查结果：{what}',
  'result.queued': '等待发送', 'result.sealed': '已打包，等待服务器确认', 'result.held': '服务器已收到，等待前一批记录到达后处理',
  'result.rejected': '被拒绝：{reason}（记录仍保存在手机上，可修改后重新提交）', 'result.conflict': '已合并，{n} 项与他人的修改冲突，交由审核人员裁定',
  'result.duplicate': '已提交，疑似与附近已有排口重复，交由审核人员判断', 'result.corrected': '已修改并重新提交',
  'result.merged': '已合并（与他人的修改无冲突）', 'result.already': '已提交（服务器此前已收到）', 'result.applied': '已提交',
  'result.fix': '修改后重新提交', 'result.see_other': '查看附近的已有排口',
  'reason.invalid_coordinates': '坐标无效', 'reason.unknown_river': '河流不在名录中', 'reason.unknown_division': '行政区代码无效',
  'reason.outside_division': '不在您负责的行政区内', 'reason.not_found': '该记录在服务器上不存在', 'reason.base_version_ahead': '记录版本不一致，请先同步',
  'reason.change_id_reused': '记录编号重复', 'reason.invalid_change': '内容不合规', 'reason.missing_field': '缺少必填项',
  'reason.read_only_field': '包含不可修改的字段', 'reason.already_exists': '记录已存在', 'reason.unknown_outfall': '所属排口不存在',
  'conflict.values': '我的：{mine}；服务器：{theirs}',
  'storage.used': '本应用已用存储 {used} MB，可用上限约 {quota} MB',
  'inbox.title': '待办', 'inbox.empty': '没有待办事项。', 'inbox.no_comment': '（审核人员未填写意见）',
  'inbox.remediation': '整治中（期限 {deadline}）：完成后请拍“整治完成”照片', 'inbox.kind.returned': '退回修改', 'inbox.kind.conflict': '冲突',
  'inbox.kind.duplicate': '疑似重复', 'inbox.kind.rejected': '被拒绝', 'inbox.kind.task': '抽查任务', 'inbox.kind.remediation': '整治证据',
  'me.title': '我的', 'me.user': '账号', 'me.role': '角色', 'me.divisions': '负责行政区', 'me.device': '设备编号', 'me.not_enrolled': '（尚未登记，联网后自动登记）',
  'me.next_seq': '下一批次号', 'me.key': '签名密钥', 'me.key_webcrypto': 'Ed25519，浏览器密钥库保管（不可导出）', 'me.key_noble': 'Ed25519（@noble/ed25519，保存在本应用存储中）',
  'me.photos': '手机上的照片原图', 'me.photos_kept': '{n} 张，{mb} MB', 'me.storage': '存储', 'me.local': '本地排口', 'me.local_count': '{n} 个',
  'me.good_fix': '自动采用的定位精度', 'me.metres': '优于 {m} 米', 'me.console': '打开审核台（审核人员）', 'me.logout': '退出登录',
  'me.logout_hint': '退出后，未同步的记录、照片和签名密钥仍保存在手机上，同一账号再次登录即可继续。',
  'stage.none': '排查', 'stage.LIFECYCLE_STAGE_FOUND': '排查', 'stage.LIFECYCLE_STAGE_TRACED': '溯源', 'stage.LIFECYCLE_STAGE_PLANNED': '一口一策',
  'stage.LIFECYCLE_STAGE_REMEDIATED': '已整治，待核查', 'stage.LIFECYCLE_STAGE_CLOSED': '已销号', 'stage.LIFECYCLE_STAGE_RETAINED': '保留',
  'value.yes': '是', 'value.no': '否', 'value.empty': '（空）', 'sep.kv': '：', 'sep.list': '；', 'sep.items': '、',
};

const en = {
  'app.title': 'Outfall field survey', 'update.ready': 'A new version is ready.', 'update.reload': 'Update now',
  'login.title': 'Field staff sign-in', 'login.username': 'User name', 'login.password': 'Password', 'login.submit': 'Sign in',
  'login.offline': 'The phone is offline: the first sign-in needs the network. An account signed in before works on offline.',
  'login.bad': 'Wrong user name or password.', 'login.expired': 'Your sign-in has expired: sign in again to sync. Unsent records and photos stay on the phone.',
  'tab.list': 'Outfalls', 'tab.new': 'New', 'tab.outbox': 'Sync', 'tab.inbox': 'To do', 'tab.me': 'Me',
  'net.online': 'Online', 'net.offline': 'Offline',
  'err.storage_full': 'The phone is out of storage: this was not saved. Free some space (or sync so uploaded photos can go) and try again. The form is still on screen.',
  'err.unexpected': 'Something unexpected went wrong: {msg}', 'err.clock': "The phone's clock is about {min} minutes off the server's: set it right first, or field times will be wrong.",
  'err.server': 'The server had a problem ({status}); the app tries again by itself and nothing is lost.', 'err.refused': 'The server refused: {msg}',
  'code.network': 'The server cannot be reached (no signal, or it is down). Everything is kept on the phone and syncs when the network is back.',
  'code.timeout': 'The server did not answer in time; the app tries again later.', 'code.token_expired': 'Your sign-in has expired: sign in again to sync.',
  'code.device_revoked': 'An administrator revoked this phone: it cannot sync. Ask an administrator. Unsent records stay on the phone.',
  'code.batch_refused_device_revoked': 'An administrator revoked this phone; a waiting batch was not taken. Ask an administrator.',
  'code.body_too_large': 'The batch was too large; it is split and sent again.',
  'code.body_memory_busy': 'The server is busy; the app tries again shortly.',
  'code.unauthorized': 'Your sign-in is no longer valid: sign in again to sync.', 'code.too_many_requests': 'Too many requests: the app tries again shortly.',
  'code.login_locked': 'Too many failed sign-ins: the account is locked for a while.', 'code.server_busy': 'The server is busy; the app tries again shortly.',
  'sync.photo': 'Photo {done}/{total} ({pct}% of this one)', 'sync.changes': '{sent}/{total} changes sent', 'sync.pulled': '{n} records downloaded',
  'sync.now': 'Sync now', 'sync.phase.start': 'Syncing', 'sync.phase.photos': 'Uploading photos', 'sync.phase.batches': 'Sending records',
  'sync.phase.pull': 'Downloading outfalls', 'sync.failed': 'Sync did not finish: {msg}', 'sync.last': 'Last sync: {at}', 'sync.never': 'Not synced yet',
  'sync.phase.resend': 'The server was restored from a backup', 'sync.resend': 'sending {resend} batches again',
  'kept.waiting': '{n} batches synced, waiting for the server\'s backup (kept on the phone until then)',
  'kept.refused': '{n} batches were not kept for lack of storage on the phone: should the server fail before its next backup, they must be entered again',
  'list.unnamed': '(unnamed outfall)', 'list.search': 'Search code, name, river', 'list.as_list': 'List', 'list.as_map': 'Map',
  'list.count': '{n} outfalls on the phone', 'list.sorted_near': 'Nearest first (fix ±{acc} m)', 'list.no_fix': 'No position yet: sorted by code',
  'list.metres': '{m} m', 'list.more': '{n} more: type to narrow down',
  'state.local': 'Not synced',
  'pos.title': 'Position', 'pos.waiting': 'Finding the position…', 'pos.denied': 'Location permission denied: allow it in the phone settings, or place the pin by hand.',
  'pos.unavailable': 'No position right now (indoors or weak signal): you can place it by hand.', 'pos.timeout': 'No fix in time: move into the open, or place it by hand.',
  'pos.unsupported': "This phone's browser has no location: place it by hand.",
  'pos.good': 'Fix ±{acc} m (better than {good} m: usable)', 'pos.poor': 'Fix ±{acc} m; waiting for one better than {good} m…',
  'pos.use': 'Use the current fix', 'pos.hand': 'Place by hand', 'pos.hand_ok': 'Use this position', 'pos.hand_bad': 'Give a latitude (-90 to 90) and a longitude (-180 to 180).',
  'pos.chosen': 'Fix: {lat}, {lon} (±{acc} m)', 'pos.chosen_hand': 'Placed by hand: {lat}, {lon}', 'pos.none': 'No position chosen yet',
  'pos.by_hand_mark': '(placed by hand)',
  'f.position': 'Position', 'f.party': 'Responsible party', 'f.party_name': 'Unit name', 'f.credit_code': 'Unified social credit code', 'f.contact': 'Contact', 'f.phone': 'Phone',
  'f.stage': 'Programme stage', 'f.nh3n_mg_l': 'Ammonia N (mg/L)', 'f.flow_m3_s': 'Flow (m³/s)',
  'party.code_ok': 'Credit code checks out', 'party.code_bad': "The credit code's check character is wrong (GB 32100-2015): check it, or leave it empty.",
  'detail.comment': "Supervisor's comment:", 'detail.no_code': '(coded on approval)', 'detail.observe': 'New observation', 'detail.edit': 'Edit the outfall',
  'detail.remediation': 'Photograph the finished remediation', 'detail.observations': 'Observations ({n})', 'detail.missing': 'This outfall is not on the phone (merged, or outside your divisions).',
  'detail.photos': '{n} photos',
  'obs.title': 'On site', 'obs.flowing': 'Discharging?', 'obs.flowing_yes': 'Discharging', 'obs.flowing_no': 'Not discharging', 'obs.rapid': 'Rapid tests (optional)',
  'obs.new_title': 'New observation', 'obs.need_remediation_photo': 'Take at least one "remediation done" photo.',
  'photo.title': 'Photos', 'photo.take': 'Take / choose photos', 'photo.remove': 'Remove', 'photo.hashing': 'Processing photo {i}/{n}…',
  'photo.hint': 'Two near, one far; the original files are kept (with their position and time) and leave the phone only once the server has them.',
  'photo.too_large': 'The photo is over {mb} MB, more than the server takes: take it at a lower resolution.', 'photo.refused': '{n} photos were refused by the server (damaged or not a photo): take them again.',
  'form.choose': 'Choose', 'form.unknown': 'Not observed', 'form.save': 'Save on the phone', 'form.discard': 'Discard', 'form.cancel': 'Cancel',
  'form.missing': 'Fill in first: {fields}', 'form.saved': 'Saved on the phone; waiting to sync.', 'form.discard_confirm': 'Discard this form? What was filled in is deleted.',
  'form.bad_number': '"{field}" must be a number of at least 0 (pH 0-14).',
  'new.title': 'New outfall', 'edit.title': 'Edit outfall', 'edit.hint': 'Only the changed fields are sent (on server version {v}).', 'edit.nothing': 'Nothing changed.',
  'dup.title': 'The same outfall?', 'dup.text': 'These outfalls are within {r} m on the same river. If it is one of them, add an observation to it instead of a new outfall.',
  'dup.same': 'The same: add an observation', 'dup.new': 'No: create a new one',
  'task.result': 'Inspection finding', 'task.title': 'Random inspection', 'task.open': 'To inspect (drawn {at})', 'task.returned': 'Result returned: {comment}',
  'outbox.title': 'Sync', 'outbox.summary': '{changes} records and {photos} photos ({mb} MB) waiting to be sent.',
  'outbox.create': 'New outfall: {what}', 'outbox.edit': 'Edit: {what}', 'outbox.observe': 'Observation: {what} ({n} photos)',
  'outbox.inspection': 'Inspection result: {what}',
  'result.queued': 'Waiting to be sent', 'result.sealed': 'Packed; waiting for the server', 'result.held': 'Received; waits for an earlier batch',
  'result.rejected': 'Rejected: {reason} (kept on the phone: correct it and send again)', 'result.conflict': 'Merged; {n} fields clash with others\' edits, for a supervisor to settle',
  'result.duplicate': 'Sent; looks like a duplicate of a nearby outfall, for a supervisor to judge', 'result.corrected': 'Corrected and sent again',
  'result.merged': 'Merged (no clash with others\' edits)', 'result.already': 'Sent (the server had it already)', 'result.applied': 'Sent',
  'result.fix': 'Correct and send again', 'result.see_other': 'See the nearby outfall',
  'reason.invalid_coordinates': 'invalid coordinates', 'reason.unknown_river': 'river not in the list', 'reason.unknown_division': 'invalid division',
  'reason.outside_division': 'outside your divisions', 'reason.not_found': 'the record does not exist on the server', 'reason.base_version_ahead': 'version mismatch: sync first',
  'reason.change_id_reused': 'change id reused', 'reason.invalid_change': 'invalid content', 'reason.missing_field': 'a required field is missing',
  'reason.read_only_field': 'a read-only field was sent', 'reason.already_exists': 'the record exists already', 'reason.unknown_outfall': 'the outfall does not exist',
  'conflict.values': 'mine: {mine}; server: {theirs}',
  'storage.used': 'Storage used by the app: {used} MB of about {quota} MB',
  'inbox.title': 'To do', 'inbox.empty': 'Nothing to do.', 'inbox.no_comment': '(no comment given)',
  'inbox.remediation': 'In remediation (deadline {deadline}): photograph it when done', 'inbox.kind.returned': 'Returned', 'inbox.kind.conflict': 'Conflict',
  'inbox.kind.duplicate': 'Duplicate?', 'inbox.kind.rejected': 'Rejected', 'inbox.kind.task': 'Inspection', 'inbox.kind.remediation': 'Evidence',
  'me.title': 'Me', 'me.user': 'Account', 'me.role': 'Role', 'me.divisions': 'Divisions', 'me.device': 'Device id', 'me.not_enrolled': '(not enrolled yet: enrolls when online)',
  'me.next_seq': 'Next batch number', 'me.key': 'Signing key', 'me.key_webcrypto': "Ed25519 in the browser's key store (not exportable)", 'me.key_noble': "Ed25519 (@noble/ed25519, in the app's storage)",
  'me.photos': 'Original photos on the phone', 'me.photos_kept': '{n}, {mb} MB', 'me.storage': 'Storage', 'me.local': 'Outfalls on the phone', 'me.local_count': '{n}',
  'me.good_fix': 'Fix accuracy taken by itself', 'me.metres': 'better than {m} m', 'me.console': 'Open the console (supervisors)', 'me.logout': 'Sign out',
  'me.logout_hint': 'Signing out keeps unsent records, photos and the key on the phone; signing in again as the same account resumes.',
  'stage.none': 'Found', 'stage.LIFECYCLE_STAGE_FOUND': 'Found', 'stage.LIFECYCLE_STAGE_TRACED': 'Traced', 'stage.LIFECYCLE_STAGE_PLANNED': 'Plan set',
  'stage.LIFECYCLE_STAGE_REMEDIATED': 'Remediated, to verify', 'stage.LIFECYCLE_STAGE_CLOSED': 'Closed', 'stage.LIFECYCLE_STAGE_RETAINED': 'Retained',
  'value.yes': 'Yes', 'value.no': 'No', 'value.empty': '(empty)', 'sep.kv': ': ', 'sep.list': '; ', 'sep.items': ', ',
};

const UI = { zh, en };

// Both dictionaries, for a test that they hold the same keys.
export const MESSAGES = UI;

const words = makeWords(UI, LANG_KEY);
export const {
  lang, setLang, t, translateStatic, fieldLabel, enumLabel, flagLabel, divisionLabel, riverLabel, formatTime,
  formatJsonValue,
} = words;

// An ApiError for people: the app's own words for a code when it has them ("code.<code>": no
// network, a revoked phone, what the phone retries); a server fault in general words (the phone
// keeps its records and tries again); the catalogue's words (web/errors.js); else the server's
// own message after ours.
export function errorText(e) {
  const key = 'code.' + e.code;
  const s = t(key);
  if (s !== key) return s;
  if (e.status >= 500) return t('err.server', { status: e.status });
  if (Object.hasOwn(ERRORS, String(e.code))) return ERRORS[e.code][lang()];
  return t('err.refused', { msg: `${e.message || ''} (${e.code})` });
}

// A programme stage's name; an outfall without one is at the first (排查).
export function stageLabel(stage) {
  return stage ? t('stage.' + stage) : t('stage.none');
}
