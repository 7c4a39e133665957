// signals.test.mjs — signals through the official Camunda client against a
// real `baton serve`: instances of two processes waiting at a signal catch
// event are released by one broadcast (its variables reach them; a broadcast
// before an instance waits is not kept); a signal start event starts one
// instance of its process per broadcast; a signal thrown by an instance
// reaches the waiting ones; bad requests are refused with 400.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bpmnDoc as doc, client, deployXml, flow, instanceState as state, rejectsWith, startInstance as start,
  variableOf as variable, withServer,
} from './harness.mjs';

const KEY = /^[1-9][0-9]*$/;

const SIGNALS = `<bpmn:signal id="closing" name="store-closing"/>
<bpmn:signal id="opening" name="store-opening"/>`;
const waitFor = (processId) => doc(processId, SIGNALS, `
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait-closing"><bpmn:signalEventDefinition signalRef="closing"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    ${flow('f1', 'start', 'wait-closing')}${flow('f2', 'wait-closing', 'end')}`);

const MODELS_XML = {
  // start → wait for "store-closing" → end; two processes alike
  'till.bpmn': waitFor('till'),
  'lights.bpmn': waitFor('lights'),
  // started by "store-opening": one instance per broadcast, waiting at a job
  'open-up.bpmn': doc('open-up', SIGNALS, `
    <bpmn:startEvent id="on-opening"><bpmn:signalEventDefinition signalRef="opening"/></bpmn:startEvent>
    <bpmn:serviceTask id="unlock"><bpmn:extensionElements><zeebe:taskDefinition type="unlock"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="end"/>
    ${flow('f1', 'on-opening', 'unlock')}${flow('f2', 'unlock', 'end')}`),
  // throws "store-closing" with a variable made by its input mapping
  'manager.bpmn': doc('manager', SIGNALS, `
    <bpmn:startEvent id="start"/>
    <bpmn:endEvent id="announce"><bpmn:extensionElements><zeebe:ioMapping>
      <zeebe:input source="=reason" target="closedBecause"/></zeebe:ioMapping></bpmn:extensionElements>
      <bpmn:signalEventDefinition signalRef="closing"/></bpmn:endEvent>
    ${flow('f1', 'start', 'announce')}`),
};

/** The value of variable `name` of an instance, from the variable search. */
test('one broadcast releases every waiting instance of every process', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  // Broadcast before anyone waits: not kept.
  const early = await c.broadcastSignal({ signalName: 'store-closing' });
  assert.match(early.signalKey, KEY);
  assert.equal(early.tenantId, '<default>');
  const waiting = [await start(c, 'till'), await start(c, 'till'), await start(c, 'lights')];
  for (const pi of waiting) assert.equal(await state(c, pi), 'ACTIVE');
  await c.broadcastSignal({ signalName: 'store-opening-soon' }); // another name
  for (const pi of waiting) assert.equal(await state(c, pi), 'ACTIVE');
  const r = await c.broadcastSignal({ signalName: 'store-closing', variables: { at: '18:00' } });
  assert.match(r.signalKey, KEY);
  assert.notEqual(r.signalKey, early.signalKey);
  for (const pi of waiting) {
    assert.equal(await state(c, pi), 'COMPLETED');
    assert.equal(await variable(c, pi, 'at'), '18:00');
  }
}));

test('a signal start event starts one instance per broadcast', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  await c.broadcastSignal({ signalName: 'store-opening', variables: { day: 'mon' } });
  await c.broadcastSignal({ signalName: 'store-opening', variables: { day: 'tue' } });
  const { jobs } = await c.activateJobs({ type: 'unlock', worker: 'it', timeout: 60000, maxJobsToActivate: 10, requestTimeout: -1 });
  assert.equal(jobs.length, 2);
  assert.deepEqual(jobs.map((j) => j.variables.day).sort(), ['mon', 'tue']);
  assert.notEqual(jobs[0].processInstanceKey, jobs[1].processInstanceKey);
  for (const j of jobs) assert.equal(await state(c, j.processInstanceKey), 'ACTIVE');
}));

test('a signal end event reaches the waiting instances in the same command', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  const till = await start(c, 'till');
  const lights = await start(c, 'lights');
  const manager = await start(c, 'manager', { reason: 'holiday' });
  assert.equal(await state(c, manager), 'COMPLETED');
  for (const pi of [till, lights]) {
    assert.equal(await state(c, pi), 'COMPLETED');
    assert.equal(await variable(c, pi, 'closedBecause'), 'holiday');
  }
}));

test('bad broadcasts are refused with 400', withServer(async (s) => {
  const c = client(s);
  await rejectsWith(c.broadcastSignal({ signalName: '' }), 400, 'empty name');
  await rejectsWith(c.broadcastSignal({ signalName: 'x', tenantId: 'other' }), 400, 'another tenant');
  await rejectsWith(c.broadcastSignal({ signalName: 'x', variables: [1] }), 400, 'variables not an object');
}));
