// flows.test.mjs — larger flows through the official Camunda client against a
// real `baton serve`: a saga whose flight booking runs in a called process
// that fails with a BPMN error, caught on the call activity in the parent,
// which then compensates the hotel it booked; and a parallel multi-instance
// sub-process over 100 items whose results come back in item order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NOW, bpmnDoc as doc, client, deployXml as deploy, flow, getInstance, rejectsWith, until, untilState,
  withServer, worker,
} from './harness.mjs';

const KEY = /^[1-9][0-9]*$/;

const task = (id, type, attrs = '') =>
  `<bpmn:serviceTask id="${id}"${attrs}><bpmn:extensionElements><zeebe:taskDefinition type="${type}"/></bpmn:extensionElements></bpmn:serviceTask>`;

const FLIGHT_FAILED = '<bpmn:error id="flightFailed" errorCode="FLIGHT_FAILED"/>';

const SAGA = {
  // The child: one service task whose worker throws FLIGHT_FAILED; nothing
  // in the child catches it.
  'book-flight-child.bpmn': doc('book-flight-child', '', `
    <bpmn:startEvent id="start"/>
    ${task('book-flight', 'book-flight')}
    <bpmn:endEvent id="flight-booked"/>
    ${flow('c1', 'start', 'book-flight')}${flow('c2', 'book-flight', 'flight-booked')}`),
  // The parent: book the hotel (compensated by cancel-hotel), then call the
  // child; its error is caught on the call activity, and a compensation throw
  // event undoes the hotel before the trip ends as failed.
  'trip.bpmn': doc('trip', FLIGHT_FAILED, `
    <bpmn:startEvent id="start"/>
    ${task('book-hotel', 'book-hotel')}
    <bpmn:boundaryEvent id="hotel-comp" attachedToRef="book-hotel"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    ${task('cancel-hotel', 'cancel-hotel', ' isForCompensation="true"')}
    <bpmn:association id="a1" associationDirection="One" sourceRef="hotel-comp" targetRef="cancel-hotel"/>
    <bpmn:callActivity id="book-flight-child">
      <bpmn:extensionElements><zeebe:calledElement processId="book-flight-child" propagateAllChildVariables="false"/></bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:boundaryEvent id="flight-failed" attachedToRef="book-flight-child">
      <bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=errorMessage" target="failure"/></zeebe:ioMapping></bpmn:extensionElements>
      <bpmn:errorEventDefinition errorRef="flightFailed"/>
    </bpmn:boundaryEvent>
    <bpmn:intermediateThrowEvent id="undo-trip"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="trip-booked"/>
    <bpmn:endEvent id="trip-failed"/>
    ${flow('f1', 'start', 'book-hotel')}${flow('f2', 'book-hotel', 'book-flight-child')}
    ${flow('f3', 'book-flight-child', 'trip-booked')}
    ${flow('f4', 'flight-failed', 'undo-trip')}${flow('f5', 'undo-trip', 'trip-failed')}`),
};

const COLLECT = {
  // A parallel multi-instance sub-process: one `double` job per item;
  // results collected in item order.
  'collect.bpmn': doc('collect', '', `
    <bpmn:startEvent id="start"/>
    <bpmn:subProcess id="each">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:extensionElements>
          <zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="results" outputElement="=result"/>
        </bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="each-start"/>
      ${task('double', 'double')}
      <bpmn:endEvent id="each-end"/>
      ${flow('s1', 'each-start', 'double')}${flow('s2', 'double', 'each-end')}
    </bpmn:subProcess>
    <bpmn:endEvent id="end"/>
    ${flow('f1', 'start', 'each')}${flow('f2', 'each', 'end')}`),
};

async function search(c, method, filter) {
  const r = await c[method]({ filter, page: { limit: 1000 } }, NOW);
  assert.ok(Array.isArray(r.items), `${method} answers items[]: ${JSON.stringify(r)}`);
  return r.items;
}

test('a call activity whose child fails and is compensated', withServer(async (s) => {
  const c = client(s);
  await deploy(c, SAGA);
  const ran = [];
  worker(c, 'book-hotel', (job) => {
    ran.push({ type: job.type, pi: job.processInstanceKey });
    return job.complete({ hotel: 'H-1' });
  });
  worker(c, 'cancel-hotel', (job) => {
    ran.push({ type: job.type, pi: job.processInstanceKey, hotel: job.variables.hotel, failure: job.variables.failure });
    return job.complete({ hotelCancelled: true });
  });

  const { processInstanceKey: trip } = await c.createProcessInstance({ processDefinitionId: 'trip', variables: { traveller: 'Ada' } });
  assert.match(trip, KEY);

  // The hotel is booked; the call activity starts the child, which waits
  // for its flight worker (not started yet).
  const [child] = await until(async () => {
    const items = await search(c, 'searchProcessInstances', { parentProcessInstanceKey: trip });
    return items.length ? items : null;
  }, { what: 'the called instance' });
  assert.equal(child.processDefinitionId, 'book-flight-child');
  assert.equal(child.state, 'ACTIVE');
  assert.equal(child.parentProcessInstanceKey, trip);
  assert.equal(child.rootProcessInstanceKey, trip);
  const [callActivity] = await search(c, 'searchElementInstances', { processInstanceKey: trip, elementId: 'book-flight-child' });
  assert.equal(callActivity.type, 'CALL_ACTIVITY');
  assert.equal(callActivity.state, 'ACTIVE');
  assert.equal(child.parentElementInstanceKey, callActivity.elementInstanceKey);
  const childNow = await getInstance(c, child.processInstanceKey);
  assert.equal(childNow.parentProcessInstanceKey, trip);
  assert.equal(childNow.parentElementInstanceKey, callActivity.elementInstanceKey);
  const tripNow = await getInstance(c, trip);
  assert.equal(tripNow.parentProcessInstanceKey, null);
  assert.equal(tripNow.rootProcessInstanceKey, trip);
  // Only the root of a call hierarchy can be cancelled (as in Zeebe).
  const refused = await rejectsWith(c.cancelProcessInstance({ processInstanceKey: child.processInstanceKey }), 409,
    'cancel a called instance');
  assert.match(refused.detail, /Cancel the root process instance/);

  // The flight fails in the child; nothing there catches it.
  worker(c, 'book-flight', (job) => {
    ran.push({ type: job.type, pi: job.processInstanceKey, traveller: job.variables.traveller });
    return job.error({ errorCode: 'FLIGHT_FAILED', errorMessage: 'sold out' });
  });

  const done = await untilState(c, trip, 'COMPLETED');
  assert.equal(done.hasIncident, false);
  assert.deepEqual(ran.map((r) => r.type), ['book-hotel', 'book-flight', 'cancel-hotel']);
  assert.equal(ran[0].pi, trip);
  assert.equal(ran[1].pi, child.processInstanceKey, 'the flight is booked in the called instance');
  assert.equal(ran[1].traveller, 'Ada', 'the child got the parent\'s variables');
  assert.deepEqual(ran[2], { type: 'cancel-hotel', pi: trip, hotel: 'H-1', failure: 'sold out' });

  // The child was terminated with its call activity; the trip ended as failed.
  const childEnd = await getInstance(c, child.processInstanceKey);
  assert.equal(childEnd.state, 'TERMINATED');
  assert.equal(childEnd.parentProcessInstanceKey, trip);
  assert.equal(childEnd.rootProcessInstanceKey, trip);
  const elements = await search(c, 'searchElementInstances', { processInstanceKey: trip });
  const of = (id) => elements.filter((e) => e.elementId === id);
  assert.equal(of('book-flight-child')[0].state, 'TERMINATED');
  assert.equal(of('flight-failed')[0].state, 'COMPLETED');
  assert.equal(of('cancel-hotel')[0].state, 'COMPLETED');
  assert.equal(of('undo-trip')[0].state, 'COMPLETED');
  assert.equal(of('trip-failed')[0].state, 'COMPLETED');
  assert.equal(of('trip-booked').length, 0);
  const vars = await search(c, 'searchVariables', { processInstanceKey: trip, name: 'hotelCancelled' });
  assert.equal(vars.length, 1);
  assert.equal(JSON.parse(vars[0].value), true);
}));

test('a multi-instance subprocess over a list of 100 items collecting results', withServer(async (s) => {
  const c = client(s);
  await deploy(c, COLLECT);
  const items = Array.from({ length: 100 }, (_, i) => (i * 37) % 101 + 1);
  let jobs = 0;
  worker(c, 'double', async (job) => {
    jobs++;
    // Finish out of item order: a delay that depends on the item.
    await new Promise((r) => setTimeout(r, (job.variables.item * 13) % 17));
    return job.complete({ result: job.variables.item * 2 });
  }, { maxParallelJobs: 32 });
  const r = await c.createProcessInstance({
    processDefinitionId: 'collect', variables: { items }, awaitCompletion: true, requestTimeout: 60000,
  });
  assert.deepEqual(r.variables.results, items.map((x) => x * 2));
  assert.equal(r.variables.result, undefined, 'each result stayed in its inner instance');
  assert.equal(jobs, 100);
  const pi = await getInstance(c, r.processInstanceKey);
  assert.equal(pi.state, 'COMPLETED');
  assert.equal(pi.hasIncident, false);
}));
