// differential.mjs — evaluates the FEEL cases of tests/data/feel/*.txt with
// feelin (the JavaScript FEEL interpreter, node_modules/feelin) and with
// `baton eval --jsonl`, and compares the results.
//
//   node tests/feel/differential.mjs BATON_BINARY [--verbose]
//
// Expression cases (not unary tests, not syntax errors) are sent to both.
// Results are compared as JSON after normalizing what the two legitimately
// represent differently: feelin computes with binary doubles, so numbers
// agree when they are within 1e-9 relative; temporal values compare as
// their ISO text. Cases listed in differential-known.txt (one expression a
// line, with the reason in a comment above it) are known dialect
// differences between feelin and Camunda's FEEL, which baton follows; they
// are reported but do not fail the run. Exit status: 0 when every other case
// agrees, 1 otherwise.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from 'feelin';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data', 'feel');
const baton = process.argv[2];
const verbose = process.argv.includes('--verbose');
if (!baton) {
  console.error('usage: node differential.mjs BATON_BINARY [--verbose]');
  process.exit(2);
}

// ---- the corpus ----------------------------------------------------------

function readCases() {
  const cases = [];
  for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort()) {
    let vars = {};
    let now = 0;
    let tests = false;
    const lines = readFileSync(join(dataDir, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i];
      while (line.endsWith(' \\') && i + 1 < lines.length) line = line.slice(0, -2) + '\n' + lines[++i];
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('@vars')) vars = line.length > 5 ? JSON.parse(line.slice(6)) : {};
      else if (line.startsWith('@now ')) now = Number(line.slice(5));
      else if (line.startsWith('@tests ')) tests = true;
      else if (line === '@expr') tests = false;
      else {
        const sep = line.indexOf(' ==> ');
        if (sep < 0 || tests) continue;
        const expect = line.slice(sep + 5);
        if (expect.startsWith('error ')) continue;
        // now() and today() depend on the clock: both sides would need the same one
        const expr = line.slice(0, sep);
        if (/\b(now|today)\(\)/.test(expr)) continue;
        cases.push({ file, line: i + 1, expr, vars, now });
      }
    }
  }
  return cases;
}

function readKnown() {
  try {
    return new Set(
      readFileSync(join(here, 'differential-known.txt'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#')),
    );
  } catch {
    return new Set();
  }
}

// ---- normalizing results ---------------------------------------------------

// feelin's values → plain JSON (temporal values through their toJSON/ISO text).
function fromFeelin(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'function') return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(fromFeelin);
  if (typeof v === 'object') {
    if (typeof v.toISO === 'function') return v.toISO();
    if (typeof v.toJSON === 'function') return JSON.parse(JSON.stringify(v));
    if ('start' in v && 'end' in v && ('start included' in v || 'startIncluded' in v)) return null;
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromFeelin(x);
    return out;
  }
  return null;
}

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  return a === b;
}

// ---- running both ---------------------------------------------------------------

const cases = readCases();
const known = readKnown();
const input = cases.map((c) => JSON.stringify({ expr: c.expr, context: c.vars })).join('\n') + '\n';
const run = spawnSync(baton, ['eval', '--jsonl', '-'], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
if (run.status !== 0) {
  console.error(`baton eval --jsonl failed (${run.status}): ${run.stderr}`);
  process.exit(1);
}
const batonOut = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
if (batonOut.length !== cases.length) {
  console.error(`baton answered ${batonOut.length} lines for ${cases.length} cases`);
  process.exit(1);
}

let agree = 0;
let knownDiff = 0;
const failures = [];
cases.forEach((c, i) => {
  let theirs;
  try {
    theirs = fromFeelin(evaluate(c.expr, c.vars).value);
  } catch (e) {
    theirs = { feelinError: String(e.message || e) };
  }
  const ours = 'result' in batonOut[i] ? batonOut[i].result : { batonError: batonOut[i].error };
  if (same(ours, theirs)) {
    agree++;
    return;
  }
  const msg = `${c.file}:${c.line}: ${c.expr}\n    baton:  ${JSON.stringify(ours)}\n    feelin: ${JSON.stringify(theirs)}`;
  if (known.has(c.expr)) {
    knownDiff++;
    if (verbose) console.log(`known: ${msg}`);
  } else {
    failures.push(msg);
  }
});

for (const f of failures) console.log(f);
console.log(
  `differential: ${cases.length} cases, ${agree} agree, ${knownDiff} known differences, ${failures.length} new differences`,
);
process.exit(failures.length ? 1 : 0);
