// The contract's services called with generated Connect clients, unchanged: the code is generated
// at test time from proto/outfall/v1/outfall.proto by Debian's protoc with @bufbuild/protoc-gen-es
// into a temporary folder, and called with @connectrpc/connect over @connectrpc/connect-node's
// HTTP/1.1 transport, in binary (application/proto) and JSON. Covers a sign-in, a signed sync batch
// (X-Device-Signature over the exact bytes the client sends), reads by path field and by query
// field, a review decision, and errors mapped to Connect codes with our stable code in an
// outfall.v1.Error detail. Before issue 21 the contract had no service and these paths were 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign, randomUUID } from 'node:crypto';
import { create, toBinary, toJsonString } from '@bufbuild/protobuf';
import { createClient, ConnectError, Code } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { startServer, ADMIN_PASSWORD, ROOT } from './lib/server.js';

const here = join(ROOT, 'tests/browser');
let srv, gen, pb, adminToken;
const clients = {}; // by format: 'binary' | 'json', each { sync, outfalls, review, accounts }

// Generates the contract's ES code into a fresh folder (its node_modules points at ours, so the
// generated imports of @bufbuild/protobuf resolve) and imports it.
async function generate() {
  gen = mkdtempSync(join(tmpdir(), 'outfall-connect-'));
  symlinkSync(join(here, 'node_modules'), join(gen, 'node_modules'));
  writeFileSync(join(gen, 'package.json'), '{"type":"module"}\n');
  execFileSync('protoc', [
    `--plugin=protoc-gen-es=${join(here, 'node_modules/.bin/protoc-gen-es')}`,
    `--es_out=${gen}`, '--es_opt=target=js', `-I${join(ROOT, 'proto')}`, 'outfall/v1/outfall.proto',
  ]);
  return import(join(gen, 'outfall/v1/outfall_pb.js'));
}

function clientsFor(useBinaryFormat) {
  const transport = createConnectTransport({ baseUrl: srv.url, httpVersion: '1.1', useBinaryFormat });
  return {
    sync: createClient(pb.SyncService, transport),
    outfalls: createClient(pb.OutfallService, transport),
    review: createClient(pb.ReviewService, transport),
    accounts: createClient(pb.AccountService, transport),
  };
}

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

// A surveyor of county 410882 with a phone enrolled through AccountService.
async function surveyorWithPhone(c, name) {
  await c.accounts.createUser(create(pb.UserSchema, {
    username: name, password: 'surveyor-pass-21', role: pb.Role.SURVEYOR, divisions: ['410882'],
  }), bearer(adminToken));
  const { token } = await c.accounts.login({ username: name, password: 'surveyor-pass-21' });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const device = await c.accounts.enrollDevice({ deviceId: randomUUID(), name: `${name}'s phone`, publicKey: raw }, bearer(token));
  return { token, deviceId: device.deviceId, privateKey, seq: 1n };
}

// A batch creating one outfall, signed over the bytes the transport will send in its format.
function signedBatch(user, binary) {
  const id = randomUUID();
  const req = create(pb.SyncRequestSchema, {
    batchId: randomUUID(), deviceId: user.deviceId, deviceSeq: user.seq++, since: 0n,
    changes: [{
      changeId: randomUUID(), entityId: id, baseVersion: 0n, clientTimeMs: BigInt(Date.now()),
      entity: { case: 'outfall', value: { riverCode: 'qinhe', divisionCode: '410882', lat: 35.1 + Math.random() / 10, lon: 113.0 + Math.random() / 5 } },
    }],
  });
  const bytes = binary ? toBinary(pb.SyncRequestSchema, req) : Buffer.from(toJsonString(pb.SyncRequestSchema, req));
  const signature = sign(null, Buffer.from(bytes), user.privateKey).toString('base64');
  return { id, req, headers: { Authorization: `Bearer ${user.token}`, 'X-Device-Signature': signature } };
}

// The outfall.v1.Error detail of a ConnectError (our stable code and message).
function ourError(err) {
  assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
  const [detail] = err.findDetails(pb.ErrorSchema);
  assert.ok(detail, 'no outfall.v1.Error detail');
  return detail;
}

before(async () => {
  pb = await generate();
  srv = await startServer();
  clients.binary = clientsFor(true);
  clients.json = clientsFor(false);
  adminToken = (await clients.binary.accounts.login({ username: 'admin', password: ADMIN_PASSWORD })).token;
});

after(async () => {
  await srv?.stop();
  if (gen) rmSync(gen, { recursive: true, force: true });
});

for (const format of ['binary', 'json']) {
  test(`${format}: sign-in and an admin's user list`, { timeout: 60000 }, async () => {
    const c = clients[format];
    const login = await c.accounts.login({ username: 'admin', password: ADMIN_PASSWORD });
    assert.equal(login.token.length, 64);
    assert.equal(login.role, pb.Role.ADMIN);
    const list = await c.accounts.listUsers({}, bearer(login.token));
    assert.ok(list.users.some((u) => u.username === 'admin'));
  });

  test(`${format}: a signed batch through PushBatch, read back by GetOutfall and GetChanges`, { timeout: 60000 }, async () => {
    const c = clients[format];
    const user = await surveyorWithPhone(c, `connect.${format}`);
    const batch = signedBatch(user, format === 'binary');
    const res = await c.sync.pushBatch(batch.req, { headers: batch.headers });
    assert.equal(res.results.length, 1);
    assert.equal(res.results[0].status, pb.ChangeStatus.APPLIED, toJsonString(pb.ChangeResultSchema, res.results[0]));
    const outfall = await c.outfalls.getOutfall({ id: batch.id, view: 'latest' }, bearer(user.token));
    assert.equal(outfall.id, batch.id);
    assert.equal(outfall.riverCode, 'qinhe');
    const feed = await c.sync.getChanges({ since: 0n, limit: 1000 }, bearer(user.token));
    assert.ok(feed.feed.some((e) => e.entry.case === 'outfall' && e.entry.value.id === batch.id));
    // the supervisor's side: the queue holds it, a decision approves it
    const queue = await c.review.getReviewQueue({ limit: 500 }, bearer(adminToken));
    assert.ok(queue.items.some((i) => i.outfallId === batch.id));
    const decided = await c.review.decide({
      decisionId: randomUUID(), kind: pb.DecisionKind.APPROVE, outfallId: batch.id, baseVersion: 1n, comment: 'connect',
    }, bearer(adminToken));
    assert.equal(decided.status, pb.ChangeStatus.APPLIED, toJsonString(pb.DecisionResultSchema, decided));
    assert.equal(decided.outfall.reviewState, pb.ReviewState.APPROVED);
    assert.match(decided.outfall.code, /^410882-qinhe-/);
  });

  test(`${format}: a batch signed over other bytes is refused unauthenticated, with our code`, { timeout: 60000 }, async () => {
    const c = clients[format];
    const user = await surveyorWithPhone(c, `connect.bad.${format}`);
    const batch = signedBatch(user, format === 'binary');
    batch.req.batchId = randomUUID(); // the bytes sent now differ from the bytes signed
    const err = await c.sync.pushBatch(batch.req, { headers: batch.headers }).then(() => null, (e) => e);
    assert.equal(err?.code, Code.Unauthenticated, String(err));
    assert.equal(ourError(err).code, 'signature_invalid');
  });

  test(`${format}: errors carry Connect codes: unauthenticated, invalid argument, permission denied, not found`, { timeout: 60000 }, async () => {
    const c = clients[format];
    let err = await c.accounts.login({ username: 'admin', password: 'not the password' }).then(() => null, (e) => e);
    assert.equal(err?.code, Code.Unauthenticated, String(err));
    assert.equal(ourError(err).code, 'bad_credentials');
    err = await c.sync.getChanges({ limit: -1 }, bearer(adminToken)).then(() => null, (e) => e);
    assert.equal(err?.code, Code.InvalidArgument, String(err));
    assert.equal(ourError(err).code, 'invalid_argument');
    assert.match(err.rawMessage, /limit/);
    err = await c.sync.getChanges({}).then(() => null, (e) => e);
    assert.equal(err?.code, Code.Unauthenticated, String(err));
    assert.equal(ourError(err).code, 'token_missing');
    const user = await surveyorWithPhone(c, `connect.role.${format}`);
    err = await c.accounts.listUsers({}, bearer(user.token)).then(() => null, (e) => e);
    assert.equal(err?.code, Code.PermissionDenied, String(err));
    assert.equal(ourError(err).code, 'forbidden_role');
    err = await c.outfalls.getObservation({ id: randomUUID() }, bearer(user.token)).then(() => null, (e) => e);
    assert.equal(err?.code, Code.NotFound, String(err));
  });
}
