// The error codes the server can emit, read from its C sources (server/, sync/, common/ and
// programme/ when it exists), each with the HTTP statuses it is answered with where the source
// fixes one (0: a synced change's REJECTED reason, which is no HTTP answer). For the catalogue's
// test (tests/browser/errors.test.js); it reads text, so it knows only the ways of emitting a code
// listed here, and says which calls it could not follow.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const FOLDERS = ['server', 'sync', 'common', 'programme'];
// Files whose {status, "code"} tables are another protocol's codes, not ours: the Connect
// protocol's codes and statuses (server/connect.c) answer our codes, which its calls still carry.
const FOREIGN_TABLES = new Set(['server/connect.c']);
const CODE = /^[a-z][a-z0-9_]*$/;

// The calls that carry a code: the code's argument (0-based) and the status's (null: a reason).
const CALLS = {
  sync_fail: { code: 2, status: 1 },
  http_error: { code: 2, status: 1 },
  web_fail: { code: 2, status: 1 },
  apply_reject: { code: 1, status: null },
  refuse: { code: 1, status: null }, // the inspection findings' refusals, reasons of a change
};

// Code arguments that are no literal and that another rule counts: "file:argument" → why.
const FOLLOWED = {
  'entity.c:why.code': "the findings' refusals (refuse), counted at their calls",
  'apply.c:prep->reason': "a refusal worked out on the HTTP worker (apply_prepare), counted at its apply_reject call there",
};

// src with its comments blanked out (string and character literals kept, lines kept).
function stripComments(src) {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && (d === '*' || d === '/')) {
      let end = d === '*' ? src.indexOf('*/', i + 2) : src.indexOf('\n', i);
      end = end < 0 ? src.length : end + (d === '*' ? 2 : 0);
      out += src.slice(i, end).replace(/[^\n]/g, ' ');
      i = end;
    } else if (c === '"' || c === "'") {
      const end = literalEnd(src, i);
      out += src.slice(i, end);
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

// The index just past the string or character literal starting at text[i].
function literalEnd(text, i) {
  let j = i + 1;
  while (j < text.length && text[j] !== text[i]) j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

// The arguments (trimmed text) of the call whose "(" is text[open].
function callArgs(text, open) {
  const list = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = literalEnd(text, i);
      cur += text.slice(i, end);
      i = end - 1;
      continue;
    }
    if ('({['.includes(c)) depth++;
    if (')}]'.includes(c)) {
      if (depth === 0) break;
      depth--;
    }
    if (c === ',' && depth === 0) {
      list.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  list.push(cur.trim());
  return list;
}

// The string literals in an expression that look like codes.
function codesIn(expr) {
  const code = expr.replace(/\bstr(?:n?case)?n?cmp\([^()]*\)/g, ''); // what is compared is no code
  return [...code.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).filter((s) => CODE.test(s));
}

// The statuses an expression of a call gives: a number, or the SYNC_E kinds it names through
// the server's table (kinds); [] when the source does not fix one.
function statusesIn(expr, kinds) {
  if (/^\d{3}$/.test(expr)) return [Number(expr)];
  return [...expr.matchAll(/\bSYNC_E[A-Z]+\b/g)].map((m) => kinds[m[0]]).filter((s) => s !== undefined);
}

// {file (relative to root): text without comments} of the C sources.
function sources(root) {
  const out = {};
  for (const dir of FOLDERS) {
    if (!existsSync(join(root, dir))) continue;
    for (const f of readdirSync(join(root, dir)).sort())
      if (f.endsWith('.c')) out[`${dir}/${f}`] = stripComments(readFileSync(join(root, dir, f), 'utf8'));
  }
  return out;
}

// The name and parameter names of the function whose body holds text[at].
function enclosingFunction(text, at) {
  let found = null;
  for (const m of text.slice(0, at).matchAll(/^[a-z][\w \t*]*?\b(\w+)\(([^;{]*?)\)\s*\{/gm)) found = m;
  if (!found) return null;
  const params = found[2].split(',').map((p) => (p.match(/(\w+)\s*(\[\w*\])?\s*$/) || [])[1]);
  return { name: found[1], params };
}

// Reads the codes the C sources under root emit. Returns { codes, unread }: codes is a Map code →
// Set of statuses (empty when no call fixes one); unread lists "file:line: call" for code
// arguments no rule here follows.
export function emittedCodes(root) {
  const files = sources(root);
  const all = Object.values(files).join('\n');
  const codes = new Map();
  const unread = [];
  const add = (code, statuses) => {
    if (!codes.has(code)) codes.set(code, new Set());
    for (const s of statuses) codes.get(code).add(s);
  };

  // The engine's result kinds → status ({SYNC_EINVALID, 400} in the server's table), and the
  // server's codes answered with a status other than their kind's ({"upload_locked", 423}).
  const kinds = {};
  for (const m of all.matchAll(/\{\s*(SYNC_E[A-Z]+)\s*,\s*(\d{3})\s*\}/g)) kinds[m[1]] = Number(m[2]);
  const overrides = {};
  const ours = Object.entries(files).filter(([f]) => !FOREIGN_TABLES.has(f)).map(([, t]) => t).join('\n');
  for (const m of ours.matchAll(/\{\s*"([a-z_]+)"\s*,\s*(\d{3})\s*\}/g)) overrides[m[1]] = Number(m[2]);
  const statusOf = (code, s) => (s !== 0 && overrides[code] !== undefined ? overrides[code] : s);

  for (const [file, text] of Object.entries(files)) {
    const lineOf = (i) => text.slice(0, i).split('\n').length;
    const base = file.split('/').pop();
    for (const m of text.matchAll(/\b(sync_fail|http_error|web_fail|apply_reject|refuse)\s*\(/g)) {
      const spec = CALLS[m[1]];
      const args = callArgs(text, m.index + m[0].length - 1);
      const arg = args[spec.code];
      if (arg === undefined || /\bconst\b|\bchar\b/.test(arg)) continue; // a definition, or another refuse
      const statuses = spec.status === null ? [0] : statusesIn(args[spec.status], kinds);
      const found = codesIn(arg);
      if (found.length && found.length === statuses.length && found.length > 1) {
        found.forEach((c, i) => add(c, [statusOf(c, statuses[i])])); // cond ? "a" : "b" with cond ? A : B
        continue;
      }
      if (found.length) {
        for (const c of found) add(c, statuses.map((s) => statusOf(c, s)));
        continue;
      }
      if (FOLLOWED[`${base}:${arg}`]) continue;
      // table[i].field: the codes in the table's initializer in this file.
      const table = arg.match(/^(?:[^?]*\?)?\s*(\w+)\[/);
      const init = table && text.match(new RegExp(`\\b${table[1]}\\[\\]\\s*=\\s*\\{([\\s\\S]*?)\\};`));
      if (init) {
        for (const c of codesIn(init[1])) add(c, statuses.map((s) => statusOf(c, s)));
        continue;
      }
      // A parameter of the enclosing function: the codes its callers pass in that place.
      const fn = enclosingFunction(text, m.index);
      const at = fn ? fn.params.indexOf(arg) : -1;
      if (at >= 0) {
        for (const call of all.matchAll(new RegExp(`\\b${fn.name}\\s*\\(`, 'g'))) {
          const passed = callArgs(all, call.index + call[0].length - 1)[at] || '';
          for (const c of codesIn(passed)) add(c, statuses.map((s) => statusOf(c, s)));
        }
        continue;
      }
      unread.push(`${file}:${lineOf(m.index)}: ${m[1]}(... ${arg} ...)`);
    }
    // A change's reason set directly: r->reason = strdup("invalid_change").
    for (const m of text.matchAll(/\breason\s*=\s*strdup\(\s*"([a-z_]+)"\s*\)/g)) add(m[1], [0]);
    // Answers written outside the handlers: CivetWeb's error pages ({400, "bad_request"}, else
    // code = "http_error") and a refused connection's literal JSON with its status line.
    if (!FOREIGN_TABLES.has(file))
      for (const m of text.matchAll(/\{\s*(\d{3})\s*,\s*"([a-z_]+)"\s*\}/g)) add(m[2], [Number(m[1])]);
    for (const m of text.matchAll(/\bconst char \*code\s*=\s*"([a-z_]+)"/g)) add(m[1], []);
    for (const m of text.matchAll(/\\"code\\":\\"([a-z_]+)\\"/g)) {
      const line = text.slice(m.index, m.index + 800).match(/HTTP\/1\.1 (\d{3})/);
      add(m[1], line ? [Number(line[1])] : []);
    }
  }
  return { codes, unread };
}
