#!/usr/bin/env node
// Writes the table of docs/errors.md from the catalogue (web/errors.js): everything after the
// marker line is replaced by one row per code, in code order. `node tools/errors_doc.mjs` writes
// the file; with --check it only says whether the file is what it would write (exit 1 if not).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../web/errors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DOC = join(ROOT, 'docs/errors.md');
export const MARKER = '<!-- The table below is written by node tools/errors_doc.mjs from web/errors.js: do not edit it here. -->';

// A status as the table shows it: the number, "reason" for 0, "varies" for null.
function statusText(s) {
  return s === 0 ? 'reason' : s === null ? 'varies' : String(s);
}

// The table of the catalogue as Markdown (ending in a newline).
export function errorsTable(errors = ERRORS) {
  const cell = (s) => String(s).replace(/\|/g, '\\|');
  const rows = Object.keys(errors).sort().map((code) => {
    const e = errors[code];
    const status = [e.status, ...(e.also || [])].map(statusText).join(', ');
    return `| \`${code}\` | ${status} | ${cell(e.zh)} | ${cell(e.en)} |`;
  });
  return ['| Code | Status | 中文 | English |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

// docs/errors.md as it should be: its text up to the marker, the marker, a blank line, the table.
export function expectedDoc(current) {
  const at = current.indexOf(MARKER);
  if (at < 0) throw new Error(`${DOC} lacks the marker line:\n${MARKER}`);
  return current.slice(0, at) + MARKER + '\n\n' + errorsTable();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const current = readFileSync(DOC, 'utf8');
  const want = expectedDoc(current);
  if (process.argv.includes('--check')) {
    if (current !== want) {
      console.error('docs/errors.md is not what tools/errors_doc.mjs writes: run node tools/errors_doc.mjs');
      process.exit(1);
    }
  } else if (current !== want) writeFileSync(DOC, want);
}
