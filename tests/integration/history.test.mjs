// history.test.mjs — baton's history endpoint (not in the Camunda spec):
// POST /v2/process-instances/{key}/history/search answers the instance's
// records from the record log, in position order, paged.
//
// The trip saga is driven by hand (one job at a time, no workers) so the
// order of its records is fixed: the flight throws FLIGHT_FAILED, the car's
// cancellation fails with no retries left (an incident), the incident is
// resolved after the job's retries are raised, then the cancellations
// complete and the instance ends at TripBookingFailed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODELS, client, raw, until, untilState, withServer } from './harness.mjs';

const history = (s, key, body = {}) => raw(s, 'POST', `/v2/process-instances/${key}/history/search`, { body });

/** Activates one job of `type`, waiting until there is one. */
function untilJob(c, type) {
  return until(async () => {
    const r = await c.activateJobs({ type, timeout: 30000, maxJobsToActivate: 1, requestTimeout: -1, worker: 'it' });
    return r.jobs[0] ?? null;
  }, { what: `a ${type} job` });
}

/** Index of the first record matching pred at or after `from`; asserts there is one. */
function indexOf(items, pred, what, from = 0) {
  const i = items.findIndex((r, n) => n >= from && pred(r));
  assert.ok(i >= 0, `${what} is in the history: ${JSON.stringify(items.map((r) => [r.valueType, r.intent, r.value.elementId]))}`);
  return i;
}

async function failedTrip(s) {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.trip]);
  const { processInstanceKey: key } = await c.createProcessInstance({ processDefinitionId: 'trip-booking' });
  await c.completeJob({ jobKey: (await untilJob(c, 'book-hotel')).jobKey, variables: { hotel: 'ok' } });
  await c.completeJob({ jobKey: (await untilJob(c, 'book-car')).jobKey, variables: { car: 'ok' } });
  const flight = await untilJob(c, 'book-flight');
  await c.throwJobError({ jobKey: flight.jobKey, errorCode: 'FLIGHT_FAILED', errorMessage: 'sold out' });
  const cancelCar = await untilJob(c, 'cancel-car');
  await c.failJob({ jobKey: cancelCar.jobKey, retries: 0, errorMessage: 'car desk closed' });
  // The incident's key, from the history itself (the log is read at once).
  const created = await until(async () => {
    const r = await history(s, key);
    assert.equal(r.status, 200, r.text);
    return r.json.items.find((x) => x.valueType === 'INCIDENT' && x.intent === 'CREATED');
  }, { what: 'an INCIDENT CREATED record' });
  await c.updateJob({ jobKey: cancelCar.jobKey, changeset: { retries: 1 } });
  await c.resolveIncident({ incidentKey: created.key });
  await c.completeJob({ jobKey: (await untilJob(c, 'cancel-car')).jobKey });
  await c.completeJob({ jobKey: (await untilJob(c, 'cancel-hotel')).jobKey });
  await untilState(c, key, 'COMPLETED');
  return { key, flight, cancelCar };
}

test('history: a failed trip\'s records, in order', withServer(async (s) => {
  const { key, flight, cancelCar } = await failedTrip(s);
  const r = await history(s, key);
  assert.equal(r.status, 200, r.text);
  const { items, page } = r.json;
  assert.equal(page.totalItems, items.length);
  assert.ok(items.length > 20, `a trip has many records, got ${items.length}`);
  for (let i = 1; i < items.length; i++)
    assert.ok(items[i].position > items[i - 1].position, 'positions grow');
  for (const x of items) {
    assert.match(x.key, /^[1-9][0-9]*$/);
    assert.match(x.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    assert.equal(typeof x.valueType, 'string');
    assert.equal(typeof x.intent, 'string');
    assert.equal(typeof x.value, 'object');
    assert.notEqual(x.value, null);
  }
  const pi = (intent, elementId) => (x) =>
    x.valueType === 'PROCESS_INSTANCE' && x.intent === intent && x.value.elementId === elementId;

  const thrown = indexOf(items, (x) => x.valueType === 'JOB' && x.intent === 'ERROR_THROWN', 'JOB ERROR_THROWN');
  assert.equal(items[thrown].key, flight.jobKey);
  assert.equal(items[thrown].value.type, 'book-flight');
  const car = indexOf(items, pi('ELEMENT_ACTIVATED', 'CancelCar'), 'CancelCar activated', thrown);
  const hotel = indexOf(items, pi('ELEMENT_ACTIVATED', 'CancelHotel'), 'CancelHotel activated', car);
  const failed = indexOf(items, (x) => x.valueType === 'JOB' && x.intent === 'FAILED' && x.key === cancelCar.jobKey,
    'JOB FAILED of cancel-car', car);
  const raised = indexOf(items, (x) => x.valueType === 'INCIDENT' && x.intent === 'CREATED', 'INCIDENT CREATED', failed);
  const resolved = indexOf(items, (x) => x.valueType === 'INCIDENT' && x.intent === 'RESOLVED', 'INCIDENT RESOLVED', raised);
  assert.equal(items[resolved].key, items[raised].key, 'the same incident is raised and resolved');
  assert.ok(hotel > resolved, 'the hotel is cancelled after the car, which waited for the incident');
  // The process's own completion is the instance's last element record.
  const done = indexOf(items, pi('ELEMENT_COMPLETED', 'trip-booking'), 'the process completed', hotel);
  assert.equal(items[done].key, key);
  assert.ok(!items.slice(done + 1).some((x) => x.valueType === 'PROCESS_INSTANCE'), 'nothing runs after the end');
  const end = indexOf(items, pi('ELEMENT_COMPLETED', 'TripBookingFailed'), 'TripBookingFailed completed', hotel);
  assert.ok(end < done);
  assert.ok(!items.some(pi('ELEMENT_ACTIVATED', 'TripBooked')), 'the trip was not booked');
}));

test('history: pages are slices of the whole, totalItems counts all', withServer(async (s) => {
  const { key } = await failedTrip(s);
  const all = (await history(s, key)).json;
  const n = all.page.totalItems;
  const pages = [];
  for (let from = 0; from < n; from += 7) {
    const r = await history(s, key, { page: { from, limit: 7 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.page.totalItems, n);
    assert.equal(r.json.items.length, Math.min(7, n - from));
    pages.push(...r.json.items);
  }
  assert.deepEqual(pages, all.items);
  const past = await history(s, key, { page: { from: n + 5, limit: 10 } });
  assert.equal(past.status, 200);
  assert.deepEqual(past.json, { items: [], page: { totalItems: n } });
  // An empty body is the first page of 1000.
  const empty = await raw(s, 'POST', `/v2/process-instances/${key}/history/search`);
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json, all);
}));

test('history: unknown instance 404, bad pages 400', withServer(async (s) => {
  const r = await history(s, '2251799813685999');
  assert.equal(r.status, 404, r.text);
  assert.equal((await history(s, 'abc')).status, 400);
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.oneTask]);
  const { processInstanceKey: key } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  for (const page of [{ limit: 0 }, { limit: 10001 }, { from: -1 }, { after: '1' }, 'x'])
    assert.equal((await history(s, key, { page })).status, 400, JSON.stringify(page));
  assert.equal((await history(s, key, { filter: {} })).status, 400);
  const ok = await history(s, key, { page: { limit: 10000 } });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.json.items.some((x) => x.valueType === 'JOB' && x.intent === 'CREATED'), 'an open job is in the history');
}));
