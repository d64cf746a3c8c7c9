// Recomputing a random inspection draw (双随机、一公开) from its published facts, exactly as
// programme/draws.h does it, so anyone with a browser can check a draw: the canonical lists and
// their BLAKE2b-256, the random numbers (BLAKE2b-256 keys into libsodium's
// randombytes_buf_deterministic: ChaCha20, IETF variant, nonce "LibsodiumDRG", counter 0), the
// weighted draw of outfalls without replacement, then each outfall's inspector. A plain module
// (no DOM), so the browser test can also run it under node.
import { blake2b } from '../field/vendor/blake2.js';

const utf8 = new TextEncoder();

// Byte order of the UTF-8 of a and b (C's strcmp), negative, 0 or positive.
function byteCompare(a, b) {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The bytes of hex text of even length, or null when it is not hex.
function unhex(text) {
  if (typeof text !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const rotl = (v, n) => ((v << n) | (v >>> (32 - n))) >>> 0;

// The first ChaCha20 (IETF) block of key (32 bytes), nonce (12 bytes), block counter 0.
function chachaBlock(key, nonce) {
  const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const k = view(key);
  const n = view(nonce);
  const init = new Uint32Array(16);
  init.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) init[4 + i] = k.getUint32(4 * i, true);
  init[12] = 0;
  for (let i = 0; i < 3; i++) init[13 + i] = n.getUint32(4 * i, true);
  const x = Uint32Array.from(init);
  const quarter = (a, b, c, d) => {
    x[a] = (x[a] + x[b]) >>> 0; x[d] = rotl(x[d] ^ x[a], 16);
    x[c] = (x[c] + x[d]) >>> 0; x[b] = rotl(x[b] ^ x[c], 12);
    x[a] = (x[a] + x[b]) >>> 0; x[d] = rotl(x[d] ^ x[a], 8);
    x[c] = (x[c] + x[d]) >>> 0; x[b] = rotl(x[b] ^ x[c], 7);
  };
  for (let round = 0; round < 10; round++) {
    quarter(0, 4, 8, 12); quarter(1, 5, 9, 13); quarter(2, 6, 10, 14); quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15); quarter(1, 6, 11, 12); quarter(2, 7, 8, 13); quarter(3, 4, 9, 14);
  }
  const out = new Uint8Array(64);
  const o = view(out);
  for (let i = 0; i < 16; i++) o.setUint32(4 * i, (x[i] + init[i]) >>> 0, true);
  return out;
}

const DRG_NONCE = utf8.encode('LibsodiumDRG');

// The i-th random number of the draw (step 2), a BigInt.
function drawNumber(seed, candidatesHash, inspectorsHash, i) {
  const le = new Uint8Array(8);
  new DataView(le.buffer).setBigUint64(0, BigInt(i), true);
  const h = blake2b.create({ dkLen: 32 });
  h.update(seed); h.update(candidatesHash); h.update(inspectorsHash); h.update(le);
  const bytes = chachaBlock(h.digest(), DRG_NONCE);
  return new DataView(bytes.buffer).getBigUint64(0, true);
}

// 1 when text is a non-empty string of fewer than cap UTF-8 bytes without tab or line break.
function fieldOk(text, cap) {
  if (typeof text !== 'string' || !text) return false;
  return utf8.encode(text).length < cap && !/[\t\n\r]/.test(text);
}

const NAME_CAP = 64;
const DIVISION_CAP = 8;
const MAX_WEIGHT = 100;

// The draw recomputed from draw's published facts (an InspectionDraw as JSON: seed, sample,
// candidates, inspectors, previous): {candidatesHash, inspectorsHash, picks: [{code, inspector}]},
// or {error: 'invalid_draw' | 'no_eligible_inspector', at} when the facts cannot be drawn from.
export function recompute(draw) {
  const seed = unhex(draw.seed || '');
  const sample = Number(draw.sample || 0);
  const cands = (draw.candidates || []).map((c) => ({
    code: c.code, division: c.divisionCode, weight: Number(c.weight || 0),
  }));
  const insps = (draw.inspectors || []).map((p) => ({ name: p.name, division: p.divisionCode }));
  const previous = draw.previous || [];
  if (!seed || seed.length !== 32 || !cands.length || !insps.length || !(sample >= 1) || sample > cands.length) {
    return { error: 'invalid_draw', at: 'draw' };
  }
  cands.sort((a, b) => byteCompare(a.code, b.code));
  insps.sort((a, b) => byteCompare(a.name, b.name));

  // 1. the canonical lists and their hashes
  let lines = '';
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i];
    if (!fieldOk(c.code, NAME_CAP) || !fieldOk(c.division, DIVISION_CAP) || !Number.isInteger(c.weight)
      || c.weight < 1 || c.weight > MAX_WEIGHT || (i > 0 && cands[i - 1].code === c.code)) {
      return { error: 'invalid_draw', at: 'candidate ' + i };
    }
    lines += `${c.code}\t${c.division}\t${c.weight}\n`;
  }
  const candidatesHash = blake2b(utf8.encode(lines), { dkLen: 32 });
  lines = '';
  for (let i = 0; i < insps.length; i++) {
    const p = insps[i];
    if (!fieldOk(p.name, NAME_CAP) || !fieldOk(p.division, DIVISION_CAP) || (i > 0 && insps[i - 1].name === p.name)) {
      return { error: 'invalid_draw', at: 'inspector ' + i };
    }
    lines += `${p.name}\t${p.division}\n`;
  }
  const inspectorsHash = blake2b(utf8.encode(lines), { dkLen: 32 });
  const number = (i) => drawNumber(seed, candidatesHash, inspectorsHash, i);

  // 3. the outfalls, weighted, without replacement
  const left = cands.slice();
  let total = left.reduce((s, c) => s + BigInt(c.weight), 0n);
  const picks = [];
  for (let k = 0; k < sample; k++) {
    const r = number(k) % total;
    let run = 0n;
    let at = 0;
    while (at + 1 < left.length && (run += BigInt(left[at].weight)) <= r) at++;
    picks.push({ code: left[at].code, division: left[at].division, inspector: '' });
    total -= BigInt(left[at].weight);
    left.splice(at, 1);
  }

  // 4. the inspectors
  const load = insps.map(() => 0);
  const wasPrevious = (name, code) => previous.some((x) => x.inspector === name && x.code === code);
  for (let j = 0; j < picks.length; j++) {
    const pick = picks[j];
    let least = Infinity;
    let eligible = [];
    insps.forEach((p, i) => {
      if (p.division === pick.division || wasPrevious(p.name, pick.code)) return;
      if (load[i] < least) { least = load[i]; eligible = []; }
      if (load[i] === least) eligible.push(i);
    });
    if (!eligible.length) return { error: 'no_eligible_inspector', at: pick.code };
    const chosen = eligible[Number(number(sample + j) % BigInt(eligible.length))];
    load[chosen]++;
    pick.inspector = insps[chosen].name;
  }
  return {
    candidatesHash: hex(candidatesHash),
    inspectorsHash: hex(inspectorsHash),
    picks: picks.map((p) => ({ code: p.code, inspector: p.inspector })),
  };
}

// What differs between the published draw and its recomputation, as a list of
// {what: 'error'|'candidates_hash'|'inspectors_hash'|'count'|'pick', ...}; empty when they match.
export function verify(draw) {
  const again = recompute(draw);
  if (again.error) return [{ what: 'error', code: again.error, at: again.at }];
  const out = [];
  if (String(draw.candidatesHash || '').toLowerCase() !== again.candidatesHash) {
    out.push({ what: 'candidates_hash', published: draw.candidatesHash || '', drawn: again.candidatesHash });
  }
  if (String(draw.inspectorsHash || '').toLowerCase() !== again.inspectorsHash) {
    out.push({ what: 'inspectors_hash', published: draw.inspectorsHash || '', drawn: again.inspectorsHash });
  }
  const published = draw.picks || [];
  if (published.length !== again.picks.length) {
    out.push({ what: 'count', published: published.length, drawn: again.picks.length });
  }
  for (let i = 0; i < Math.min(published.length, again.picks.length); i++) {
    const p = published[i];
    const d = again.picks[i];
    if (p.code !== d.code || p.inspector !== d.inspector) {
      out.push({ what: 'pick', n: i + 1, published: p, drawn: d });
    }
  }
  return out;
}
