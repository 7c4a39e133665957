// demo.test.mjs — end-to-end tests of the trip-booking demo: the real
// `baton serve` (its built-in HTTP invoker calling the functions), the real
// function services of examples/trip-booking/functions over HTTP, and the
// real `baton worker` for the seed's Zeebe model.
//
//   BATON_BIN=build/baton node --test tests/demo/
//
// Each scenario uses its own trip id and reads the functions' state for that
// trip (GET /bookings?tripId=...). States are awaited by bounded polling.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BATON_BIN = process.env.BATON_BIN || join(REPO, 'build', 'baton');
const EXAMPLE = join(REPO, 'examples', 'trip-booking');
const SAGA = join(EXAMPLE, 'trip-booking.bpmn');
const GROUP = join(EXAMPLE, 'group-trip.bpmn');
const SHARED = process.env.BATON_SHARED || join(REPO, '..', 'shared');
const SEED_MODEL = join(SHARED, 'reference', 'trip-booking', 'zeebe_aws_trip-booking.bpmn');
const SEED_REQUEST = join(SHARED, 'reference', 'trip-booking', 'zeebe_request.json');
const BACKOFF_MS = 2000; // retryBackoff PT2S in the model

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls fn until it returns a truthy value; at most `tries` calls. */
async function until(fn, { tries = 300, intervalMs = 100, what = 'condition' } = {}) {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await pause(intervalMs);
  }
  throw new Error(`${what}: not reached after ${tries} tries`);
}

// ---- processes ------------------------------------------------------------

const children = new Set();
process.on('exit', () => children.forEach((p) => p.kill('SIGKILL')));

/** Spawns a command and waits for `announce` (a regexp) in its output. */
async function launch(cmd, args, { env = {}, announce, cwd } = {}) {
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let output = '';
  let exit = null;
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.on('exit', (code, signal) => {
    exit = { code, signal };
    children.delete(proc);
  });
  const child = {
    proc,
    output: () => output,
    async stop() {
      if (!exit) proc.kill('SIGTERM');
      await until(() => exit, { what: `${cmd} exit` });
      return exit;
    },
  };
  if (announce) {
    const m = await until(
      () => {
        if (exit) throw new Error(`${cmd} ${args.join(' ')} exited: ${JSON.stringify(exit)}\n${output}`);
        return output.match(announce);
      },
      { what: `${cmd} ${args.join(' ')} announcing its port` },
    );
    child.url = `http://127.0.0.1:${m[1]}`;
    child.port = Number(m[1]);
  }
  return child;
}

async function startBaton(extra = []) {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-demo-'));
  const baton = await launch(BATON_BIN, ['serve', '--port', '0', '--data', dataDir, ...extra], {
    announce: /listening on http:\/\/[^\s:]+:(\d+)/,
  });
  await until(async () => (await fetch(`${baton.url}/v2/status`).catch(() => null))?.status === 204, {
    what: 'GET /v2/status 204',
  });
  baton.dataDir = dataDir;
  const stop = baton.stop;
  baton.stop = async () => {
    const exit = await stop();
    await rm(dataDir, { recursive: true, force: true });
    return exit;
  };
  return baton;
}

const startFunctions = (port = 0) =>
  launch('node', [join(EXAMPLE, 'functions', 'functions.mjs')], {
    env: { PORT: String(port), QUIET: '1' },
    announce: /functions listening on http:\/\/[^\s:]+:(\d+)/,
  });

const startTrip = (batonUrl, functionsUrl) =>
  launch('node', [join(EXAMPLE, 'functions', 'trip.mjs')], {
    env: { PORT: '0', BATON_URL: batonUrl, FUNCTIONS_URL: functionsUrl },
    announce: /trip function listening on http:\/\/[^\s:]+:(\d+)/,
  });

// ---- HTTP -----------------------------------------------------------------

async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function ok(method, url, body, expected = [200, 204]) {
  const r = await http(method, url, body);
  assert.ok([expected].flat().includes(r.status), `${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function deploy(batonUrl, file) {
  const form = new FormData();
  form.append('resources', new Blob([await readFile(file)], { type: 'application/xml' }), file.split('/').pop());
  const res = await fetch(`${batonUrl}/v2/deployments`, { method: 'POST', body: form });
  assert.equal(res.status, 200, await res.text());
}

const search = async (batonUrl, what, filter) =>
  (await ok('POST', `${batonUrl}/v2/${what}/search`, { filter, page: { limit: 1000 } })).items;

const instance = (batonUrl, key) => ok('GET', `${batonUrl}/v2/process-instances/${key}`);

async function completed(batonUrl, key) {
  return until(
    async () => {
      const i = await instance(batonUrl, key);
      return i.state === 'COMPLETED' && i;
    },
    { what: `instance ${key} COMPLETED` },
  );
}

/** The ids of the elements an instance completed, in the order they started. */
async function completedElements(batonUrl, key) {
  const items = await search(batonUrl, 'element-instances', { processInstanceKey: key });
  return items.filter((e) => e.state === 'COMPLETED').map((e) => e.elementId);
}

const tripState = async (functionsUrl, tripId) =>
  ok('GET', `${functionsUrl}/bookings?tripId=${encodeURIComponent(tripId)}`);

function trip(tripId, simulate) {
  const t = { tripId, traveller: 'Ada Lovelace', destination: 'Lisbon', startDate: '2025-06-01', endDate: '2025-06-05' };
  return simulate ? { ...t, simulate } : t;
}

// ---- the HTTP saga ----------------------------------------------------------

describe('trip-booking-http: the saga over HTTP through the built-in invoker', () => {
  let baton, functions, tripFn;

  before(async () => {
    baton = await startBaton();
    functions = await startFunctions();
    tripFn = await startTrip(baton.url, functions.url);
    await deploy(baton.url, SAGA);
  });

  after(async () => {
    for (const p of [tripFn, functions]) await p?.stop();
    if (baton) assert.deepEqual(await baton.stop(), { code: 0, signal: null }, baton.output());
  });

  const book = (t) => ok('PUT', `${tripFn.url}/trip/book`, t, 202);

  test('happy path: hotel, car and flight booked, the trip ends at "Trip booked"', async () => {
    const { processInstanceKey: key } = await book(trip('happy-1'));
    await completed(baton.url, key);
    const done = await completedElements(baton.url, key);
    assert.ok(done.includes('TripBooked'), done.join());
    assert.ok(!done.includes('TripBookingFailed'), done.join());

    const { bookings, calls } = await tripState(functions.url, 'happy-1');
    assert.deepEqual(calls.map((c) => `${c.path} ${c.status}`), ['/hotel/book 201', '/car/book 201', '/flight/book 201']);
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`), ['hotel booked', 'car booked', 'flight booked']);
    assert.equal(bookings[0].request.guest, 'Ada Lovelace');
    assert.equal(bookings[2].request.to, 'Lisbon');
    assert.equal(new Set(calls.map((c) => c.idempotencyKey)).size, 3, 'one Idempotency-Key per job');
  });

  test('flight sold out: FLIGHT_FAILED, car then hotel cancelled, nothing left booked', async () => {
    const { processInstanceKey: key } = await book(trip('sold-out-1', { flight: { fail: 'sold-out' } }));
    await completed(baton.url, key);
    const done = await completedElements(baton.url, key);
    assert.ok(done.includes('FlightFailed') && done.includes('TripBookingFailed'), done.join());
    assert.ok(!done.includes('TripBooked') && !done.includes('CancelFlight'), done.join());
    assert.ok(done.indexOf('CancelCar') < done.indexOf('CancelHotel'), done.join());

    const { bookings, calls } = await tripState(functions.url, 'sold-out-1');
    assert.deepEqual(calls.map((c) => `${c.path} ${c.status}`), [
      '/hotel/book 201',
      '/car/book 201',
      '/flight/book 409',
      '/car/cancel 200',
      '/hotel/cancel 200',
    ]);
    const [hotel, car] = bookings;
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`), ['hotel cancelled', 'car cancelled']);
    assert.equal(bookings.filter((b) => b.status === 'booked').length, 0);
    // The cancel handlers passed the ids the bookings answered.
    assert.equal(calls[3].bookingId, car.bookingId);
    assert.equal(calls[4].bookingId, hotel.bookingId);
    // The flight was answered once: a business "no" is not retried.
    assert.equal(calls.filter((c) => c.path === '/flight/book').length, 1);
    const incidents = await search(baton.url, 'incidents', { processInstanceKey: key });
    assert.equal(incidents.length, 0);
  });

  test('answers lost twice: retried with back-off under one Idempotency-Key, booked once', async () => {
    // Started with awaitCompletion to read the final variables (the variable
    // search covers running instances only).
    const done = await ok('POST', `${baton.url}/v2/process-instances`, {
      processDefinitionId: 'trip-booking-http',
      variables: { ...trip('flaky-1', { hotel: { fail: 2 } }), functionsUrl: functions.url },
      awaitCompletion: true,
      requestTimeout: 60000,
    });
    const { bookings, calls } = await tripState(functions.url, 'flaky-1');
    const hotelCalls = calls.filter((c) => c.path === '/hotel/book');
    assert.deepEqual(hotelCalls.map((c) => c.status), [503, 503, 200]);
    assert.equal(new Set(hotelCalls.map((c) => c.idempotencyKey)).size, 1, 'one Idempotency-Key for all retries');
    const hotels = bookings.filter((b) => b.kind === 'hotel');
    assert.equal(hotels.length, 1, 'booked once');
    assert.equal(hotels[0].idempotencyKey, hotelCalls[0].idempotencyKey);
    assert.equal(done.variables.hotelBookingId, hotels[0].bookingId, 'the booking of the lost answer');
    // The back-off (PT2S) separates the attempts.
    for (let i = 1; i < hotelCalls.length; i++)
      assert.ok(hotelCalls[i].at - hotelCalls[i - 1].at >= BACKOFF_MS - 50, `attempt ${i + 1} after the back-off`);
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`), ['hotel booked', 'car booked', 'flight booked']);
  });

  test('functions down: retries exhausted, incident; back up, resolved, trip booked', async () => {
    const port = functions.port;
    await functions.stop();
    const { processInstanceKey: key } = await book(trip('down-1'));
    const [incident] = await until(
      async () => {
        const found = await search(baton.url, 'incidents', { processInstanceKey: key });
        return found.length > 0 && found;
      },
      { what: 'an incident on the trip' },
    );
    assert.equal(incident.errorType, 'JOB_NO_RETRIES');
    assert.equal(incident.elementId, 'BookHotel');
    assert.equal((await instance(baton.url, key)).hasIncident, true);
    const [job] = await search(baton.url, 'jobs', { jobKey: incident.jobKey });
    assert.equal(job.retries, 0);

    functions = await startFunctions(port); // back, on the same address
    await ok('PATCH', `${baton.url}/v2/jobs/${incident.jobKey}`, { changeset: { retries: 3 } });
    await ok('POST', `${baton.url}/v2/incidents/${incident.incidentKey}/resolution`, {});
    await completed(baton.url, key);
    assert.ok((await completedElements(baton.url, key)).includes('TripBooked'));
    const { bookings, calls } = await tripState(functions.url, 'down-1');
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`), ['hotel booked', 'car booked', 'flight booked']);
    assert.equal(calls[0].idempotencyKey, incident.jobKey, 'the same job, resolved');
  });

  test('the same trip submitted twice starts one instance', async () => {
    const first = await Promise.all([1, 2, 3, 4, 5].map(() => book(trip('twice-1'))));
    assert.equal(new Set(first.map((r) => r.processInstanceKey)).size, 1, JSON.stringify(first));
    await completed(baton.url, first[0].processInstanceKey);
    const again = await book(trip('twice-1')); // after it completed, too
    assert.equal(again.processInstanceKey, first[0].processInstanceKey);

    const items = await search(baton.url, 'process-instances', { businessId: 'twice-1' });
    assert.equal(items.length, 1);
    const { bookings } = await tripState(functions.url, 'twice-1');
    assert.deepEqual(bookings.map((b) => b.kind), ['hotel', 'car', 'flight']);
    assert.deepEqual(await ok('GET', `${tripFn.url}/trip/twice-1`), {
      tripId: 'twice-1',
      processInstanceKey: first[0].processInstanceKey,
      state: 'COMPLETED',
      hasIncident: false,
      startDate: items[0].startDate,
      endDate: items[0].endDate,
    });

    // While a trip is active (here: its hotel always fails, so it cannot end),
    // baton itself refuses a second instance with its businessId; the trip
    // function answers the first.
    const stuck = await book(trip('twice-2', { hotel: { fail: 'always' } }));
    const direct = await http('POST', `${baton.url}/v2/process-instances`, {
      processDefinitionId: 'trip-booking-http',
      businessId: 'twice-2',
      variables: { ...trip('twice-2'), functionsUrl: functions.url },
    });
    assert.equal(direct.status, 409, JSON.stringify(direct.body));
    assert.equal((await book(trip('twice-2'))).processInstanceKey, stuck.processInstanceKey);
    await ok('POST', `${baton.url}/v2/process-instances/${stuck.processInstanceKey}/cancellation`, {});
    assert.equal((await search(baton.url, 'process-instances', { businessId: 'twice-2' })).length, 1);
  });
});

// ---- the seed's Zeebe model, unmodified, with `baton worker` ---------------

describe("the seed's Zeebe model (job type lambda) with a baton worker", { skip: !existsSync(SEED_MODEL) && `no ${SEED_MODEL}` }, () => {
  let baton, functions, worker;

  before(async () => {
    baton = await startBaton();
    functions = await startFunctions();
    await deploy(baton.url, SEED_MODEL);
    worker = await launch(
      BATON_BIN,
      ['worker', '--type', 'lambda', '--concurrency', '4', '--address', baton.url, '--',
       'node', join(REPO, 'tests', 'demo', 'lambda-worker.mjs')],
      { env: { FUNCTIONS_URL: functions.url } },
    );
  });

  after(async () => {
    if (worker) assert.deepEqual(await worker.stop(), { code: 0, signal: null }, worker.output());
    await functions?.stop();
    if (baton) assert.deepEqual(await baton.stop(), { code: 0, signal: null }, baton.output());
  });

  async function run(variables) {
    const { processInstanceKey: key } = await ok('POST', `${baton.url}/v2/process-instances`, {
      processDefinitionId: 'trip-booking',
      variables,
    });
    await completed(baton.url, key);
    const { bookings, calls } = await tripState(functions.url, variables.tripId);
    return { done: await completedElements(baton.url, key), bookings, calls };
  }

  test('all bookings succeed: Trip booked', async () => {
    const { done, bookings } = await run({
      tripId: 'seed-ok',
      bookHotelFailure: 'false',
      bookCarFailure: 'false',
      bookFlightFailure: 'false',
    });
    assert.ok(done.includes('EndEvent_1x8sklw'), done.join()); // "Trip booked"
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`), ['hotel booked', 'car booked', 'flight booked']);
  });

  test("zeebe_request.json (the flight fails): the cancel chain undoes the bookings", async () => {
    const request = JSON.parse(await readFile(SEED_REQUEST, 'utf8'));
    const { done, bookings, calls } = await run({ tripId: 'seed-fail', ...request });
    assert.ok(done.includes('EndEvent_0nrvuxz'), done.join()); // "Trip booking failed"
    assert.deepEqual(calls.map((c) => `${c.path} ${c.status}`), [
      '/hotel/book 201',
      '/car/book 201',
      '/flight/book 409',
      '/flight/cancel 200',
      '/car/cancel 200',
      '/hotel/cancel 200',
    ]);
    assert.equal(bookings.filter((b) => b.status === 'booked').length, 0);
  });
});

// ---- a group trip: one flight per traveller, then the payment --------------

describe('group-trip: a flight per traveller (multi-instance), then a message or a timeout', () => {
  let baton, functions;
  const travellers = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];

  before(async () => {
    // The engine's clock can be pinned (PUT /v2/clock): the payment window
    // passes without waiting for it.
    baton = await startBaton(['--clock-control', 'on']);
    functions = await startFunctions();
    await deploy(baton.url, GROUP);
  });

  after(async () => {
    await functions?.stop();
    if (baton) assert.deepEqual(await baton.stop(), { code: 0, signal: null }, baton.output());
  });

  const start = (tripId, extra = {}) =>
    ok('POST', `${baton.url}/v2/process-instances`, {
      processDefinitionId: 'group-trip',
      variables: { tripId, travellers, destination: 'Lisbon', functionsUrl: functions.url, ...extra },
    });

  /** Waits until the trip waits for its payment; its bookings then. */
  async function waitingForPayment(key, tripId) {
    await until(
      async () => {
        const els = await search(baton.url, 'element-instances', { processInstanceKey: key, elementId: 'WaitForPayment' });
        return els.some((e) => e.state === 'ACTIVE');
      },
      { what: `${tripId} waiting for its payment` },
    );
    return tripState(functions.url, tripId);
  }

  test('paid: one hotel, a flight per traveller in order, the payment message ends the trip', async () => {
    const { processInstanceKey: key } = await start('group-1');
    const { bookings, calls } = await waitingForPayment(key, 'group-1');
    const flights = bookings.filter((b) => b.kind === 'flight');
    assert.deepEqual(flights.map((f) => f.request.passenger).sort(), [...travellers].sort());
    assert.equal(new Set(calls.filter((c) => c.path === '/flight/book').map((c) => c.idempotencyKey)).size, 3,
      'one Idempotency-Key per flight');
    // The booking ids came back in the travellers' order.
    const [collected] = await search(baton.url, 'variables', { processInstanceKey: key, name: 'flights' });
    const byPassenger = Object.fromEntries(flights.map((f) => [f.request.passenger, f.bookingId]));
    assert.deepEqual(JSON.parse(collected.value), travellers.map((t) => byPassenger[t]));

    await ok('POST', `${baton.url}/v2/messages/publication`, { name: 'trip-paid', correlationKey: 'group-1' });
    await completed(baton.url, key);
    const done = await completedElements(baton.url, key);
    assert.ok(done.includes('TripBooked') && !done.includes('TripCancelled'), done.join());
    const after = await tripState(functions.url, 'group-1');
    assert.deepEqual(after.bookings.map((b) => b.status), ['booked', 'booked', 'booked', 'booked']);
  });

  test('overdue: the payment window passes on the engine clock, flights then hotel are cancelled', async () => {
    const { processInstanceKey: key } = await start('group-2', { paymentWindow: 'PT1H' });
    await waitingForPayment(key, 'group-2');
    await ok('PUT', `${baton.url}/v2/clock`, { timestamp: Date.now() + 2 * 3600 * 1000 }, 204);
    try {
      await completed(baton.url, key);
    } finally {
      await ok('POST', `${baton.url}/v2/clock/reset`, {}, 204);
    }
    const done = await completedElements(baton.url, key);
    assert.ok(done.includes('TripCancelled') && !done.includes('TripBooked'), done.join());
    const { bookings, calls } = await tripState(functions.url, 'group-2');
    assert.deepEqual(bookings.map((b) => `${b.kind} ${b.status}`).sort(),
      ['flight cancelled', 'flight cancelled', 'flight cancelled', 'hotel cancelled']);
    // The flights are undone before the hotel (the last booking first).
    const cancels = calls.filter((c) => c.path.endsWith('/cancel')).map((c) => c.path);
    assert.equal(cancels[cancels.length - 1], '/hotel/cancel', cancels.join());
    assert.ok(cancels.filter((c) => c === '/flight/cancel').length >= 1, cancels.join());
  });
});
