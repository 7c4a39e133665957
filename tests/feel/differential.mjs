// differential.mjs — evaluates a corpus of FEEL expressions with feelin (the
// JavaScript FEEL interpreter, node_modules/feelin) and with
// `baton eval --jsonl`, and compares the results.
//
//   node tests/feel/differential.mjs BATON_BINARY [--verbose] [--count N]
//
// The corpus: the expression cases of tests/data/feel/*.txt (not unary
// tests, not syntax errors, not now()/today()), plus GENERATED cases from
// generator.mjs (a seeded grammar of FEEL, the same on every run).
// Results are compared as JSON after normalizing what the two legitimately
// represent differently: feelin computes with binary doubles, so numbers
// agree when they are within 1e-9 relative; temporal values compare as their
// ISO text. Generated cases that carry an exact oracle (`expect`) must give
// that result on baton whatever feelin says.
//
// Known differences: differential-known.txt groups them in classes, each
// documented under a heading of the same id in
// tests/data/feel/KNOWN_DIFFERENCES.md (the spec section, an example and
// both results). A class lists exact expressions (one a line) or patterns
// (`~ REGEX`, matched against the whole expression, optionally narrowed to
// given results: `~ REGEX ==> BATON_JSON | FEELIN_JSON`, * for any) for
// generated families.
// The run fails when a difference belongs to no class, when a class has no
// heading in the .md (or a heading no class), or when an exact entry no
// longer differs (the list is stale). Exit status: 0 or 1.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from 'feelin';
import { generateCases } from './generator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '..', 'data', 'feel');
const baton = process.argv[2];
const verbose = process.argv.includes('--verbose');
const countArg = process.argv.indexOf('--count');
const GENERATED = countArg > 0 ? Number(process.argv[countArg + 1]) : 1500;
const SEED = 20240611;
if (!baton) {
  console.error('usage: node differential.mjs BATON_BINARY [--verbose] [--count N]');
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

// differential-known.txt: `@class ID` starts a class; then exact expressions
// or `~ REGEX` patterns; `#` comments.
function readKnown() {
  const classes = new Map();
  let current = null;
  const lines = readFileSync(join(here, 'differential-known.txt'), 'utf8').split('\n');
  for (const line of lines) {
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('@class ')) {
      const id = line.slice(7).trim();
      current = { id, exact: new Set(), patterns: [], hits: 0, used: new Set() };
      classes.set(id, current);
    } else if (!current) {
      throw new Error(`differential-known.txt: "${line}" before any @class`);
    } else if (line.startsWith('~ ')) {
      // ~ REGEX [==> BATON | FEELIN]: results as JSON, or * for any
      const [re, results] = line.slice(2).split(' ==> ');
      const [b, f] = results ? results.split(' | ').map((x) => x.trim()) : ['*', '*'];
      current.patterns.push({
        re: new RegExp(`^(?:${re})$`),
        baton: b === '*' ? undefined : JSON.parse(b),
        feelin: f === '*' ? undefined : JSON.parse(f),
      });
    } else {
      current.exact.add(line);
    }
  }
  return classes;
}

// The class ids documented in KNOWN_DIFFERENCES.md: headings "## `id` — ...".
function readDocumented() {
  const md = readFileSync(join(dataDir, 'KNOWN_DIFFERENCES.md'), 'utf8');
  return new Set([...md.matchAll(/^## `([a-z0-9-]+)`/gm)].map((m) => m[1]));
}

function classify(classes, expr, ours, theirs) {
  for (const k of classes.values()) if (k.exact.has(expr)) return { k, exact: true };
  const fits = (p) =>
    p.re.test(expr) &&
    (p.baton === undefined || same(ours, p.baton)) &&
    (p.feelin === undefined || same(theirs, p.feelin));
  for (const k of classes.values()) if (k.patterns.some(fits)) return { k, exact: false };
  return null;
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

const handWritten = readCases();
const cases = handWritten.concat(generateCases(GENERATED, SEED));
const classes = readKnown();
const documented = readDocumented();
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
  const vars = c.file === 'generated' ? `\n    vars:   ${JSON.stringify(c.vars)}` : '';
  const where = `${c.file}:${c.line}: ${c.expr}${vars}`;
  if ('expect' in c && !same(ours, c.expect)) {
    failures.push(`${where}\n    baton:  ${JSON.stringify(ours)}\n    exact:  ${JSON.stringify(c.expect)}`);
    return;
  }
  if (same(ours, theirs)) {
    agree++;
    return;
  }
  const msg = `${where}\n    baton:  ${JSON.stringify(ours)}\n    feelin: ${JSON.stringify(theirs)}`;
  const known = classify(classes, c.expr, ours, theirs);
  if (known) {
    knownDiff++;
    known.k.hits++;
    if (known.exact) known.k.used.add(c.expr);
    if (verbose) console.log(`known [${known.k.id}]: ${msg}`);
  } else {
    failures.push(msg);
  }
});

// The list and its documentation must not drift apart.
for (const k of classes.values()) {
  if (!documented.has(k.id)) failures.push(`class ${k.id}: no "## \`${k.id}\`" heading in KNOWN_DIFFERENCES.md`);
  for (const e of k.exact)
    if (!k.used.has(e)) failures.push(`class ${k.id}: stale entry (no longer a difference): ${e}`);
}
for (const id of documented) if (!classes.has(id)) failures.push(`KNOWN_DIFFERENCES.md documents ${id}, which differential-known.txt lacks`);

for (const f of failures) console.log(f);
if (verbose) for (const k of classes.values()) console.log(`class ${k.id}: ${k.hits}`);
console.log(
  `differential: ${cases.length} cases (${handWritten.length} hand-written, ${cases.length - handWritten.length} generated), ` +
    `${agree} agree, ${knownDiff} known differences in ${[...classes.values()].filter((k) => k.hits).length} classes, ` +
    `${failures.length} failures`,
);
process.exit(failures.length ? 1 : 0);
