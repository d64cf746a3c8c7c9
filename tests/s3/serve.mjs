// The S3-compatible server the tests start on loopback (tests/lib/s3rver.c): s3rver (MIT, pinned in
// package.json) keeps the objects in a folder and speaks the S3 API, multipart uploads included;
// it checks only the access key of a Signature Version 4 request (its V4 check is unimplemented),
// so every request passes through the check below first: the signature is computed again here,
// independently of the client, from the canonical request (method, path, sorted query, signed
// headers, the x-amz-content-sha256 the client sent) with the one secret this server knows, and a
// request whose signature differs, whose key is unknown or that is unsigned gets 403
// SignatureDoesNotMatch / InvalidAccessKeyId, as S3 answers. A body whose SHA-256 the request
// names (x-amz-content-sha256) is hashed here too: another hash gets 400
// XAmzContentSHA256Mismatch.
//
// Usage: node serve.mjs DIR READY_FILE PORT [BUCKET ...]
// Listens on 127.0.0.1:PORT (0: a free port), writes "127.0.0.1:PORT" to READY_FILE once
// listening, and creates the buckets named. Access key S3RVER, secret S3RVER (s3rver's only account).
import { createHash, createHmac } from 'node:crypto';
import { writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import S3rver from 's3rver';

const [dir, ready, port, ...buckets] = process.argv.slice(2);
const SECRETS = new Map([['S3RVER', 'S3RVER']]);

// RFC 3986 encoding as SigV4 signs a query (every byte but A-Z a-z 0-9 - _ . ~).
const enc = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const hmac = (key, text) => createHmac('sha256', key).update(text).digest();

function canonicalQuery(search) {
  if (!search) return '';
  return search
    .split('&')
    .filter((p) => p.length)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent(i < 0 ? p : p.slice(0, i));
      const v = decodeURIComponent(i < 0 ? '' : p.slice(i + 1).replace(/\+/g, '%20'));
      return [enc(k), enc(v)];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

// null when req is signed right; else [code, message].
function refusal(req) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['AccessDenied', 'the request is not signed with AWS4-HMAC-SHA256'];
  const [, key, date, region, service, signedHeaders, signature] = m;
  const secret = SECRETS.get(key);
  if (!secret) return ['InvalidAccessKeyId', 'the access key does not exist'];
  const amzDate = req.headers['x-amz-date'] || '';
  const payload = req.headers['x-amz-content-sha256'];
  if (!payload) return ['InvalidRequest', 'x-amz-content-sha256 is missing'];
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256'))
    return ['AccessDenied', 'host, x-amz-date and x-amz-content-sha256 must be signed'];
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const headers = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [req.method, path, canonicalQuery(q < 0 ? '' : req.url.slice(q + 1)), headers, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k = hmac('AWS4' + secret, date);
  k = hmac(k, region);
  k = hmac(k, service);
  k = hmac(k, 'aws4_request');
  if (hmac(k, toSign).toString('hex') !== signature)
    return ['SignatureDoesNotMatch', 'the request signature we calculated does not match the signature you provided'];
  return null;
}

const s3 = new S3rver({
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
await s3.configureBuckets();
const app = s3.callback();
const refuse = (res, status, code, message) => {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
};
const MAX_CHECKED_BODY = 64 * 1024 * 1024;
const server = http.createServer((req, res) => {
  const bad = refusal(req);
  if (bad) {
    refuse(res, 403, bad[0], bad[1]);
    return req.resume();
  }
  const payload = req.headers['x-amz-content-sha256'];
  if (!/^[0-9a-f]{64}$/.test(payload)) return app(req, res);
  // A body whose SHA-256 the request signed: read whole, checked as S3 does, then handed on.
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_CHECKED_BODY) chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (size > MAX_CHECKED_BODY || createHash('sha256').update(body).digest('hex') !== payload)
      return refuse(res, 400, 'XAmzContentSHA256Mismatch', 'the body does not hash to x-amz-content-sha256');
    const again = new PassThrough();
    for (const k of ['headers', 'rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'socket', 'connection'])
      again[k] = req[k];
    again.end(body);
    app(again, res);
  });
});
server.listen(Number(port) || 0, '127.0.0.1', () => {
  writeFileSync(ready + '.tmp', `127.0.0.1:${server.address().port}\n`);
  renameSync(ready + '.tmp', ready);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
