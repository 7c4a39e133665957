// api.test.mjs — the REST API v2 through the official Camunda client against
// a real `baton serve`: deployments, instances, variables, job workers, the
// trip-booking saga, retries and incidents, cancellation, business ids, long
// polling. Tests whose name ends in "[search]" also need the search endpoints
// (POST /v2/*/search, GET /v2/process-definitions/{key}/xml).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MODELS, NOW, client, getInstance, metric, raw, rejectsWith, until, untilState, withServer,
  worker,
} from './harness.mjs';

const KEY = /^[1-9][0-9]*$/;

async function deployOneTask(c) {
  const d = await c.deployResourcesFromFiles([MODELS.oneTask]);
  return d.processes[0].processDefinitionKey;
}

/** Activates one job of `type` at once (no long polling); null if none. */
async function activateOne(c, type, extra = {}) {
  const r = await c.activateJobs({
    type, timeout: 30000, maxJobsToActivate: 1, requestTimeout: -1, worker: 'it', ...extra,
  });
  return r.jobs[0] ?? null;
}

/** Waits until a job of `type` can be activated; returns it. */
function untilJob(c, type, opts = {}) {
  return until(() => activateOne(c, type), { tries: 200, intervalMs: 50, what: `a ${type} job`, ...opts });
}

async function searchAll(method, c, filter) {
  const r = await c[method]({ filter, page: { limit: 1000 } }, NOW);
  assert.ok(Array.isArray(r.items), `${method} answers items[]: ${JSON.stringify(r)}`);
  return r.items;
}

// ---- deployments -------------------------------------------------------------

test('deploy the trip saga and one-task: the deployment result', withServer(async (s) => {
  const c = client(s);
  const d = await c.deployResourcesFromFiles([MODELS.trip, MODELS.oneTask]);
  assert.match(d.deploymentKey, KEY);
  assert.equal(d.tenantId, '<default>');
  assert.equal(d.deployments.length, 2);
  const byId = Object.fromEntries(d.deployments.map((x) => [x.processDefinition.processDefinitionId, x.processDefinition]));
  assert.deepEqual(Object.keys(byId).sort(), ['one-task', 'trip-booking']);
  assert.equal(byId['trip-booking'].resourceName, 'trip-booking-jobs.bpmn');
  assert.equal(byId['one-task'].resourceName, 'one-task.bpmn');
  for (const p of Object.values(byId)) {
    assert.equal(p.processDefinitionVersion, 1);
    assert.equal(p.tenantId, '<default>');
    assert.match(p.processDefinitionKey, KEY);
  }
  assert.notEqual(byId['trip-booking'].processDefinitionKey, byId['one-task'].processDefinitionKey);
  // The client's view of the same answer.
  assert.deepEqual(d.processes.map((p) => p.processDefinitionId).sort(), ['one-task', 'trip-booking']);
}));

test('deploy a broken BPMN file: 400 problem naming the element id and line; nothing deployed', withServer(async (s) => {
  const c = client(s);
  const e = await rejectsWith(c.deployResourcesFromFiles([MODELS.bad('multi-instance.bpmn')]), 400, 'deploy multi-instance.bpmn');
  assert.match(e.detail, /\bEach\b/, e.detail);
  assert.match(e.detail, /line 5\b/, e.detail);
  assert.equal(e.instance, '/v2/deployments');
  assert.equal(typeof e.title, 'string');
  assert.equal(typeof e.type, 'string');

  // All or nothing: a good model next to a bad one is not deployed either.
  const e2 = await rejectsWith(
    c.deployResourcesFromFiles([MODELS.oneTask, MODELS.bad('missing-job-type.bpmn')]), 400, 'deploy good + bad');
  assert.match(e2.detail, /\bT\b.*missing job type/, e2.detail);
  assert.match(e2.detail, /line 5\b/, e2.detail);
  await rejectsWith(c.createProcessInstance({ processDefinitionId: 'one-task' }), 404,
    'start one-task after a rejected deployment');
}));

test('deploy the same file twice: same version; a changed file: version 2', withServer(async (s) => {
  const c = client(s);
  const first = (await c.deployResourcesFromFiles([MODELS.oneTask])).processes[0];
  const again = (await c.deployResourcesFromFiles([MODELS.oneTask])).processes[0];
  assert.equal(again.processDefinitionVersion, 1);
  assert.equal(again.processDefinitionKey, first.processDefinitionKey);

  const dir = await mkdtemp(join(tmpdir(), 'baton-it-model-'));
  try {
    const xml = await readFile(MODELS.oneTask, 'utf8');
    const changed = xml.replace('name="One task"', 'name="One task, revised"');
    assert.notEqual(changed, xml);
    const file = join(dir, 'one-task.bpmn');
    await writeFile(file, changed);
    const second = (await c.deployResourcesFromFiles([file])).processes[0];
    assert.equal(second.processDefinitionId, 'one-task');
    assert.equal(second.processDefinitionVersion, 2);
    assert.notEqual(second.processDefinitionKey, first.processDefinitionKey);

    // Latest by default; an explicit version picks the old one.
    const latest = await c.createProcessInstance({ processDefinitionId: 'one-task' });
    assert.equal(latest.processDefinitionVersion, 2);
    assert.equal(latest.processDefinitionKey, second.processDefinitionKey);
    const v1 = await c.createProcessInstance({ processDefinitionId: 'one-task', processDefinitionVersion: 1 });
    assert.equal(v1.processDefinitionVersion, 1);
    assert.equal(v1.processDefinitionKey, first.processDefinitionKey);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}));

test('process definitions: search and XML [search]', withServer(async (s) => {
  const c = client(s);
  const d = await c.deployResourcesFromFiles([MODELS.trip, MODELS.oneTask]);
  const items = await searchAll('searchProcessDefinitions', c, {});
  assert.deepEqual(items.map((p) => p.processDefinitionId).sort(), ['one-task', 'trip-booking']);
  const trip = d.processes.find((p) => p.processDefinitionId === 'trip-booking');
  const found = items.find((p) => p.processDefinitionId === 'trip-booking');
  assert.equal(found.processDefinitionKey, trip.processDefinitionKey);
  assert.equal(found.version, 1);
  assert.equal(found.resourceName, 'trip-booking-jobs.bpmn');
  const xml = await c.getProcessDefinitionXml({ processDefinitionKey: trip.processDefinitionKey }, NOW);
  const text = typeof xml === 'string' ? xml : await new Response(xml).text();
  assert.equal(text, await readFile(MODELS.trip, 'utf8'));
}));

// ---- starting instances, variables -------------------------------------------------

test('start by process id and by definition key', withServer(async (s) => {
  const c = client(s);
  const defKey = await deployOneTask(c);
  const byId = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const byKey = await c.createProcessInstance({ processDefinitionKey: defKey });
  for (const pi of [byId, byKey]) {
    assert.match(pi.processInstanceKey, KEY);
    assert.equal(pi.processDefinitionKey, defKey);
    assert.equal(pi.processDefinitionId, 'one-task');
    assert.equal(pi.processDefinitionVersion, 1);
    const got = await getInstance(c, pi.processInstanceKey);
    assert.equal(got.state, 'ACTIVE');
    assert.equal(got.processInstanceKey, pi.processInstanceKey);
    assert.equal(got.processDefinitionKey, defKey);
    assert.equal(got.hasIncident, false);
  }
  assert.notEqual(byId.processInstanceKey, byKey.processInstanceKey);
  await rejectsWith(c.createProcessInstance({ processDefinitionId: 'no-such-process' }), 404, 'unknown process id');
}));

test('variables round trip: decimals stay exact, nested objects survive', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const vars = {
    amount: 0.1,
    nested: { list: [1, { deep: 'x', n: null }, [true, false]], empty: {}, text: 'häagen "dazs"\n' },
    negative: -12.5,
  };
  const pi = await c.createProcessInstance({ processDefinitionId: 'one-task', variables: vars });
  // Set more variables on the instance scope (PUT /v2/element-instances/{key}/variables).
  await c.createElementInstanceVariables({ elementInstanceKey: pi.processInstanceKey, variables: { late: { sum: 0.3 } } });

  // The raw activation answer: 0.1 is written as 0.1, not as its binary double.
  const r = await raw(s, 'POST', '/v2/jobs/activation', {
    body: { type: 'work', timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 },
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /"amount":\s*0\.1[,}\s]/, r.text);
  assert.match(r.text, /"sum":\s*0\.3[,}\s]/, r.text);

  // Hand the job back (no back-off) and take it again through the client,
  // which sees the same values.
  await c.failJob({ jobKey: r.json.jobs[0].jobKey, retries: 3, retryBackOff: 0 });
  const job = await untilJob(c, 'work');
  assert.equal(job.jobKey, r.json.jobs[0].jobKey);
  assert.deepEqual(job.variables, { ...vars, late: { sum: 0.3 } });
  await c.completeJob({ jobKey: job.jobKey, variables: { result: { total: 0.30000000000000004, ok: true } } });
  await untilState(c, pi.processInstanceKey, 'COMPLETED');
}));

test('awaitCompletion returns the final variables; fetchVariables filters them', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  worker(c, 'work', (job) => job.complete({ out: 'done', score: 0.1, seen: job.variables.in }));
  const all = await c.createProcessInstance({
    processDefinitionId: 'one-task', variables: { in: { a: 1 } }, awaitCompletion: true, requestTimeout: 20000,
  });
  assert.deepEqual(all.variables, { in: { a: 1 }, out: 'done', score: 0.1, seen: { a: 1 } });
  const some = await c.createProcessInstance({
    processDefinitionId: 'one-task', variables: { in: 2 }, awaitCompletion: true, requestTimeout: 20000,
    fetchVariables: ['out', 'seen'],
  });
  assert.deepEqual(some.variables, { out: 'done', seen: 2 });
  assert.equal((await getInstance(c, some.processInstanceKey)).state, 'COMPLETED');
}));

test('awaitCompletion on a process that waits: 504 problem after requestTimeout', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const e = await rejectsWith(c.createProcessInstance({
    processDefinitionId: 'one-task', awaitCompletion: true, requestTimeout: 300,
  }), 504, 'awaitCompletion without a worker');
  assert.equal(typeof e.detail, 'string');
  assert.equal(e.instance, '/v2/process-instances');
  // The instance was created and still waits for its job.
  const job = await untilJob(c, 'work');
  assert.equal((await getInstance(c, job.processInstanceKey)).state, 'ACTIVE');
}));

// ---- job workers and the trip saga ---------------------------------------------------

test('a job worker completes one-task instances', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const seen = [];
  worker(c, 'work', (job) => {
    seen.push(job.processInstanceKey);
    assert.equal(job.type, 'work');
    assert.equal(job.elementId, 'work');
    return job.complete({ worked: true });
  });
  const keys = [];
  for (let i = 0; i < 5; i++)
    keys.push((await c.createProcessInstance({ processDefinitionId: 'one-task', variables: { i } })).processInstanceKey);
  for (const k of keys) {
    const pi = await untilState(c, k, 'COMPLETED');
    assert.ok(pi.endDate, 'a completed instance has an endDate');
  }
  assert.deepEqual([...seen].sort(), [...keys].sort());
}));

/** Workers for every job type of the trip saga; `flight` decides the flight. */
function tripWorkers(c, flight) {
  const order = [];
  const record = (job) => order.push(`${job.type}:${job.processInstanceKey}`);
  for (const t of ['book-hotel', 'book-car'])
    worker(c, t, (job) => { record(job); return job.complete({ [t]: 'ok' }); });
  worker(c, 'book-flight', (job) => { record(job); return flight(job); });
  for (const t of ['cancel-hotel', 'cancel-car', 'cancel-flight'])
    worker(c, t, (job) => { record(job); return job.complete({ [t]: 'done' }); });
  return (key) => order.filter((x) => x.endsWith(`:${key}`)).map((x) => x.split(':')[0]);
}

test('trip saga: the happy path', withServer(async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.trip]);
  const orderOf = tripWorkers(c, (job) => job.complete({ flight: 'LH123' }));
  const pi = await c.createProcessInstance({
    processDefinitionId: 'trip-booking', variables: { trip: 'Paris' }, awaitCompletion: true, requestTimeout: 20000,
  });
  assert.deepEqual(orderOf(pi.processInstanceKey), ['book-hotel', 'book-car', 'book-flight']);
  assert.equal(pi.variables.flight, 'LH123');
  assert.equal(pi.variables['book-hotel'], 'ok');
  assert.equal((await getInstance(c, pi.processInstanceKey)).state, 'COMPLETED');
}));

test('trip saga: FLIGHT_FAILED is caught, car then hotel are cancelled, ends at TripBookingFailed', withServer(async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.trip]);
  const orderOf = tripWorkers(c, (job) => job.error({ errorCode: 'FLIGHT_FAILED', errorMessage: 'sold out' }));
  const { processInstanceKey: key } = await c.createProcessInstance({ processDefinitionId: 'trip-booking' });
  const pi = await untilState(c, key, 'COMPLETED');
  assert.equal(pi.hasIncident, false);
  assert.deepEqual(orderOf(key), ['book-hotel', 'book-car', 'book-flight', 'cancel-car', 'cancel-hotel']);
}));

test('trip saga: the failed trip\'s element instances [search]', withServer(async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.trip]);
  tripWorkers(c, (job) => job.error({ errorCode: 'FLIGHT_FAILED' }));
  const { processInstanceKey: key } = await c.createProcessInstance({ processDefinitionId: 'trip-booking' });
  await untilState(c, key, 'COMPLETED');
  const items = await searchAll('searchElementInstances', c, { processInstanceKey: key });
  const of = (id) => items.filter((e) => e.elementId === id);
  assert.equal(of('TripBookingFailed').length, 1, JSON.stringify(items));
  assert.equal(of('TripBookingFailed')[0].state, 'COMPLETED');
  assert.equal(of('TripBookingFailed')[0].type, 'END_EVENT');
  assert.equal(of('TripBooked').length, 0);
  assert.equal(of('BookFlight')[0].state, 'TERMINATED');
  assert.equal(of('BookFlight')[0].type, 'SERVICE_TASK');
  assert.equal(of('FlightFailed')[0].type, 'BOUNDARY_EVENT');
  assert.equal(of('CancelCar').length, 1);
  assert.equal(of('CancelHotel').length, 1);
  assert.equal(of('CancelFlight').length, 0, 'the flight was never booked: nothing to cancel');
  for (const e of items) assert.equal(e.processInstanceKey, key);
  // The cancellations ran car first (element instance keys grow with time).
  assert.ok(BigInt(of('CancelCar')[0].elementInstanceKey) < BigInt(of('CancelHotel')[0].elementInstanceKey));
  const inst = await searchAll('searchProcessInstances', c, { processInstanceKey: key });
  assert.equal(inst.length, 1);
  assert.equal(inst[0].state, 'COMPLETED');
}));

test('element instances searched across instances, by element id [search]', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  worker(c, 'work', (job) => job.complete());
  const keys = [];
  for (let i = 0; i < 3; i++)
    keys.push((await c.createProcessInstance({ processDefinitionId: 'one-task', awaitCompletion: true, requestTimeout: 20000 })).processInstanceKey);
  // No processInstanceKey in the filter: the spec makes every filter field optional.
  const ends = await searchAll('searchElementInstances', c, { elementId: 'end' });
  assert.deepEqual(ends.map((e) => e.processInstanceKey).sort(), [...keys].sort());
  for (const e of ends) assert.equal(e.state, 'COMPLETED');
}));

// ---- failures, retries, incidents ---------------------------------------------------------

test('fail with retries and retryBackOff: the job comes back after the back-off, same key', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  assert.equal(job.retries, 3);
  await c.failJob({ jobKey: job.jobKey, retries: 2, retryBackOff: 4000, errorMessage: 'try later' });
  // Right after the failure the job is backing off: nothing to activate.
  assert.equal(await activateOne(c, 'work'), null, 'a job in its back-off was activated');
  // Later it is activatable again, with the same key and the new retries.
  const again = await untilJob(c, 'work', { tries: 300, intervalMs: 100 });
  assert.equal(again.jobKey, job.jobKey);
  assert.equal(again.retries, 2);
  await c.completeJob({ jobKey: again.jobKey });
  await untilState(c, processInstanceKey, 'COMPLETED');
}));

test('fail with no retries left: the instance has an incident, the job is not activatable', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  await c.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: 'out of luck' });
  const pi = await until(async () => {
    const p = await getInstance(c, processInstanceKey);
    return p.hasIncident ? p : null;
  }, { what: 'hasIncident' });
  assert.equal(pi.state, 'ACTIVE');
  assert.equal(await activateOne(c, 'work'), null);
}));

test('retries 0 → incident → updateJob retries → resolveIncident → completed [search]', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  await c.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: 'out of luck' });
  const incidents = await until(async () => {
    const items = await searchAll('searchIncidents', c, { processInstanceKey });
    return items.length ? items : null;
  }, { what: 'an incident in searchIncidents' });
  assert.equal(incidents.length, 1);
  const inc = incidents[0];
  assert.equal(inc.errorType, 'JOB_NO_RETRIES');
  assert.equal(inc.state, 'ACTIVE');
  assert.equal(inc.jobKey, job.jobKey);
  assert.equal(inc.elementId, 'work');
  assert.equal(inc.processInstanceKey, processInstanceKey);
  assert.equal(inc.errorMessage, 'out of luck');
  assert.match(inc.incidentKey, KEY);

  await c.updateJob({ jobKey: job.jobKey, changeset: { retries: 1 } });
  await c.resolveIncident({ incidentKey: inc.incidentKey });
  const seen = [];
  worker(c, 'work', (j) => { seen.push(j.jobKey); return j.complete(); });
  const pi = await untilState(c, processInstanceKey, 'COMPLETED');
  assert.equal(pi.hasIncident, false);
  assert.deepEqual(seen, [job.jobKey]);
  const after = await searchAll('searchIncidents', c, { processInstanceKey });
  assert.equal(after.length, 1);
  assert.equal(after[0].state, 'RESOLVED');
}));

test('an unhandled BPMN error: the instance gets an incident', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  await c.throwJobError({ jobKey: job.jobKey, errorCode: 'NOBODY_CATCHES_THIS', errorMessage: 'nope' });
  const pi = await until(async () => {
    const p = await getInstance(c, processInstanceKey);
    return p.hasIncident ? p : null;
  }, { what: 'hasIncident' });
  assert.equal(pi.state, 'ACTIVE');
}));

test('an unhandled BPMN error: UNHANDLED_ERROR_EVENT incident [search]', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  await c.throwJobError({ jobKey: job.jobKey, errorCode: 'NOBODY_CATCHES_THIS', errorMessage: 'nope' });
  const items = await until(async () => {
    const i = await searchAll('searchIncidents', c, { processInstanceKey });
    return i.length ? i : null;
  }, { what: 'an incident in searchIncidents' });
  assert.equal(items.length, 1);
  assert.equal(items[0].errorType, 'UNHANDLED_ERROR_EVENT');
  assert.equal(items[0].elementId, 'work');
  assert.equal(items[0].state, 'ACTIVE');
  const jobs = await searchAll('searchJobs', c, { processInstanceKey });
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].jobKey, job.jobKey);
  assert.equal(jobs[0].state, 'ERROR_THROWN');
}));

test('the variables of a completed instance are searchable, values as JSON text [search]', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task', variables: { a: 0.1 } });
  const job = await untilJob(c, 'work');
  const liveVars = await searchAll('searchVariables', c, { processInstanceKey });
  assert.deepEqual(liveVars.map((v) => [v.name, v.value]), [['a', '0.1']]);
  assert.equal(liveVars[0].scopeKey, processInstanceKey);
  assert.equal(liveVars[0].isTruncated, false);
  await c.completeJob({ jobKey: job.jobKey, variables: { b: { c: [1] } } });
  await untilState(c, processInstanceKey, 'COMPLETED');
  const vars = await searchAll('searchVariables', c, { processInstanceKey });
  const byName = Object.fromEntries(vars.map((v) => [v.name, v.value]));
  assert.deepEqual(byName, { a: '0.1', b: '{"c":[1]}' });
}));

test('the job of a completed instance stays searchable as COMPLETED [search]', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  const live = await searchAll('searchJobs', c, { processInstanceKey });
  assert.equal(live.length, 1);
  assert.equal(live[0].jobKey, job.jobKey);
  assert.equal(live[0].state, 'CREATED');
  await c.completeJob({ jobKey: job.jobKey });
  await untilState(c, processInstanceKey, 'COMPLETED');
  const jobs = await searchAll('searchJobs', c, { processInstanceKey });
  assert.equal(jobs.length, 1, 'the completed job is listed');
  assert.equal(jobs[0].jobKey, job.jobKey);
  assert.equal(jobs[0].state, 'COMPLETED');
  assert.equal(jobs[0].type, 'work');
}));

// ---- cancellation, business ids, long polling -------------------------------------------

test('cancel an instance: TERMINATED, its job can no longer be completed (404)', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const { processInstanceKey } = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await untilJob(c, 'work');
  await c.cancelProcessInstance({ processInstanceKey });
  const pi = await getInstance(c, processInstanceKey);
  assert.equal(pi.state, 'TERMINATED');
  assert.ok(pi.endDate);
  await rejectsWith(c.completeJob({ jobKey: job.jobKey }), 404, 'complete the job of a cancelled instance');
  await rejectsWith(c.cancelProcessInstance({ processInstanceKey }), 404, 'cancel a terminated instance');
  assert.equal(await activateOne(c, 'work'), null);
}));

test('duplicate businessId: 409 while the first is active; a new instance after it completed', withServer(async (s) => {
  const c = client(s);
  await deployOneTask(c);
  const first = await c.createProcessInstance({ processDefinitionId: 'one-task', businessId: 'order-42' });
  assert.equal(first.businessId, 'order-42');
  const e = await rejectsWith(
    c.createProcessInstance({ processDefinitionId: 'one-task', businessId: 'order-42' }), 409, 'duplicate businessId');
  assert.equal(typeof e.detail, 'string');
  assert.equal(e.instance, '/v2/process-instances');
  // Another business id is fine meanwhile.
  const other = await c.createProcessInstance({ processDefinitionId: 'one-task', businessId: 'order-43' });

  const { jobs } = await c.activateJobs({ type: 'work', timeout: 30000, maxJobsToActivate: 10, requestTimeout: -1 });
  const job = jobs.find((j) => j.processInstanceKey === first.processInstanceKey);
  assert.ok(job, `the first instance's job among ${JSON.stringify(jobs.map((j) => j.processInstanceKey))}`);
  await c.completeJob({ jobKey: job.jobKey });
  await untilState(c, first.processInstanceKey, 'COMPLETED');

  const second = await c.createProcessInstance({ processDefinitionId: 'one-task', businessId: 'order-42' });
  assert.notEqual(second.processInstanceKey, first.processInstanceKey);
  assert.notEqual(second.processInstanceKey, other.processInstanceKey);
  assert.equal((await getInstance(c, second.processInstanceKey)).businessId, 'order-42');
}));

test('long polling: a parked activation returns the job of an instance created meanwhile', withServer(async (s) => {
  const poller = client(s);
  const starter = client(s);
  await deployOneTask(starter);
  const parked = poller.activateJobs({ type: 'work', timeout: 30000, maxJobsToActivate: 5, requestTimeout: 20000, worker: 'lp' });
  let settled = false;
  parked.then(() => (settled = true), () => (settled = true));
  // Wait until the server holds the request parked (its metrics gauge says so).
  await until(async () => (await metric(s, 'baton_parked_requests')) >= 1, { what: 'a parked activation' });
  assert.equal(settled, false, 'the activation answered before any job existed');
  const pi = await starter.createProcessInstance({ processDefinitionId: 'one-task', variables: { x: 1 } });
  const r = await parked;
  assert.equal(r.jobs.length, 1, 'the parked activation returned the new job');
  assert.equal(r.jobs[0].processInstanceKey, pi.processInstanceKey);
  assert.equal(r.jobs[0].worker, 'lp');
  assert.deepEqual(r.jobs[0].variables, { x: 1 });
  await poller.completeJob({ jobKey: r.jobs[0].jobKey });
  await untilState(starter, pi.processInstanceKey, 'COMPLETED');
}));
