// The server's JSON API as the field app uses it: the bearer token, errors as ApiError {status,
// code, message} (status 0 and code "network" when the server cannot be reached, "timeout" when
// it did not answer in time), and the phone's clock compared with the server's Date header.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

// The difference server - phone in milliseconds, from the last answer's Date header (0 unknown).
export let clockSkewMs = 0;

let token = '';
export function setToken(t) {
  token = t || '';
}

// One exchange with path. opts: {method, body (object → JSON, string, Blob or bytes), headers,
// timeoutMs (default 30 s), raw (resolve with the Response, any status)}. Resolves with the
// decoded JSON ({} when empty); rejects with ApiError.
export async function call(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (token && !opts.noAuth) headers.Authorization = 'Bearer ' + token;
  let body = opts.body;
  if (body !== undefined && typeof body === 'object' && !(body instanceof Blob) && !(body instanceof Uint8Array)) {
    body = JSON.stringify(body);
  }
  if (typeof body === 'string' && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs || 30000);
  let res;
  try {
    res = await fetch(path, {
      method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error', signal: ctl.signal,
    });
  } catch (e) {
    throw ctl.signal.aborted ? new ApiError(0, 'timeout', 'the server did not answer in time')
      : new ApiError(0, 'network', 'the server cannot be reached');
  } finally {
    clearTimeout(timer);
  }
  const date = Date.parse(res.headers.get('Date') || '');
  if (!Number.isNaN(date)) clockSkewMs = date - Date.now();
  if (opts.raw) return res;
  const text = await res.text().catch(() => '');
  let data = null;
  try { data = text ? JSON.parse(text) : {}; } catch (_) { data = null; }
  if (!res.ok) {
    throw new ApiError(res.status, (data && data.code) || 'http_' + res.status, (data && data.message) || res.statusText);
  }
  return data || {};
}

// Whether err says the request may be tried again later as it is (no answer, or a 5xx, 408, 429,
// 503): the server kept nothing half-done.
export function retryable(err) {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429);
}
