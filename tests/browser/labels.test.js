// The web apps' enum labels against the contract: every enum the console and the field app name
// lists exactly the .proto's values, in number order, and each value has a Chinese and an English
// label. (No browser needed: labels.js is a plain module.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './lib/server.js';
import { ENUMS, LABELS } from '../../web/labels.js';

// ENUMS key → the contract's enum.
const CONTRACT = {
  type: 'OutfallType', entry_method: 'EntryMethod', discharge_regime: 'DischargeRegime', review_state: 'ReviewState',
  survey_level: 'SurveyLevel', photo_kind: 'PhotoKind', role: 'Role', item_kind: 'ReviewItemKind',
  inspection_result: 'InspectionResult', report_kind: 'ReportKind', report_status: 'ReportStatus',
  stage: 'LifecycleStage', party_basis: 'PartyBasis', measure: 'RemediationMeasure',
  task_state: 'InspectionTaskState', zone_kind: 'ZoneKind',
};

// {EnumName: [value names by number]} of the .proto.
async function protoEnums() {
  const text = await readFile(join(ROOT, 'proto/outfall/v1/outfall.proto'), 'utf8');
  const out = {};
  for (const [, name, body] of text.matchAll(/^enum (\w+) \{([^}]*)\}/gm)) {
    const values = [];
    for (const [, v, n] of body.matchAll(/^\s*(\w+)\s*=\s*(\d+);/gm)) values[Number(n)] = v;
    out[name] = values;
  }
  return out;
}

test('the labelled enums are the contract\'s, value for value, in number order', async () => {
  const proto = await protoEnums();
  assert.deepEqual(Object.keys(ENUMS).sort(), Object.keys(CONTRACT).sort(), 'an enum without its contract name here');
  for (const [key, name] of Object.entries(CONTRACT)) {
    assert.ok(proto[name], `no enum ${name} in the contract`);
    assert.deepEqual(ENUMS[key], proto[name], `web/labels.js ENUMS.${key} differs from enum ${name}`);
  }
});

test('every value of a labelled enum has a Chinese and an English label', () => {
  const missing = [];
  for (const values of Object.values(ENUMS)) {
    for (const v of values) {
      for (const lang of ['zh', 'en']) if (!LABELS[lang][v]) missing.push(`${lang} ${v}`);
    }
  }
  assert.deepEqual(missing, []);
});

// The console's own modules (web/*.js, not the field app's).
async function consoleSources() {
  const dir = join(ROOT, 'web');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.js'));
  return Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')]));
}

// Enums the console only sends or compares, never shows: their words are the console's own.
const NEVER_SHOWN = new Set(['DecisionKind', 'ResolutionChoice', 'TargetStatus']);

test('every enum the console names has a Chinese and an English label for each of its values', async () => {
  const proto = await protoEnums();
  const owner = new Map(); // value name → its enum
  for (const [name, values] of Object.entries(proto)) for (const v of values) if (v) owner.set(v, name);
  const named = new Set(); // the enums of which the console names a value
  for (const [, text] of await consoleSources()) {
    for (const [, v] of text.matchAll(/['"`]([A-Z][A-Z0-9_]{3,})['"`]/g)) {
      if (owner.has(v) && !NEVER_SHOWN.has(owner.get(v))) named.add(owner.get(v));
    }
  }
  assert.ok(named.has('Role') && named.has('ApplicationStatus'), 'the scan of web/*.js found too little');
  const missing = [];
  for (const name of named) {
    for (const v of proto[name]) {
      if (!v) continue;
      for (const lang of ['zh', 'en']) if (!LABELS[lang][v]) missing.push(`${lang} ${v} (${name})`);
    }
  }
  assert.deepEqual(missing, [], 'enum values the console may show without a label');
});
