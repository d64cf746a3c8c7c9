// The web apps' enum labels against the contract: every enum the console and the field app name
// lists exactly the .proto's values, in number order, and each value has a Chinese and an English
// label. (No browser needed: labels.js is a plain module.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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
