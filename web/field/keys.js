// The phone's Ed25519 key, photo hashes and ids.
//
// The key: Web Crypto's Ed25519 where the browser has it, made non-extractable, so the private
// key cannot be read back even by this app (IndexedDB keeps the CryptoKey object itself);
// otherwise the audited @noble/ed25519 (pinned in vendor/) with a random 32-byte seed kept in
// IndexedDB. Either way the server sees the same one-shot Ed25519 signature over the exact body
// bytes (libsodium's crypto_sign_detached). Hashes: BLAKE2b-256 (@noble/hashes, pinned), the
// same digest as the server's crypto_generichash and `b2sum -l 256`.
import { blake2b } from './vendor/blake2.js';
import * as ed from './vendor/ed25519.js';

// {kind: 'webcrypto', privateKey, publicRaw} or {kind: 'noble', seed, publicRaw}.
export async function makeKey() {
  try {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    return { kind: 'webcrypto', privateKey: pair.privateKey, publicRaw };
  } catch (_) {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    return { kind: 'noble', seed, publicRaw: await ed.getPublicKeyAsync(seed) };
  }
}

// The base64 of the Ed25519 signature of bytes with key.
export async function signBase64(key, bytes) {
  const sig = key.kind === 'webcrypto'
    ? new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes))
    : await ed.signAsync(bytes, key.seed);
  return base64(sig);
}

export function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// The 64 lowercase hex of the BLAKE2b-256 of the bytes of blob, hashed in pieces of 1 MiB so a
// 12 MP photo never needs a second copy in memory.
export async function hashBlob(blob) {
  const h = blake2b.create({ dkLen: 32 });
  const piece = 1 << 20;
  for (let off = 0; off < blob.size; off += piece) {
    h.update(new Uint8Array(await blob.slice(off, off + piece).arrayBuffer()));
  }
  const d = h.digest();
  let hex = '';
  for (const b of d) hex += HEX[b];
  return hex;
}

// A random UUID (version 4), for change, entity and batch ids made on the phone.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => HEX[x]).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
