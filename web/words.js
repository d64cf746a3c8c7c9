// The words both web apps share: the language choice (Chinese by default, English on request,
// kept in localStorage under the app's own key), t() over the app's own dictionary and the
// contract's labels (labels.js), and the labels and formats of fields, enums, flags, divisions,
// rivers and times. Each app (web/i18n.js, web/field/i18n.js) makes its set with makeWords.
import { LABELS, ENUMS, ENUM_FIELDS, BOOL_FIELDS } from './labels.js';

// The functions of an app whose own texts are ui ({zh: {key: text}, en: {...}}) and whose
// language choice is kept under langKey.
export function makeWords(ui, langKey) {
  let current = null;

  // The language in use: 'zh' (the default) or 'en'.
  function lang() {
    if (!current) {
      let saved = null;
      try { saved = localStorage.getItem(langKey); } catch (_) { /* storage disabled */ }
      current = saved === 'en' ? 'en' : 'zh';
    }
    return current;
  }

  function setLang(l) {
    current = l === 'en' ? 'en' : 'zh';
    try { localStorage.setItem(langKey, current); } catch (_) { /* storage disabled */ }
    document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  }

  // The text for key in the current language with {name} placeholders filled from vars.
  function t(key, vars) {
    const l = lang();
    let s = ui[l][key] ?? LABELS[l][key] ?? ui.zh[key] ?? LABELS.zh[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  }

  // Fills every element under root marked data-i18n (its text) or data-i18n-title (its title).
  function translateStatic(root) {
    for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
    document.title = t('app.title');
  }

  // "responsibleParty.phone" or "responsible_party.phone" → "responsible_party.phone".
  function snake(path) {
    return String(path).replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
  }

  // A name for key when the dictionaries have one, else fallback.
  function named(key, fallback) {
    const s = t(key);
    return s === key ? String(fallback) : s;
  }

  // A field's label; a programme field (history rows name "programme.plan.deadline") without
  // its own takes its last part's.
  function fieldLabel(path) {
    const p = snake(path);
    return named('f.' + p, p.startsWith('programme.') ? named('f.' + p.split('.').pop(), path) : path);
  }

  // The label of an enum value given by name or number, for the enum of field (snake_case).
  function enumLabel(field, value) {
    const list = ENUMS[field];
    let name = value;
    if (list && (typeof value === 'number' || /^\d+$/.test(String(value)))) name = list[Number(value)] ?? value;
    return t(String(name));
  }

  function flagLabel(flag) {
    return named('flag.' + flag, flag);
  }

  function divisionLabel(code) {
    return code ? named('div.' + code, code) : t('value.empty');
  }

  function riverLabel(code) {
    return code ? named('river.' + code, code) : t('value.empty');
  }

  // A Unix time in milliseconds (number or int64 string) as local date and time.
  function formatTime(ms) {
    if (ms === undefined || ms === null || ms === '') return t('value.empty');
    const d = new Date(Number(ms));
    if (Number.isNaN(d.getTime())) return String(ms);
    return d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
  }

  // A decoded value of field (snake_case path) as text for people.
  function formatValue(field, v) {
    const f = snake(field);
    if (v === undefined || v === null || v === '') return t('value.empty');
    const e = ENUM_FIELDS[f] || (f.startsWith('programme.') ? ENUM_FIELDS[f.split('.').pop()] : undefined);
    if (e) return enumLabel(e, v);
    if (f === 'river_code') return riverLabel(v);
    if (f === 'division_code') return divisionLabel(v);
    if (f === 'observed_at_ms' || f.endsWith('recorded_at_ms')) return formatTime(v);
    if (Array.isArray(v) && f === 'acknowledged_flags') return v.map((x) => flagLabel(x)).join(t('sep.items'));
    if (f === 'lat' || f === 'lon') return Number(v).toFixed(6);
    if (BOOL_FIELDS.has(f) || typeof v === 'boolean') return v ? t('value.yes') : t('value.no');
    if (Array.isArray(v)) return v.map((x) => (f === 'flags' ? flagLabel(x) : formatValue('', x))).join(t('sep.items'));
    if (typeof v === 'object') {
      return Object.entries(v).map(([k, x]) => fieldLabel(f ? f + '.' + snake(k) : k) + t('sep.kv') + formatValue(k, x))
        .join(t('sep.list'));
    }
    return String(v);
  }

  // A value sent as JSON text ("null" when absent) as text for people.
  function formatJsonValue(field, text) {
    if (text === undefined || text === null) return t('value.empty');
    let v;
    try { v = JSON.parse(text); } catch (_) { return String(text); }
    return formatValue(field, v);
  }

  return {
    lang, setLang, t, translateStatic, snake, fieldLabel, enumLabel, flagLabel, divisionLabel, riverLabel,
    formatTime, formatValue, formatJsonValue,
  };
}
