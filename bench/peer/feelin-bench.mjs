#!/usr/bin/env node
// feelin-bench.mjs — the peer side of the FEEL benchmark (bench/feel_bench.c):
// the same expressions over the same variables, evaluated by the npm package
// feelin (node_modules/feelin, a FEEL interpreter in JavaScript).
//
// feelin has no compiled form in its public API: evaluate(expression,
// context) parses the text (lezer-feel), builds its interpreter tree and
// runs it on every call (its parse tree depends on the context, which
// decides how names with spaces are read), and the Interpreter class is not
// exported. So what is measured here is evaluate(), the only way an
// application can run an expression with feelin; the note= field says so.
//
// Usage: node bench/peer/feelin-bench.mjs [--n N]   (default 10,000: about
// 0.2 ms each, a million evaluations per expression would take minutes)
// Prints one line per expression:
//   peer=feelin expr="amount > 100" ns_per_eval=2345.6 n=10000 note=evaluate-parses-each-call
import { evaluate } from 'feelin';

const args = process.argv.slice(2);
const n = args[0] === '--n' ? Number(args[1]) : 10000;

const variables = {
  amount: 250,
  price: 12.5,
  quantity: 3,
  order: { id: 'A-1', date: '2024-03-15', customer: { name: 'Ada', address: { city: 'Berlin', zip: '10115' } } },
  items: [
    { name: 'pen', price: 2.5 }, { name: 'book', price: 18 },
    { name: 'lamp', price: 35 }, { name: 'mug', price: 8 },
    { name: 'desk', price: 240 }, { name: 'cable', price: 4.99 },
    { name: 'chair', price: 120 }, { name: 'pad', price: 3 },
    { name: 'ink', price: 11 }, { name: 'bag', price: 25 },
  ],
};

// The same rows as feel_bench.c, with the result each must give.
const cases = [
  ['amount > 100', true],
  ['order.customer.address.city', 'Berlin'],
  ['{total: price * quantity, currency: "EUR"}', { total: 37.5, currency: 'EUR' }],
  ['items[price > 10]', variables.items.filter((i) => i.price > 10)],
  ['sum(items.price)', 467.49],
  ['date(order.date) + duration("P1D")', '2024-03-16'],
];

function plain(v) {
  if (v && typeof v.toISO === 'function') return v.toISO();
  return v;
}

let status = 0;
for (const [expr, expect] of cases) {
  const got = plain(evaluate(expr, variables).value);
  const ok = typeof expect === 'number' ? Math.abs(got - expect) < 1e-9 : JSON.stringify(got) === JSON.stringify(expect);
  if (!ok) {
    console.error(`feelin-bench: ${expr}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expect)}`);
    status = 1;
    continue;
  }
  for (let i = 0; i < n / 10; i++) evaluate(expr, variables); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) evaluate(expr, variables);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`peer=feelin expr=${JSON.stringify(expr)} ns_per_eval=${ns.toFixed(1)} n=${n} note=evaluate-parses-each-call`);
}
process.exit(status);
