// The report form's words, Chinese first, English on the switch. Enum and division names are the
// console's (web/labels.js, web/words.js); errors the server answers come from the catalogue
// (web/errors.js).
import { ERRORS } from '../web/errors.js';
import { makeWords } from '../web/words.js';

const zh = {
  'app.title': '入河排污口问题举报',
  intro: '发现偷排、超标排放、私设暗管借道排污等问题，可在此举报。无需注册；可以匿名。提交后会得到举报编号，凭编号查询办理情况。',
  'f.kind': '问题类型', 'f.position': '发生位置', 'f.lat': '纬度', 'f.lon': '经度',
  'f.division': '所在县（市、区）', 'f.code': '排污口编码（标志牌上的编码，可不填）', 'f.description': '问题描述',
  'f.contact': '联系方式（可不填，仅监管部门可见）', 'f.photos': '照片（可不填，最多 5 张）',
  'pick.division': '请选择', 'pos.locate': '使用手机定位', 'pos.locating': '正在定位……',
  'pos.got': '已定位（精度约 {m} 米）。也可以在地图上点选或直接修改经纬度。', 'pos.map': '可在地图上点选位置。',
  'pos.denied': '无法获取手机位置（{why}）。请在地图上点选，或填写经纬度。', 'pos.none': '此浏览器不能定位，请填写经纬度。',
  submit: '提交举报', sending: '正在提交……', 'photo.hashing': '正在处理照片 {i}/{n}……',
  'photo.uploading': '正在上传照片 {i}/{n}……', 'photo.done': '照片已全部上传（{n} 张）。',
  'photo.failed': '举报已提交，但有 {n} 张照片未能上传：{msg}。举报本身不受影响。',
  'done.title': '举报已提交', 'done.number': '举报编号：', 'done.keep': '请记下举报编号，凭编号查询办理情况和答复。',
  'done.status': '查询办理情况', 'done.again': '再举报一件', hotline: '紧急情况请拨打监督举报电话 12369。',
  'err.kind': '请选择问题类型。', 'err.position': '请提供位置：点“使用手机定位”，或在地图上点选，或填写纬度和经度（数字）。',
  'err.division': '请选择所在县（市、区）。', 'err.description': '请描述看到的情况。',
  'err.description_long': '问题描述太长了（最多 2000 字节，约 660 个汉字）。', 'err.contact_long': '联系方式太长了（最多 100 字节）。',
  'err.photos_many': '最多附 5 张照片。', 'err.photo_big': '照片“{name}”太大（超过 {mb} MB）。',
  'err.network': '连不上服务器，请检查网络后再提交。填写的内容仍在页面上。',
  'err.unexpected': '出现意外错误：{msg}',
};

const en = {
  'app.title': 'Report a problem with an outfall',
  intro: 'Report illegal discharge, discharge over the limits, or a hidden pipe using an outfall. No account needed; you may stay anonymous. You get a tracking number to follow the case.',
  'f.kind': 'What is it', 'f.position': 'Where', 'f.lat': 'Latitude', 'f.lon': 'Longitude',
  'f.division': 'County', 'f.code': 'Outfall code (from its sign board, optional)', 'f.description': 'What you saw',
  'f.contact': 'Contact (optional, seen by the bureau only)', 'f.photos': 'Photos (optional, at most 5)',
  'pick.division': 'Choose', 'pos.locate': "Use the phone's position", 'pos.locating': 'Locating…',
  'pos.got': 'Located (about {m} m). You may also pick on the map or edit the numbers.', 'pos.map': 'You may pick the place on the map.',
  'pos.denied': 'No position from the phone ({why}). Pick on the map or type the coordinates.', 'pos.none': 'This browser cannot locate: type the coordinates.',
  submit: 'Send the report', sending: 'Sending…', 'photo.hashing': 'Preparing photo {i}/{n}…',
  'photo.uploading': 'Uploading photo {i}/{n}…', 'photo.done': 'All photos uploaded ({n}).',
  'photo.failed': 'The report was sent, but {n} photo(s) could not be uploaded: {msg}. The report itself stands.',
  'done.title': 'Report sent', 'done.number': 'Tracking number: ', 'done.keep': 'Keep the number: it shows how the case goes and the answer.',
  'done.status': 'See how it goes', 'done.again': 'Report another', hotline: 'In an emergency call the hotline 12369.',
  'err.kind': 'Choose what it is.', 'err.position': "Give the place: use the phone's position, pick it on the map, or type latitude and longitude (numbers).",
  'err.division': 'Choose the county.', 'err.description': 'Please describe what you saw.',
  'err.description_long': 'The description is too long (at most 2000 bytes).', 'err.contact_long': 'The contact is too long (at most 100 bytes).',
  'err.photos_many': 'At most 5 photos.', 'err.photo_big': 'The photo "{name}" is too large (over {mb} MB).',
  'err.network': 'The server cannot be reached: check the network and send again. What you wrote is still here.',
  'err.unexpected': 'Something unexpected went wrong: {msg}',
};

const words = makeWords({ zh, en }, 'report.lang');
export const { lang, setLang, t, translateStatic, enumLabel, divisionLabel } = words;

// What went wrong with a call, for people: the catalogue's words for the server's code, else the
// server's message.
export function errorText(e) {
  const code = e && e.code;
  if (code && Object.hasOwn(ERRORS, String(code))) return ERRORS[code][lang()];
  return t('err.unexpected', { msg: String((e && e.message) || e) });
}
