// A small client of outfalld over the Connect protocol, with the client generated from the contract
// (proto/outfall/v1/outfall.proto) by `npm run generate` (protoc + @bufbuild/protoc-gen-es, into
// gen/): sign-in, a phone's Ed25519 key enrolled, batches signed over the exact body bytes
// (docs/sync.md), the change feed, photo content addresses (BLAKE2b-256 from @noble/hashes, since
// Node's crypto cannot make a 32-byte BLAKE2b). Ed25519 comes from Node's own crypto.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { blake2b } from '@noble/hashes/blake2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const generated = fileURLToPath(new URL('./gen/outfall/v1/outfall_pb.js', import.meta.url));
if (!existsSync(generated)) {
  console.error('error: the generated client is missing: run `npm ci && npm run generate` here first');
  process.exit(2);
}
export const pb = await import(generated);

// The content address of a photo: the 64 lowercase hex digits of its BLAKE2b-256 (b2sum -l 256).
export function photoHash(bytes) {
  return bytesToHex(blake2b(bytes, { dkLen: 32 }));
}

// Signs every PushBatch: Ed25519 over the bytes the transport sends, which are toBinary of the
// request (protobuf-es writes a message the same way each time), in the X-Device-Signature header.
function signingInterceptor(phone) {
  return (next) => async (req) => {
    if (req.method.name === 'PushBatch' && phone.privateKey) {
      const bytes = toBinary(req.method.input, req.message);
      req.header.set('X-Device-Signature', sign(null, bytes, phone.privateKey).toString('base64'));
    }
    return next(req);
  };
}

// A server at url (e.g. http://127.0.0.1:8080): its services with the caller's token once signed in.
export class Server {
  constructor(url) {
    this.phone = {};
    this.token = null;
    const transport = createConnectTransport({
      baseUrl: url,
      httpVersion: '1.1',
      useBinaryFormat: true, // application/proto; the signature covers these bytes
      interceptors: [signingInterceptor(this.phone)],
    });
    this.accounts = createClient(pb.AccountService, transport);
    this.sync = createClient(pb.SyncService, transport);
    this.photos = createClient(pb.PhotoService, transport);
  }

  // Call options carrying the bearer token.
  get auth() {
    return { headers: { Authorization: `Bearer ${this.token}` } };
  }

  async login(username, password) {
    const answer = await this.accounts.login({ username, password });
    this.token = answer.token;
    return answer;
  }

  // Makes an Ed25519 key pair and enrolls its public key as a new phone of the signed-in user.
  async enroll(name) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url'); // the 32 bytes
    const device = await this.accounts.enrollDevice({ deviceId: randomUUID(), name, publicKey: raw }, this.auth);
    Object.assign(this.phone, { deviceId: device.deviceId, privateKey, seq: 1n });
    return device;
  }

  // Sends changes (Change messages' init objects) as one signed batch of the enrolled phone.
  async pushBatch(changes) {
    const req = create(pb.SyncRequestSchema, {
      batchId: randomUUID(), deviceId: this.phone.deviceId, deviceSeq: this.phone.seq++, since: 0n, changes,
    });
    return this.sync.pushBatch(req, this.auth);
  }

  // The hashes among hashes the server still needs from this user (upload them by tus: docs/api.md).
  async missingPhotos(hashes) {
    return (await this.photos.listMissingPhotos({ hashes }, this.auth)).hashes;
  }

  // A page of the change feed after since; with wait > 0 an empty page waits up to wait seconds.
  async changes(since, limit, wait) {
    return this.sync.getChanges({ since, limit, wait }, this.auth);
  }
}

// A new change creating or editing a record: entity is { case: 'outfall' | 'observation', value }.
export function change(entity, entityId = randomUUID(), baseVersion = 0n) {
  return { changeId: randomUUID(), entityId, baseVersion, clientTimeMs: BigInt(Date.now()), entity };
}

// The server's refusal as one line: the HTTP-level Connect code, our stable code and its message.
export function errorText(err) {
  if (!(err instanceof ConnectError)) return String(err?.stack ?? err);
  const [ours] = err.findDetails(pb.ErrorSchema);
  return `${Code[err.code]}: ${ours?.code ?? '?'}: ${err.rawMessage}`;
}

// Runs main, printing a refusal as "error: ..." (exit 1) rather than a stack trace.
export function run(main) {
  main().then((code) => process.exit(code ?? 0), (err) => {
    console.error(`error: ${errorText(err)}`);
    process.exit(1);
  });
}

// --name value pairs of argv into an object; names in required must be given.
export function args(argv, required) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected ${argv[i]}`);
    const name = argv[i].slice(2);
    out[name] = argv[i + 1] === undefined || argv[i + 1].startsWith('--') ? true : argv[++i];
  }
  const missing = required.filter((n) => out[n] === undefined);
  if (missing.length) {
    console.error(`error: give ${missing.map((n) => `--${n}`).join(' ')}`);
    process.exit(2);
  }
  return out;
}
