// generator.mjs — the generated half of the differential corpus: well-typed
// FEEL expressions, each with a context of variables, drawn from a grammar
// of the language by a seeded PRNG. The same seed gives the same corpus on
// every run and every machine (no Math.random, no clock), so a
// disagreement found once is found again.
//
//   import { generateCases } from './generator.mjs';
//   generateCases(count, seed) → [{ file: 'generated', line: i, expr, vars, expect? }]
//
// `expect`, when present, is the result exact arithmetic gives (computed
// here with BigInt, not by either interpreter): baton must return it.
//
// Design: one generator per FEEL type (num, bool, str, list of numbers,
// list of strings, context, date, duration...) that returns expression text
// of that type, recursing to a bounded depth; families on top of them pick
// the construct under test (arithmetic, comparison, logic with null, string
// and list functions, filters, iteration, contexts and paths, between/in and
// unary tests, if-then-else, temporal arithmetic, named parameters,
// decimal exactness). Every case gets its own variables, so the same
// expression shape is evaluated over different data. Values stay small
// (integers below 10^6, decimals with two places) so that both sides stay
// in the range where a binary double and a decimal agree, except in the
// exactness family, whose purpose is to show where they do not.

// mulberry32: a 32-bit state PRNG, small and with a good spread.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'order', 'Invoice', 'x-ray', 'a,b,c', 'hello world', 'Zürich', ''];
const CITIES = ['Berlin', 'Paris', 'Lisbon', 'Oslo'];
const NAMES = ['pen', 'book', 'lamp', 'desk', 'mug', 'cable'];

export function generateCases(count, seed) {
  const rnd = prng(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const chance = (p) => rnd() < p;
  const dec2 = (lo, hi) => `${int(lo, hi)}.${String(int(0, 99)).padStart(2, '0')}`;
  const strLit = (s) => JSON.stringify(s);
  const pad = (n) => String(n).padStart(2, '0');
  const dateText = () => `${int(2019, 2026)}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
  const timeText = () => `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`;

  // ---- the variables of one case -------------------------------------------
  function makeVars() {
    const items = [];
    for (let i = 0, n = int(0, 6); i < n; i++)
      items.push({ name: pick(NAMES), price: chance(0.5) ? int(1, 60) : Number(dec2(1, 60)), qty: int(1, 5) });
    const xs = [];
    for (let i = 0, n = int(0, 7); i < n; i++) xs.push(int(-20, 50));
    const words = [];
    for (let i = 0, n = int(0, 4); i < n; i++) words.push(pick(WORDS.slice(0, 7)));
    return {
      a: int(-50, 200),
      b: int(1, 40),
      c: Number(dec2(-20, 99)),
      s: pick(WORDS),
      t: pick(WORDS),
      flag: chance(0.5),
      n: null,
      xs,
      words,
      items,
      order: {
        id: `ORD-${int(100, 999)}`,
        total: int(0, 5000),
        customer: { name: pick(['Ada', 'Grace', 'Linus']), vip: chance(0.3), address: { city: pick(CITIES), zip: String(int(10000, 99999)) } },
      },
      d: dateText(),
      dt: `${dateText()}T${timeText()}`,
    };
  }

  // ---- typed expression generators -----------------------------------------
  // Each returns FEEL text of its type; depth bounds the recursion.
  function num(depth) {
    if (depth <= 0 || chance(0.3))
      return pick([() => String(int(0, 100)), () => 'a', () => 'b', () => String(int(1, 9)), () => 'order.total', () => 'count(xs)']).call();
    return pick([
      () => `${num(depth - 1)} + ${num(depth - 1)}`,
      () => `${num(depth - 1)} - ${num(depth - 1)}`,
      () => `${num(depth - 1)} * ${num(depth - 1)}`,
      () => `(${num(depth - 1)})`,
      () => `-${num(0)}`,
      () => `(${num(depth - 1)}) / ${int(1, 8)}`,
      () => `abs(${num(depth - 1)})`,
      () => `floor(${num(depth - 1)} / ${int(2, 7)})`,
      () => `ceiling(${num(depth - 1)} / ${int(2, 7)})`,
      () => `modulo(${num(depth - 1)}, ${int(1, 9)})`,
      () => `string length(${str(depth - 1)})`,
      () => `count(${numList(depth - 1)})`,
      () => `sum(${numList(depth - 1)})`,
      () => `if ${bool(depth - 1)} then ${num(depth - 1)} else ${num(depth - 1)}`,
      () => `${int(2, 4)} ** ${int(0, 5)}`,
    ]).call();
  }
  function decimal(depth) {
    if (depth <= 0 || chance(0.4)) return pick([() => dec2(0, 99), () => 'c', () => `-${dec2(0, 9)}`]).call();
    return pick([
      () => `${decimal(depth - 1)} + ${decimal(depth - 1)}`,
      () => `${decimal(depth - 1)} - ${num(0)}`,
      () => `${decimal(depth - 1)} * ${int(2, 12)}`,
      () => `decimal(${decimal(depth - 1)}, ${int(0, 2)})`,
      () => `floor(${decimal(depth - 1)})`,
      () => `ceiling(${decimal(depth - 1)})`,
      () => `round half up(${decimal(depth - 1)}, ${int(0, 1)})`,
      () => `round down(${decimal(depth - 1)}, 1)`,
    ]).call();
  }
  function bool(depth) {
    if (depth <= 0 || chance(0.25)) return pick(['true', 'false', 'flag', 'null', 'n', 'order.customer.vip']);
    return pick([
      () => `${num(depth - 1)} ${pick(['<', '<=', '>', '>=', '=', '!='])} ${num(depth - 1)}`,
      () => `${bool(depth - 1)} and ${bool(depth - 1)}`,
      () => `${bool(depth - 1)} or ${bool(depth - 1)}`,
      () => `not(${bool(depth - 1)})`,
      () => `(${bool(depth - 1)})`,
      () => `${str(depth - 1)} = ${str(depth - 1)}`,
      () => `${str(0)} ${pick(['<', '>'])} ${str(0)}`,
      () => `contains(${str(depth - 1)}, ${strLit(pick(['a', 'e', 'or', ',', ' ']))})`,
      () => `starts with(${str(depth - 1)}, ${strLit(pick(['a', 'b', 'O', '']))})`,
      () => `ends with(${str(depth - 1)}, ${strLit(pick(['a', 'r', 'd']))})`,
      () => `list contains(${numList(depth - 1)}, ${num(0)})`,
      () => `${num(depth - 1)} between ${int(-10, 20)} and ${int(20, 120)}`,
      // parenthesized: `x in >= 10 and y` would read as `x in (>= 10 and y)`
      () => `(${num(depth - 1)} in ${pick(['[1..10]', '(0..100)', '[a..b]', '>= 10', '< 0', '[1, 2, 3]', '(-5..5]'])})`,
      () => `some x in ${numList(depth - 1)} satisfies x > ${num(0)}`,
      () => `every x in ${numList(depth - 1)} satisfies x ${pick(['>', '<', '!='])} ${int(-10, 30)}`,
      () => `is defined(${pick(['a', 'n', 'order.customer', 'order.missing'])})`,
      () => `${pick(['date(d)', `date(${strLit(dateText())})`])} ${pick(['<', '>', '=', '<='])} date(${strLit(dateText())})`,
      () => `matches(${str(0)}, ${strLit(pick(['^a', 'a+', '[0-9]', '^[A-Z]', 'l{2}', '\\w+']))})`,
      () => `${num(depth - 1)} instance of number`,
      () => `${bool(0)} = ${bool(0)}`,
      () => `all([${bool(0)}, ${bool(0)}])`,
      () => `any([${bool(0)}, ${bool(0)}])`,
      () => `even(${num(depth - 1)})`,
      () => `odd(${num(depth - 1)})`,
    ]).call();
  }
  function str(depth) {
    if (depth <= 0 || chance(0.3)) return pick([() => strLit(pick(WORDS)), () => 's', () => 't', () => 'order.customer.name', () => 'order.id']).call();
    return pick([
      () => `${str(depth - 1)} + ${str(depth - 1)}`,
      () => `upper case(${str(depth - 1)})`,
      () => `lower case(${str(depth - 1)})`,
      () => `substring(${str(depth - 1)}, ${int(1, 4)})`,
      () => `substring(${str(depth - 1)}, ${int(1, 3)}, ${int(0, 3)})`,
      () => `substring(${str(depth - 1)}, -${int(1, 3)})`,
      () => `substring before(${str(depth - 1)}, ${strLit(pick(['a', 'l', '-', ',', ' ']))})`,
      () => `substring after(${str(depth - 1)}, ${strLit(pick(['a', 'l', '-', ',', ' ']))})`,
      () => `string(${num(depth - 1)})`,
      () => `replace(${str(depth - 1)}, ${strLit(pick(['a', 'l+', '[aeiou]', ',', 'x']))}, ${strLit(pick(['', '_', 'A', '--']))})`,
      () => `string join(${strList(depth - 1)}, ${strLit(pick([', ', '-', '']))})`,
      () => `if ${bool(depth - 1)} then ${str(depth - 1)} else ${str(depth - 1)}`,
      () => `${strList(depth - 1)}[1]`,
      () => `string(date(d))`,
    ]).call();
  }
  function numList(depth) {
    if (depth <= 0 || chance(0.35)) return pick([() => 'xs', () => `[${Array.from({ length: int(0, 4) }, () => int(-5, 30)).join(', ')}]`, () => 'items.qty']).call();
    return pick([
      () => `${numList(depth - 1)}[item > ${int(-5, 20)}]`,
      () => `${numList(depth - 1)}[item ${pick(['<', '>=', '!='])} ${num(0)}]`,
      () => `for x in ${numList(depth - 1)} return x * ${int(1, 4)}`,
      () => `for x in ${numList(depth - 1)} return x + ${num(0)}`,
      () => `for i in 1..${int(1, 5)} return i * ${num(0)}`,
      () => `reverse(${numList(depth - 1)})`,
      () => `append(${numList(depth - 1)}, ${num(0)})`,
      () => `concatenate(${numList(depth - 1)}, ${numList(depth - 1)})`,
      () => `distinct values(${numList(depth - 1)})`,
      () => `flatten([${numList(depth - 1)}, [${num(0)}]])`,
      () => `index of(${numList(depth - 1)}, ${int(0, 5)})`,
      () => `union(${numList(depth - 1)}, ${numList(depth - 1)})`,
      () => `sublist([1, 2, 3, 4, 5], ${int(1, 5)})`,
      () => `sublist([10, 20, 30, 40], ${int(1, 2)}, ${int(1, 2)})`,
      () => `insert before([1, 2, 3], ${int(1, 3)}, ${num(0)})`,
      () => `remove([5, 6, 7, 8], ${int(1, 4)})`,
      () => `items[price > ${int(1, 40)}].qty`,
      () => `items[qty >= ${int(1, 4)}].price`,
      () => `if ${bool(depth - 1)} then ${numList(depth - 1)} else []`,
    ]).call();
  }
  function strList(depth) {
    if (depth <= 0 || chance(0.4)) return pick([() => 'words', () => 'items.name', () => `[${Array.from({ length: int(0, 3) }, () => strLit(pick(WORDS))).join(', ')}]`]).call();
    return pick([
      () => `for w in ${strList(depth - 1)} return upper case(w)`,
      () => `${strList(depth - 1)}[string length(item) > ${int(2, 5)}]`,
      () => `split(${str(depth - 1)}, ${strLit(pick([',', ' ', '-', 'a']))})`,
      () => `distinct values(${strList(depth - 1)})`,
      () => `append(${strList(depth - 1)}, ${str(0)})`,
      () => `reverse(${strList(depth - 1)})`,
      () => `items[qty > ${int(1, 4)}].name`,
    ]).call();
  }
  function context(depth) {
    if (depth <= 0 || chance(0.3)) return pick(['order', 'order.customer', 'order.customer.address', '{}']);
    return pick([
      () => `{x: ${num(depth - 1)}, y: ${str(depth - 1)}}`,
      () => `{total: ${num(depth - 1)}, double: total * 2}`,
      () => `{inner: ${context(depth - 1)}, flag: ${bool(0)}}`,
      () => `{name: order.customer.name, city: order.customer.address.city, items: count(items)}`,
      () => `{"key with space": ${num(0)}, list: ${numList(depth - 1)}}`,
      () => `context put(${context(depth - 1)}, "k", ${num(0)})`,
      () => `context merge([${context(depth - 1)}, {z: ${num(0)}}])`,
    ]).call();
  }
  const dateExpr = () => pick([`date(d)`, `date(${strLit(dateText())})`, `@${strLit(dateText())}`, `date(${int(2019, 2026)}, ${int(1, 12)}, ${int(1, 28)})`, 'date(date and time(dt))']);
  const dtExpr = () => pick([`date and time(dt)`, `date and time(${strLit(`${dateText()}T${timeText()}`)})`, `@${strLit(`${dateText()}T${timeText()}`)}`]);
  const dtdExpr = () => pick([`duration(${strLit(pick(['P1D', 'PT2H', 'P3DT4H', 'PT90M', 'PT45S', 'P10D', '-P2D']))})`, `@${strLit(pick(['P2D', 'PT12H', 'P1DT1H']))}`]);
  const ymdExpr = () => pick([`duration(${strLit(pick(['P1Y', 'P2M', 'P1Y6M', 'P14M', '-P3M']))})`, `@${strLit(pick(['P1Y', 'P5M']))}`]);

  // ---- families -------------------------------------------------------------
  const families = [
    // arithmetic on integers (exact on both sides)
    [8, () => num(3)],
    // decimals: both sides agree within a double's precision
    [5, () => decimal(3)],
    // decimal exactness: a sum or product of two-place decimals compared with
    // its exact value (true in decimal arithmetic; a binary double may miss)
    [3, () => {
      const x = dec2(0, 9), y = dec2(0, 9);
      const op = pick(['+', '-', '*']);
      return { expr: `${x} ${op} ${y} = ${exact(x, op, y)}`, expect: true };
    }],
    // comparisons and three-valued logic
    [10, () => bool(3)],
    // strings
    [8, () => str(3)],
    // list functions and aggregates
    [8, () => pick([
      () => numList(3),
      () => `${pick(['min', 'max', 'sum', 'count', 'mean', 'product'])}(${numList(2)})`,
      () => `${pick(['min', 'max', 'sum'])}(${num(1)}, ${num(1)}, ${num(1)})`,
      () => `median(${numList(2)})`,
      () => `list contains(${strList(2)}, ${str(0)})`,
      () => strList(3),
      () => `count(${strList(2)})`,
    ]).call()],
    // filters and projections over a list of contexts
    [6, () => pick([
      () => `items[price > ${int(1, 50)}]`,
      () => `items[qty = ${int(1, 5)}].name`,
      () => `items[name = ${strLit(pick(NAMES))}]`,
      () => `sum(items.price)`,
      () => `sum(for i in items return i.price * i.qty)`,
      () => `items[${int(1, 3)}].name`,
      () => `items[-1]`,
      () => `xs[${pick(['1', '2', '-1', '-2', 'item > a', 'item < b', 'item = 0'])}]`,
      () => `count(items[qty > ${int(1, 4)}])`,
      () => `items[price * qty > ${int(10, 100)}].name`,
    ]).call()],
    // iteration
    [6, () => pick([
      () => `for x in ${numList(1)}, y in [1, 2] return x * y`,
      () => `for x in ${numList(1)} return if x > ${num(0)} then "big" else "small"`,
      () => `some i in items satisfies i.price > ${int(1, 60)}`,
      () => `every i in items satisfies i.qty ${pick(['>=', '<'])} ${int(1, 5)}`,
      () => `for i in ${int(1, 4)}..${int(1, 6)} return i`,
      () => `for w in words return string length(w)`,
      () => `some w in words satisfies starts with(w, ${strLit(pick(['a', 'b', 'g', 'o']))})`,
    ]).call()],
    // contexts and paths
    [6, () => pick([
      () => context(3),
      () => `${context(2)}.${pick(['x', 'y', 'total', 'double', 'name', 'city', 'customer', 'missing'])}`,
      () => `order.customer.${pick(['name', 'vip', 'address.city', 'address.zip', 'nope'])}`,
      () => `{a: 1, b: a + ${num(0)}, c: b * 2}.c`,
      () => `get value(order, ${strLit(pick(['id', 'total', 'customer', 'none']))})`,
      () => `get entries({p: ${num(0)}, q: ${str(0)}})`,
      () => `[{k: 1}, {k: ${num(0)}}].k`,
      () => `{x: {y: {z: ${num(1)}}}}.x.y.z`,
    ]).call()],
    // between, in and unary tests
    [6, () => pick([
      () => `${num(1)} between ${num(0)} and ${num(0)}`,
      () => `${num(1)} in ${pick(['[1..10]', '(1..10)', '[0..a]', '[b..100]', '> 10', '<= 5', '[1, 5, 10]', '(a..b)'])}`,
      () => `${str(0)} in [${strLit(pick(WORDS))}, ${strLit(pick(WORDS))}]`,
      () => `${num(0)} in (${int(0, 10)}..${int(10, 40)}]`,
      () => `date(d) in [date("2020-01-01")..date("2024-12-31")]`,
      () => `${dec2(0, 20)} between ${int(0, 10)} and ${int(10, 20)}`,
    ]).call()],
    // if-then-else
    [5, () => `if ${bool(2)} then ${pick([() => num(1), () => str(1)]).call()} else ${pick([() => num(1), () => str(1), () => 'null']).call()}`],
    // temporal literals and arithmetic
    [8, () => pick([
      () => `${dateExpr()} + ${pick([dtdExpr, ymdExpr]).call()}`,
      () => `${dateExpr()} - ${pick([dtdExpr, ymdExpr]).call()}`,
      () => `${dateExpr()} - ${dateExpr()}`,
      () => `${dtExpr()} + ${dtdExpr()}`,
      () => `${dtExpr()} - ${dtExpr()}`,
      () => `${dateExpr()}.${pick(['year', 'month', 'day', 'weekday'])}`,
      () => `${dtExpr()}.${pick(['year', 'month', 'day', 'hour', 'minute', 'second'])}`,
      () => `${dtdExpr()} + ${dtdExpr()}`,
      () => `${ymdExpr()} + ${ymdExpr()}`,
      () => `${dtdExpr()}.${pick(['days', 'hours', 'minutes', 'seconds'])}`,
      () => `${ymdExpr()}.${pick(['years', 'months'])}`,
      () => `time(${strLit(timeText())}) + ${dtdExpr()}`,
      () => `${pick(['day of week', 'month of year', 'day of year', 'week of year'])}(${dateExpr()})`,
      () => `${dateExpr()} ${pick(['<', '>', '=', '!='])} ${dateExpr()}`,
      () => `years and months duration(${dateExpr()}, ${dateExpr()})`,
      () => `string(${dateExpr()} + ${dtdExpr()})`,
      () => `${dtdExpr()} ${pick(['<', '>', '='])} ${dtdExpr()}`,
      () => `date and time(${dateExpr()}, time(${strLit(timeText())}))`,
    ]).call()],
    // built-ins called with named parameters
    [5, () => pick([
      () => `substring(string: ${str(1)}, start position: ${int(1, 3)})`,
      () => `substring(string: ${str(1)}, start position: ${int(1, 3)}, length: ${int(0, 3)})`,
      () => `string length(string: ${str(1)})`,
      () => `contains(string: ${str(1)}, match: ${strLit(pick(['a', 'e']))})`,
      () => `decimal(n: ${decimal(1)}, scale: ${int(0, 2)})`,
      () => `round half up(n: ${decimal(1)}, scale: 1)`,
      () => `floor(n: ${decimal(1)})`,
      () => `date(year: ${int(2019, 2026)}, month: ${int(1, 12)}, day: ${int(1, 28)})`,
      () => `count(list: ${numList(1)})`,
      () => `sum(list: ${numList(1)})`,
      () => `list contains(list: ${numList(1)}, element: ${num(0)})`,
      () => `upper case(string: ${str(1)})`,
      () => `starts with(string: ${str(1)}, match: ${strLit(pick(['a', 'b']))})`,
      () => `replace(input: ${str(1)}, pattern: ${strLit(pick(['a', 'e']))}, replacement: "*")`,
      () => `modulo(dividend: ${num(1)}, divisor: ${int(1, 7)})`,
      () => `abs(n: ${num(1)})`,
      () => `append(list: ${numList(1)}, items: ${num(0)})`,
    ]).call()],
  ];
  const total = families.reduce((t, [w]) => t + w, 0);
  function family() {
    let r = rnd() * total;
    for (const [w, f] of families) if ((r -= w) < 0) return f;
    return families[0][1];
  }

  const cases = [];
  const seen = new Set();
  for (let tries = 0; cases.length < count && tries < count * 20; tries++) {
    const made = family()();
    const { expr, expect } = typeof made === 'string' ? { expr: made } : made;
    const vars = makeVars();
    const key = expr + JSON.stringify(vars);
    if (seen.has(key) || expr.length > 400) continue;
    seen.add(key);
    const c = { file: 'generated', line: cases.length + 1, expr, vars };
    if (expect !== undefined) c.expect = expect; // what baton must answer, from an exact oracle
    cases.push(c);
  }
  return cases;
}

// The exact value of x op y for two-place decimals, as decimal text (BigInt
// arithmetic on hundredths, so the oracle itself is exact).
export function exact(x, op, y) {
  const scaled = (t) => BigInt(t.replace('.', ''));
  let v = op === '+' ? scaled(x) + scaled(y) : op === '-' ? scaled(x) - scaled(y) : scaled(x) * scaled(y);
  const places = op === '*' ? 4 : 2;
  const neg = v < 0n;
  if (neg) v = -v;
  let digits = v.toString().padStart(places + 1, '0');
  let text = `${digits.slice(0, -places)}.${digits.slice(-places)}`.replace(/0+$/, '').replace(/\.$/, '');
  return (neg ? '-' : '') + text;
}
