// One HTTP exchange per connection (node:http, no agent, Connection: close). The tests do not
// use fetch: its pool reuses idle keep-alive connections that the server may just be closing,
// which fails a request now and then on a loaded machine.
import http from 'node:http';

// Resolves with {status, headers (a Headers), text, bytes}; rejects when the exchange failed.
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  const h = { ...headers, Connection: 'close' };
  const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  if (data) h['Content-Length'] = String(data.length);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const hs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) hs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: hs, text: bytes.toString('utf8'), bytes });
      });
    });
    req.setTimeout(30000, () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(data);
  });
}
