// The operations UI end to end: a real `baton serve` (with --web, the build's
// web/ copy) and Debian's chromium driven by playwright-core. The trip saga
// is deployed and its instances are driven to known states over REST (the
// test plays the job workers); then the browser checks what a person would:
//
//   processes   the diagram with active / incident / completed counts on
//               its elements
//   instances   the list, its state filter, and a live refresh that shows a
//               new instance without reloading
//   compensated the failed trip: compensation handlers and "Trip booking
//               failed" marked completed, the path's flows taken
//   incident    a variable edited (JSON checked), the incident retried from
//               the page (retries raised, resolved), the instance completes
//   incidents   grouped by type and element, retried in bulk
//   modeler     a deploy error shown on the element it names; a renamed task
//               deployed as version 2
//   auth        with --basic, the UI needs the same credentials as the API
//
// Nothing waits a fixed time: every wait is for a page state (playwright's
// waitFor / waitForFunction) or a REST state (bounded polling). Screenshots
// go to BATON_UI_ARTIFACTS (CTest: <build>/ui-artifacts).
//
//   BATON_BIN=build-ui/baton BATON_WEB=build-ui/web node --test tests/ui/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BIN = process.env.BATON_BIN || path.join(root, 'build/baton');
const WEB = process.env.BATON_WEB || path.join(path.dirname(BIN), 'web');
const ARTIFACTS = process.env.BATON_UI_ARTIFACTS || path.join(path.dirname(BIN), 'ui-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const TRIP = path.join(root, 'examples/trip-booking/trip-booking-jobs.bpmn');
const skip = fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh) to run the UI tests`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-ui-'));
const servers = [];
let server, browser, page;
const trips = {};

// ---- the server -----------------------------------------------------------------

function startServer(extra = []) {
  const data = fs.mkdtempSync(path.join(tmp, 'data-'));
  const proc = spawn(BIN, ['serve', '--port', '0', '--data', data, '--web', WEB, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  servers.push(proc);
  let log = '';
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`baton serve exited (${code}):\n${log}`)));
    proc.stderr.on('data', (d) => {
      log += d;
      proc.log = log;
      const m = /baton listening on (http:\/\/[^,\s]+)/.exec(log);
      if (m && !proc.url) {
        proc.url = m[1];
        resolve({ url: m[1], proc, log: () => log });
      }
    });
  });
}

async function rest(method, p, body, { auth } = {}) {
  const headers = {};
  if (auth) headers.Authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(server.url + p, { method, headers, body: payload });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, what, tries = 400) {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await pause(25);
  }
  throw new Error(`${what}: not reached`);
}

// The test as job worker: takes the one job of `type` (of instance pi).
async function take(type, pi) {
  const res = await rest('POST', '/v2/jobs/activation', {
    type,
    worker: 'ui-test',
    timeout: 600000,
    maxJobsToActivate: 1,
    requestTimeout: 10000,
  });
  assert.equal(res.jobs.length, 1, `a ${type} job`);
  assert.equal(res.jobs[0].processInstanceKey, pi, `the ${type} job of instance ${pi}`);
  return res.jobs[0].jobKey;
}
const complete = async (type, pi, variables = {}) =>
  rest('POST', `/v2/jobs/${await take(type, pi)}/completion`, { variables });

async function startTrip(businessId, variables = {}) {
  const res = await rest('POST', '/v2/process-instances', {
    processDefinitionId: 'trip-booking',
    businessId,
    variables: { traveller: 'Ada', destination: 'Lisbon', ...variables },
  });
  return res.processInstanceKey;
}

const instance = (pi) => rest('GET', `/v2/process-instances/${pi}`);

async function seed() {
  const form = new FormData();
  form.append('resources', new Blob([fs.readFileSync(TRIP)], { type: 'application/xml' }), 'trip-booking-jobs.bpmn');
  const dep = await rest('POST', '/v2/deployments', form);
  trips.v1 = dep.deployments[0].processDefinition.processDefinitionKey;

  // booked: hotel, car, flight
  trips.ok = await startTrip('trip-ok');
  await complete('book-hotel', trips.ok, { hotel: 'H-1' });
  await complete('book-car', trips.ok, { car: 'C-1' });
  await complete('book-flight', trips.ok, { flight: 'F-1' });

  // the flight fails: FLIGHT_FAILED, the car then the hotel are cancelled
  trips.failed = await startTrip('trip-failed');
  await complete('book-hotel', trips.failed, { hotel: 'H-2' });
  await complete('book-car', trips.failed, { car: 'C-2' });
  const flight = await take('book-flight', trips.failed);
  await rest('POST', `/v2/jobs/${flight}/error`, { errorCode: 'FLIGHT_FAILED', errorMessage: 'sold out' });
  await complete('cancel-car', trips.failed);
  await complete('cancel-hotel', trips.failed);

  // the car rental fails for good: an incident at "Book car"
  trips.incident = await startTrip('trip-incident');
  await complete('book-hotel', trips.incident, { hotel: 'H-3' });
  const car = await take('book-car', trips.incident);
  await rest('POST', `/v2/jobs/${car}/failure`, { retries: 0, errorMessage: 'car rental API down (503)' });

  // two hotel bookings fail for good: incidents to retry in bulk
  for (const b of ['trip-hotel-1', 'trip-hotel-2']) {
    const pi = await startTrip(b);
    const job = await take('book-hotel', pi);
    await rest('POST', `/v2/jobs/${job}/failure`, { retries: 0, errorMessage: 'hotel API timeout' });
    (trips.hotel ||= []).push(pi);
  }

  // waiting at "Book hotel" (its job is never taken)
  trips.waiting = await startTrip('trip-waiting');

  await until(async () => (await instance(trips.failed)).state === 'COMPLETED', 'failed trip ends');
  await until(async () => (await instance(trips.incident)).hasIncident, 'incident raised');
}

// ---- the browser ----------------------------------------------------------------

async function launch() {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
  });
}

const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

// The element's SVG group on the canvas of the page.
const gfx = (canvas, id) => page.locator(`#${canvas} .djs-element[data-element-id="${id}"]`);
async function classesOf(canvas, id) {
  return (await gfx(canvas, id).getAttribute('class')).split(/\s+/);
}
// The count badges bpmn-js shows on an element: {active, incident, completed, canceled}
async function badges(id) {
  return page.evaluate((elementId) => {
    const out = {};
    const g = document.querySelector(`.ov-group[data-element-id="${elementId}"]`);
    for (const s of g ? g.querySelectorAll('.ov') : []) out[s.className.replace(/^ov ov-/, '')] = Number(s.textContent);
    return out;
  }, id);
}

before(async () => {
  if (skip) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  await seed();
  browser = await launch();
  page = browser.pages()[0] || (await browser.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  if (browser) await browser.close();
  for (const p of servers) {
    if (p.exitCode !== null) continue;
    p.removeAllListeners('exit');
    const exited = new Promise((r) => p.on('exit', (code, signal) => r({ code, signal })));
    p.kill('SIGTERM');
    // a clean exit: no crash, and no sanitizer report in an ASan build
    assert.deepEqual(await exited, { code: 0, signal: null }, `baton serve did not exit cleanly:\n${p.log}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- the tests ------------------------------------------------------------------

test('the web UI is served at / and /ui/ with bpmn-js, SPA paths fall back to the page', { skip }, async () => {
  for (const p of ['/', '/ui/instances/123', '/ui/processes/trip-booking/1']) {
    const res = await fetch(server.url + p);
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get('content-type'), /text\/html/);
    assert.match(await res.text(), /<script type="module" src="\/ui\/app.js">/);
  }
  const js = await fetch(`${server.url}/ui/vendor/bpmn-js/bpmn-modeler.production.min.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.equal((await fetch(`${server.url}/ui/no-such-file.js`)).status, 404);
  assert.notEqual((await fetch(`${server.url}/ui/%2e%2e/CMakeCache.txt`)).status, 200);
});

test('processes: the diagram with active, incident and completed counts per element', { skip }, async () => {
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/ui\/processes$/);
  await page.locator('[data-process-id="trip-booking"]').waitFor();
  await page.locator('#process-canvas[data-stats-ready="true"]').waitFor();
  // six trips started; three done with the hotel, three waiting there (two with incidents)
  assert.deepEqual(await badges('TripRequested'), { completed: 6 });
  assert.deepEqual(await badges('BookHotel'), { active: 3, incident: 2, completed: 3 });
  assert.deepEqual(await badges('BookCar'), { active: 1, incident: 1, completed: 2 });
  assert.deepEqual(await badges('BookFlight'), { completed: 1, canceled: 1 });
  assert.deepEqual(await badges('TripBooked'), { completed: 1 });
  assert.deepEqual(await badges('CancelCar'), { completed: 1 });
  assert.deepEqual(await badges('TripBookingFailed'), { completed: 1 });
  assert.deepEqual(await badges('CancelFlight'), {});
  assert.equal(await page.locator('[data-stat="active"]').textContent(), '4');
  assert.equal(await page.locator('[data-stat="incident"]').textContent(), '3');
  assert.equal(await page.locator('[data-stat="completed"]').textContent(), '2');
  await shot('processes');
});

test('instances: list, state filter and live refresh', { skip }, async () => {
  await page.goto(`${server.url}/ui/instances`);
  await page.locator('#instances-table[data-total="6"]').waitFor();
  assert.equal(await page.locator('#instances-table tbody tr').count(), 6);
  await shot('instances');
  await page.selectOption('select[name="state"]', 'incident');
  await page.locator('#instances-table[data-total="3"]').waitFor();
  await page.selectOption('select[name="state"]', 'completed');
  await page.locator('#instances-table[data-total="2"]').waitFor();
  assert.match(page.url(), /state=completed/);
  await page.fill('input[name="businessId"]', 'trip-failed');
  await page.locator('#instances-table[data-total="1"]').waitFor();
  await page.locator(`#instances-table tr[data-key="${trips.failed}"]`).waitFor();
  // live: a new instance appears without reloading the page
  await page.selectOption('select[name="state"]', 'active');
  await page.fill('input[name="businessId"]', 'trip-live');
  await page.locator('#instances-table[data-total="0"]').waitFor();
  const marker = await page.evaluate(() => (window.__same = Math.random()));
  trips.live = await startTrip('trip-live');
  await page.locator(`#instances-table tr[data-key="${trips.live}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.__same), marker, 'the page was not reloaded');
});

test('instance: the failed trip shows the compensated path', { skip }, async () => {
  await page.goto(`${server.url}/ui/instances/${trips.failed}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  const c = 'instance-canvas';
  for (const id of ['CancelCar', 'CancelHotel']) {
    const cls = await classesOf(c, id);
    assert.ok(cls.includes('bt-compensation') && cls.includes('bt-completed'), `${id}: ${cls}`);
  }
  assert.ok((await classesOf(c, 'CancelFlight')).every((x) => !x.startsWith('bt-')), 'the flight was never booked');
  for (const id of ['TripBookingFailed', 'UndoBookings', 'FlightFailed', 'BookHotel', 'BookCar'])
    assert.ok((await classesOf(c, id)).includes('bt-completed'), id);
  for (const id of ['BookHotel', 'BookCar']) assert.ok((await classesOf(c, id)).includes('bt-compensated'), id);
  for (const id of ['CompensateHotel', 'CompensateCar', 'Association_Hotel'])
    assert.ok((await classesOf(c, id)).includes('bt-compensation'), `${id}: ${await classesOf(c, id)}`);
  assert.ok((await classesOf(c, 'BookFlight')).includes('bt-terminated'));
  assert.ok(!(await classesOf(c, 'TripBooked')).includes('bt-completed'));
  for (const id of ['Flow_Start', 'Flow_HotelCar', 'Flow_CarFlight', 'Flow_Failed', 'Flow_Undone'])
    assert.ok((await classesOf(c, id)).includes('bt-taken'), `${id} taken`);
  assert.ok(!(await classesOf(c, 'Flow_Booked')).includes('bt-taken'));
  assert.match(await page.locator('.page-header h1').textContent(), /completed/);
  await page.click('[data-tab="history"]');
  await page.locator('.timeline .tl-text', { hasText: 'Cancel car completed' }).waitFor();
  await shot('instance-compensated');
});

test('instance: an incident is retried from the page and the instance completes', { skip }, async () => {
  const pi = trips.incident;
  await page.goto(`${server.url}/ui/instances/${pi}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  assert.ok((await classesOf('instance-canvas', 'BookCar')).includes('bt-incident'));
  const row = page.locator('.incident-banner .incident-row');
  await row.waitFor();
  assert.match(await row.textContent(), /JOB_NO_RETRIES.*car rental API down/);
  await shot('instance-incident');

  // a variable edited: invalid JSON is refused in the form, valid JSON saved
  await page.locator('.scope[data-scope-key="' + pi + '"] tr[data-variable="destination"] button').click();
  const area = page.locator('dialog textarea[name="value"]');
  await area.fill('{"city": "Porto",');
  await page.locator('dialog textarea.invalid').waitFor();
  await page.locator('dialog button[type="submit"]').click();
  await page.locator('dialog .form-error:not([hidden])').waitFor();
  await area.fill('{"city": "Porto", "nights": 3}');
  await page.locator('dialog button[type="submit"]').click();
  await page.locator('dialog').waitFor({ state: 'detached' });
  await until(async () => {
    const v = await rest('POST', '/v2/variables/search', { filter: { processInstanceKey: pi, name: 'destination' } });
    return v.items.length === 1 && JSON.parse(v.items[0].value).nights === 3;
  }, 'variable saved');
  await page.locator('tr[data-variable="destination"] .var-value', { hasText: 'Porto' }).waitFor();

  // retry: retries raised to 2, the incident resolved
  await row.locator('input[name="retries"]').fill('2');
  await row.locator('button', { hasText: 'Retry' }).click();
  await page.locator('.incident-banner').waitFor({ state: 'hidden' });
  const jobs = await rest('POST', '/v2/jobs/search', { filter: { processInstanceKey: pi, type: 'book-car' } });
  assert.equal(jobs.items[0].retries, 2);
  await complete('book-car', pi, { car: 'C-3' });
  await complete('book-flight', pi, { flight: 'F-3' });
  // the page refreshes itself while the instance runs
  await page.locator('#instance-canvas[data-state="COMPLETED"]').waitFor();
  assert.ok((await classesOf('instance-canvas', 'TripBooked')).includes('bt-completed'));
  assert.equal((await instance(pi)).state, 'COMPLETED');
  await shot('instance-resolved');
});

test('incidents: grouped by type and element, retried in bulk', { skip }, async () => {
  await page.goto(`${server.url}/ui/incidents`);
  const group = page.locator('.incident-group[data-error-type="JOB_NO_RETRIES"][data-element-id="BookHotel"]');
  await group.waitFor();
  assert.equal(await group.locator('tbody tr').count(), 2);
  assert.match(await group.textContent(), /hotel API timeout/);
  await shot('incidents');
  await group.locator('button', { hasText: 'Retry all' }).click();
  await group.waitFor({ state: 'detached' });
  await page.locator('.empty', { hasText: 'No open incident' }).waitFor();
  for (const pi of trips.hotel) assert.equal((await instance(pi)).hasIncident, false);
});

test('modeler: a deploy error is shown on its element; an edited model deploys as version 2', { skip }, async () => {
  await page.goto(`${server.url}/ui/modeler?definition=${trips.v1}`);
  await page.locator('#modeler-canvas[data-loaded]').waitFor();
  await page.locator('#modeler-canvas .djs-element[data-element-id="BookHotel"]').waitFor();

  // an element baton does not run: refused, and marked on the canvas
  await page.evaluate(() => {
    const m = window.batonModeler;
    const modeling = m.get('modeling');
    const factory = m.get('elementFactory');
    const root = m.get('canvas').getRootElement();
    const shape = factory.createShape({ type: 'bpmn:ComplexGateway' }); // baton does not run it
    shape.businessObject.id = 'ReviewTrip';
    shape.id = 'ReviewTrip';
    modeling.createShape(shape, { x: 850, y: 120 }, root);
    modeling.connect(m.get('elementRegistry').get('TripBooked'), shape);
  });
  await page.click('#deploy');
  await page.locator('.modeler-status.status-error').waitFor();
  const err = page.locator('.ov-error[data-element-id="ReviewTrip"]');
  const errVisible = await err.count();
  await shot('modeler-error');
  assert.ok(errVisible === 1, `the error names ReviewTrip: ${await page.locator('.modeler-status').textContent()}`);
  assert.ok((await classesOf('modeler-canvas', 'ReviewTrip')).includes('bt-error'));

  // undo the complex gateway, rename a task, deploy: version 2
  await page.evaluate(() => {
    const m = window.batonModeler;
    const reg = m.get('elementRegistry');
    m.get('modeling').removeElements([reg.get('ReviewTrip')]);
    m.get('modeling').updateLabel(reg.get('BookHotel'), 'Book hotel room');
  });
  await page.click('#deploy');
  await page.locator('.modeler-status.status-ok[data-version="2"]').waitFor();
  await shot('modeler');
  const defs = await rest('POST', '/v2/process-definitions/search', { filter: { processDefinitionId: 'trip-booking', version: 2 } });
  assert.equal(defs.items.length, 1);
  const xml = await (await fetch(`${server.url}/v2/process-definitions/${defs.items[0].processDefinitionKey}/xml`)).text();
  assert.match(xml, /name="Book hotel room"/);
  assert.match(xml, /taskDefinition type="book-hotel"/, 'the zeebe extension survived the modeler');
  // the process page offers version 2 and shows its diagram
  await page.click('.status-ok a');
  await page.locator('#process-canvas[data-stats-ready="true"]').waitFor();
  assert.equal(await page.locator('select.version-select').inputValue(), '2');
  await page.locator('#process-canvas .djs-element[data-element-id="BookHotel"]', { hasText: 'Book hotel room' }).waitFor();
});

test('instance: an instance waiting for a message shows it, and the message when it came', { skip }, async () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://baton.test">
  <bpmn:message id="paid" name="payment-received"><bpmn:extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="ui-wait" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="waitPayment" name="Wait for payment"><bpmn:messageEventDefinition messageRef="paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="waitPayment"/>
    <bpmn:sequenceFlow id="f2" sourceRef="waitPayment" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="plane" bpmnElement="ui-wait">
    <bpmndi:BPMNShape id="s_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="w_di" bpmnElement="waitPayment"><dc:Bounds x="200" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="e_di" bpmnElement="end"><dc:Bounds x="300" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="236" y="118"/><di:waypoint x="300" y="118"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>`;
  const form = new FormData();
  form.append('resources', new Blob([xml], { type: 'application/xml' }), 'ui-wait.bpmn');
  await rest('POST', '/v2/deployments', form);
  const { processInstanceKey: pi } = await rest('POST', '/v2/process-instances', {
    processDefinitionId: 'ui-wait', variables: { orderId: 'o-42' },
  });
  await page.goto(`${server.url}/ui/instances/${pi}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  await page.click('[data-tab="history"]');
  const waiting = page.locator('.timeline .tl-text', { hasText: 'Waiting for message payment-received at Wait for payment' });
  await waiting.waitFor();
  assert.match(await waiting.textContent(), /correlation key o-42/);
  await rest('POST', '/v2/messages/publication', { name: 'payment-received', correlationKey: 'o-42' });
  await until(async () => (await instance(pi)).state === 'COMPLETED', 'the instance completes');
  await page.goto(`${server.url}/ui/instances/${pi}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  assert.ok((await classesOf('instance-canvas', 'waitPayment')).includes('bt-completed'));
  await page.click('[data-tab="history"]');
  await page.locator('.timeline .tl-text', { hasText: 'Message payment-received received at Wait for payment' }).waitFor();
  await shot('instance-message');

  // A model deployed without a diagram (no BPMNDI): the page says so and
  // still shows the instance.
  const bare = new FormData();
  bare.append('resources', new Blob([xml.replace(/<bpmndi:BPMNDiagram[\s\S]*<\/bpmndi:BPMNDiagram>/, '')
    .replace('id="ui-wait"', 'id="ui-bare"').replace('bpmnElement="ui-wait"', '')], { type: 'application/xml' }), 'ui-bare.bpmn');
  await rest('POST', '/v2/deployments', bare);
  const { processInstanceKey: barePi } = await rest('POST', '/v2/process-instances', {
    processDefinitionId: 'ui-bare', variables: { orderId: 'o-43' },
  });
  await page.goto(`${server.url}/ui/instances/${barePi}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  assert.match(await page.locator('.no-diagram').textContent(), /No diagram to show/);
  assert.match(await page.locator('.page-header h1').textContent(), /active/);
});

test('instance: a call activity links the parent and the called instance', { skip }, async () => {
  // start → (call or task) → end, drawn left to right
  const doc = (id, body, middle) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d-${id}" targetNamespace="http://baton.test">
  <bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>
  <bpmndi:BPMNDiagram id="dia-${id}"><bpmndi:BPMNPlane id="plane-${id}" bpmnElement="${id}">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="m_di" bpmnElement="${middle}"><dc:Bounds x="200" y="78" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="360" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118"/><di:waypoint x="360" y="118"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>`;
  const form = new FormData();
  form.append('resources', new Blob([doc('ui-parent', `
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="ui-child"/></bpmn:extensionElements></bpmn:callActivity>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/><bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e"/>`, 'call')],
  { type: 'application/xml' }), 'ui-parent.bpmn');
  form.append('resources', new Blob([doc('ui-child', `
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="w"><bpmn:extensionElements><zeebe:taskDefinition type="ui-child-work"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="w"/><bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="e"/>`, 'w')],
  { type: 'application/xml' }), 'ui-child.bpmn');
  await rest('POST', '/v2/deployments', form);
  const { processInstanceKey: parent } = await rest('POST', '/v2/process-instances', { processDefinitionId: 'ui-parent' });
  await page.goto(`${server.url}/ui/instances/${parent}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  const child = page.locator('.calls a', { hasText: 'ui-child' });
  await child.waitFor();
  await child.click();
  await page.locator('.calls a', { hasText: `instance ${parent}` }).waitFor();
  assert.match(await page.locator('.page-header h1').textContent(), /active/);
  assert.equal(await page.locator('.page-actions .btn-danger').count(), 0, 'a called instance is not cancelled on its own');
  await shot('instance-called');

  // The called instance's job runs out of retries: the parent's call
  // activity shows the incident too.
  const [called] = (await rest('POST', '/v2/process-instances/search', { filter: { parentProcessInstanceKey: parent } })).items;
  const job = await take('ui-child-work', called.processInstanceKey);
  await rest('POST', `/v2/jobs/${job}/failure`, { retries: 0, errorMessage: 'the child failed' });
  await until(async () => (await instance(parent)).hasIncident, 'the parent shows the incident');
  await page.goto(`${server.url}/ui/instances/${parent}`);
  await page.locator('#instance-canvas[data-ready="true"]').waitFor();
  await page.locator('.calls', { hasText: '(incident)' }).waitFor();
  assert.ok((await classesOf('instance-canvas', 'call')).includes('bt-incident'));
  await shot('instance-caller-incident');
});

test('auth: with --basic the UI needs the API credentials', { skip }, async () => {
  const secured = await startServer(['--basic', 'ops:s3cret']);
  const noAuth = await fetch(`${secured.url}/ui/processes`);
  assert.equal(noAuth.status, 401);
  assert.match(noAuth.headers.get('www-authenticate') || '', /Basic/);
  assert.equal((await fetch(`${secured.url}/ui/app.js`)).status, 401);
  // the browser sends the credentials with every request, as after its prompt
  const p = await browser.newPage();
  await p.setExtraHTTPHeaders({ Authorization: `Basic ${Buffer.from('ops:s3cret').toString('base64')}` });
  await p.goto(`${secured.url}/`);
  await p.locator('#server-status.ok').waitFor();
  await p.locator('.empty', { hasText: 'No process is deployed yet' }).waitFor();
  await p.close();
});
