// saga_http.mjs — the trip-booking saga through baton's built-in HTTP
// invoker against the local function services: sagas completed per second
// and start-to-end latency (p50, p99), without and with failures.
//
//   cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j
//   BATON_BIN=build/baton node bench/saga_http.mjs [--sagas 2000] [--concurrency 64]
//
// It starts a real `baton serve` (a fresh data directory: SQLite, fsync on
// every commit) and the real functions (examples/trip-booking/functions/
// functions.mjs), deploys examples/trip-booking/trip-booking.bpmn, and
// keeps --concurrency sagas in flight: each is one POST /v2/process-instances
// with awaitCompletion, so its latency is from the request to the end of the
// instance (three calls to the functions; with compensation, five). Scenarios:
//   no failures         every trip booked
//   20% sold out        a fifth of the flights sold out: FLIGHT_FAILED, car and
//                       hotel cancelled
//   10% retried         a tenth of the hotels lose their first answer: retried
//                       after the model's back-off (PT2S), booked once
// After each scenario the functions' state is checked: every sold-out trip has
// nothing left booked, every other trip exactly one hotel, car and flight.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BATON_BIN = process.env.BATON_BIN || join(REPO, 'build', 'baton');
const { values: opts } = parseArgs({
  options: { sagas: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '64' } },
});
const SAGAS = Number(opts.sagas);
const CONCURRENCY = Number(opts.concurrency);

function launch(cmd, args, env, announce) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolveUrl, reject) => {
    const onData = (d) => {
      output += d;
      const m = output.match(announce);
      if (m) resolveUrl({ proc, url: `http://127.0.0.1:${m[1]}` });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`${cmd} exited (${code}):\n${output}`)));
  });
}

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} → ${res.status} ${text}`);
  return JSON.parse(text);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function scenario(baton, functionsUrl, name, simulateFor, count = SAGAS) {
  const latencies = [];
  const soldOut = new Set();
  let next = 0;
  const started = performance.now();
  async function lane() {
    while (next < count) {
      const i = next++;
      const tripId = `${name.replace(/\W+/g, '-')}-${i}`;
      const simulate = simulateFor(i);
      if (simulate?.flight) soldOut.add(tripId);
      const t0 = performance.now();
      const r = await post(`${baton}/v2/process-instances`, {
        processDefinitionId: 'trip-booking-http',
        variables: { tripId, traveller: 'Ada', destination: 'Lisbon', functionsUrl, ...(simulate && { simulate }) },
        awaitCompletion: true,
        requestTimeout: 120000,
      });
      latencies.push(performance.now() - t0);
      const failed = r.variables.flightBookingId == null;
      if (failed !== soldOut.has(tripId)) throw new Error(`trip ${tripId} ended wrongly: ${JSON.stringify(r.variables)}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;

  // Check the functions' state: nothing left booked for a failed trip, exactly one of each otherwise.
  const { bookings } = await (await fetch(`${functionsUrl}/bookings`)).json();
  const byTrip = new Map();
  for (const b of bookings.filter((b) => b.tripId.startsWith(name.replace(/\W+/g, '-') + '-')))
    byTrip.set(b.tripId, [...(byTrip.get(b.tripId) ?? []), b]);
  for (const [tripId, bs] of byTrip) {
    const booked = bs.filter((b) => b.status === 'booked').map((b) => b.kind).sort().join();
    const want = soldOut.has(tripId) ? '' : 'car,flight,hotel';
    if (booked !== want || bs.length !== (soldOut.has(tripId) ? 2 : 3))
      throw new Error(`trip ${tripId}: ${JSON.stringify(bs.map((b) => [b.kind, b.status]))}`);
  }
  if (byTrip.size !== count) throw new Error(`${byTrip.size} trips booked anything, expected ${count}`);

  latencies.sort((a, b) => a - b);
  return { name, sagasPerSecond: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const dataDir = await mkdtemp(join(tmpdir(), 'baton-bench-saga-'));
const baton = await launch(BATON_BIN, ['serve', '--port', '0', '--data', dataDir], {}, /listening on http:\/\/[^\s:]+:(\d+)/);
const functions = await launch('node', [join(REPO, 'examples', 'trip-booking', 'functions', 'functions.mjs')],
  { PORT: '0', QUIET: '1' }, /functions listening on http:\/\/[^\s:]+:(\d+)/);
try {
  const form = new FormData();
  const model = join(REPO, 'examples', 'trip-booking', 'trip-booking.bpmn');
  form.append('resources', new Blob([await readFile(model)]), 'trip-booking.bpmn');
  const dep = await fetch(`${baton.url}/v2/deployments`, { method: 'POST', body: form });
  if (!dep.ok) throw new Error(`deploy: ${dep.status} ${await dep.text()}`);

  console.log(`trip-booking saga over HTTP: ${SAGAS} sagas per scenario, ${CONCURRENCY} in flight (${BATON_BIN})`);
  const results = [];
  await scenario(baton.url, functions.url, 'warm-up', () => null, Math.min(SAGAS, 200));
  results.push(await scenario(baton.url, functions.url, 'no failures', () => null));
  results.push(await scenario(baton.url, functions.url, '20% sold out', (i) => (i % 5 === 0 ? { flight: { fail: 'sold-out' } } : null)));
  results.push(await scenario(baton.url, functions.url, '10% retried', (i) => (i % 10 === 0 ? { hotel: { fail: 1 } } : null)));
  console.log('scenario        sagas/s   p50 ms   p99 ms');
  for (const r of results)
    console.log(`${r.name.padEnd(14)} ${r.sagasPerSecond.toFixed(0).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}`);
} finally {
  functions.proc.kill('SIGTERM');
  baton.proc.kill('SIGTERM');
  await new Promise((r) => baton.proc.on('exit', r));
  await rm(dataDir, { recursive: true, force: true });
}
