// messages.test.mjs — messages through the official Camunda client against a
// real `baton serve`: a process waits for a message published before and
// after its subscription opened; time to live runs out (on the engine's
// clock, pinned with PUT /v2/clock — no waiting on the wall clock); a
// duplicate messageId is refused; an event-based gateway where the message
// wins and one where the timer wins; synchronous correlation (and 404 when
// nothing waits); a message start event; a buffered message survives a
// SIGKILL of the server.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bpmnDoc as doc, client, deployXml, flow, instanceState as state, rejectsWith, startInstance as start,
  startServer, variableOf, withServer,
} from './harness.mjs';

const KEY = /^[1-9][0-9]*$/;
const CLOCK = { args: ['--clock-control', 'on'] };
const T0 = Date.UTC(2030, 0, 1);

const PAYMENT = `<bpmn:message id="paid" name="payment-received">
  <bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements>
</bpmn:message>`;

const output = (source, target) =>
  `<bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="${source}" target="${target}"/></zeebe:ioMapping></bpmn:extensionElements>`;

const MODELS_XML = {
  // start → wait for payment-received (orderId) → end
  'order.bpmn': doc('order', PAYMENT, `
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait-payment"><bpmn:messageEventDefinition messageRef="paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    ${flow('f1', 'start', 'wait-payment')}${flow('f2', 'wait-payment', 'end')}`),
  // the payment or, after one hour, a reminder: whichever comes first
  'race.bpmn': doc('race', PAYMENT, `
    <bpmn:startEvent id="start"/>
    <bpmn:eventBasedGateway id="first"/>
    <bpmn:intermediateCatchEvent id="payment">${output('=&quot;message&quot;', 'outcome')}<bpmn:messageEventDefinition messageRef="paid"/></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="hour">${output('=&quot;timer&quot;', 'outcome')}<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="paid-end"/><bpmn:endEvent id="late-end"/>
    ${flow('f0', 'start', 'first')}${flow('f1', 'first', 'payment')}${flow('f2', 'first', 'hour')}
    ${flow('f3', 'payment', 'paid-end')}${flow('f4', 'hour', 'late-end')}`),
  // started by a message: one instance per customer at a time
  'intake.bpmn': doc('intake', `<bpmn:message id="placed" name="order-placed"/>`, `
    <bpmn:startEvent id="placed-start"><bpmn:messageEventDefinition messageRef="placed"/></bpmn:startEvent>
    <bpmn:receiveTask id="wait-done" messageRef="doneMsg"/>
    <bpmn:endEvent id="end"/>
    ${flow('f1', 'placed-start', 'wait-done')}${flow('f2', 'wait-done', 'end')}`)
    .replace('<bpmn:message id="placed" name="order-placed"/>',
      `<bpmn:message id="placed" name="order-placed"/>
<bpmn:message id="doneMsg" name="intake-done"><bpmn:extensionElements><zeebe:subscription correlationKey="=customer"/></bpmn:extensionElements></bpmn:message>`),
};

test('a process waits for a message published after and before its subscription opened', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  // After: the instance waits, a message for another order changes nothing.
  const after = await start(c, 'order', { orderId: 'o-1' });
  const other = await c.publishMessage({ name: 'payment-received', correlationKey: 'o-9', variables: {} });
  assert.match(other.messageKey, KEY);
  assert.equal(other.tenantId, '<default>');
  assert.equal(await state(c, after), 'ACTIVE');
  await c.publishMessage({ name: 'payment-received', correlationKey: 'o-1', variables: { amount: 42 } });
  assert.equal(await state(c, after), 'COMPLETED');

  // Before: buffered with a time to live, taken when the subscription opens.
  await c.publishMessage({ name: 'payment-received', correlationKey: 'o-2', timeToLive: 600000, variables: { amount: 7 } });
  const before = await start(c, 'order', { orderId: 'o-2' });
  assert.equal(await state(c, before), 'COMPLETED');
  // Without a time to live nothing is kept.
  await c.publishMessage({ name: 'payment-received', correlationKey: 'o-3' });
  assert.equal(await state(c, await start(c, 'order', { orderId: 'o-3' })), 'ACTIVE');
}));

test('time to live runs out on the engine clock; the clock is pinned through the API', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  await c.pinClock({ timestamp: T0 });
  await c.publishMessage({ name: 'payment-received', correlationKey: 'ttl', timeToLive: 60000 });
  await c.pinClock({ timestamp: T0 + 59999 });
  const inTime = await start(c, 'order', { orderId: 'ttl' });
  assert.equal(await state(c, inTime), 'COMPLETED');

  await c.publishMessage({ name: 'payment-received', correlationKey: 'ttl-2', timeToLive: 60000 });
  await c.pinClock({ timestamp: T0 + 59999 + 60000 });
  const late = await start(c, 'order', { orderId: 'ttl-2' });
  assert.equal(await state(c, late), 'ACTIVE');
  await c.resetClock();
}, CLOCK));

test('a duplicate messageId is refused while the first is buffered', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  await c.pinClock({ timestamp: T0 });
  const m = { name: 'payment-received', correlationKey: 'dup', timeToLive: 60000, messageId: 'pay-1' };
  await c.publishMessage(m);
  const e = await rejectsWith(c.publishMessage(m), 409, 'duplicate messageId');
  assert.match(e.detail, /pay-1/);
  // Another correlation key is another message.
  await c.publishMessage({ ...m, correlationKey: 'dup-2' });
  // Expired, the id is free again.
  await c.pinClock({ timestamp: T0 + 60000 });
  await c.publishMessage(m);
  // Bad requests never reach the engine.
  await rejectsWith(c.publishMessage({ name: '' }), 400, 'empty name');
  await rejectsWith(c.publishMessage({ name: 'x', timeToLive: -1 }), 400, 'negative time to live');
}, CLOCK));

test('event-based gateway: the message wins in one instance, the timer in another', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  await c.pinClock({ timestamp: T0 });
  const paid = await start(c, 'race', { orderId: 'fast' });
  const late = await start(c, 'race', { orderId: 'slow' });
  const r = await c.correlateMessage({ name: 'payment-received', correlationKey: 'fast' });
  assert.equal(r.processInstanceKey, paid);
  assert.equal(await state(c, paid), 'COMPLETED');
  assert.equal(await variableOf(c, paid, 'outcome'), 'message');
  // The other waits until the hour passes on the engine clock; then its
  // message comes too late.
  await c.pinClock({ timestamp: T0 + 3600000 - 1 });
  assert.equal(await state(c, late), 'ACTIVE');
  await c.pinClock({ timestamp: T0 + 3600000 });
  assert.equal(await state(c, late), 'COMPLETED');
  assert.equal(await variableOf(c, late, 'outcome'), 'timer');
  await rejectsWith(c.correlateMessage({ name: 'payment-received', correlationKey: 'slow' }), 404,
    'correlate after the timer won');
}, CLOCK));

test('correlation answers the instance it reached, 404 when nothing waits', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  const e = await rejectsWith(c.correlateMessage({ name: 'payment-received', correlationKey: 'none' }), 404, 'nothing waits');
  assert.match(e.detail, /payment-received/);
  const pi = await start(c, 'order', { orderId: 'none' }); // the message above was not buffered
  assert.equal(await state(c, pi), 'ACTIVE');
  const r = await c.correlateMessage({ name: 'payment-received', correlationKey: 'none', variables: { ok: true } });
  assert.equal(r.processInstanceKey, pi);
  assert.match(r.messageKey, KEY);
  assert.equal(await state(c, pi), 'COMPLETED');
}));

test('a message start event: one instance per correlation key at a time', withServer(async (s) => {
  const c = client(s);
  await deployXml(c, MODELS_XML);
  const first = await c.correlateMessage({ name: 'order-placed', correlationKey: 'cust-1', variables: { customer: 'cust-1' } });
  assert.equal(await state(c, first.processInstanceKey), 'ACTIVE');
  // Same key while the first runs: buffered, no second instance yet.
  await c.publishMessage({ name: 'order-placed', correlationKey: 'cust-1', timeToLive: 600000, variables: { customer: 'cust-1' } });
  const done = await c.correlateMessage({ name: 'intake-done', correlationKey: 'cust-1' });
  assert.equal(done.processInstanceKey, first.processInstanceKey);
  assert.equal(await state(c, first.processInstanceKey), 'COMPLETED');
  // The first ended: the buffered message started the next one.
  const next = await c.correlateMessage({ name: 'intake-done', correlationKey: 'cust-1' });
  assert.notEqual(next.processInstanceKey, first.processInstanceKey);
  assert.equal(await state(c, next.processInstanceKey), 'COMPLETED');
}));

test('a buffered message survives a SIGKILL of the server', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-it-msg-kill-'));
  try {
    const s1 = await startServer({ dataDir });
    const c1 = client(s1);
    await deployXml(c1, MODELS_XML);
    await c1.publishMessage({ name: 'payment-received', correlationKey: 'k', timeToLive: 3600000, messageId: 'once', variables: { kept: 1 } });
    const waiting = await start(c1, 'order', { orderId: 'w' });
    c1.stopAllWorkers();
    await s1.kill();
    const s2 = await startServer({ dataDir });
    try {
      const c2 = client(s2);
      await rejectsWith(c2.publishMessage({ name: 'payment-received', correlationKey: 'k', timeToLive: 3600000, messageId: 'once' }), 409,
        'the id is still buffered after the restart');
      assert.equal(await state(c2, await start(c2, 'order', { orderId: 'k' })), 'COMPLETED');
      await c2.correlateMessage({ name: 'payment-received', correlationKey: 'w' });
      assert.equal(await state(c2, waiting), 'COMPLETED');
    } finally {
      assert.equal((await s2.stop()).code, 0);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
