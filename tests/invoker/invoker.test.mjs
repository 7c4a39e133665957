// The built-in HTTP invoker (task type io.camunda:http-json:1) against a
// local function server: what it sends (method, URL with query, body,
// headers, bearer token, the Idempotency-Key), and each outcome path —
// 2xx completes with resultVariable and resultExpression; 5xx fails with
// back-off and is retried with the same Idempotency-Key; a read time-out
// fails and, with no retries left, raises an incident; a 4xx that
// errorExpression maps throws a BPMN error caught by a boundary event; a 4xx
// it does not map fails the job.
//
// The real `baton serve` (BATON_BIN) and a real HTTP server; states are
// awaited by bounded polling, never by timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { REPO, until, withServer } from '../integration/harness.mjs';

const MODEL = join(REPO, 'tests', 'data', 'bpmn', 'http-invoke.bpmn');

/** The function: answers by path; records every call. */
async function startFunction() {
  const calls = [];
  const perKey = new Map();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      const n = (perKey.get(key) ?? 0) + 1;
      perKey.set(key, n);
      const url = new URL(req.url, 'http://x');
      calls.push({ path: url.pathname, query: url.search, method: req.method, key, n, body,
                   auth: req.headers.authorization, trace: req.headers['x-trace'],
                   type: req.headers['content-type'] });
      const json = (status, v) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (url.pathname === '/ok') return json(200, { id: `B-${key}` });
      if (url.pathname === '/flaky') return n <= 2 ? json(503, { busy: true }) : json(200, { id: 'F' });
      if (url.pathname === '/slow') { setTimeout(() => json(200, { id: 'late' }), 3000); return; }
      if (url.pathname === '/missing') return json(404, { reason: 'no such booking' });
      return json(418, { reason: 'teapot' });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, calls, base: `http://127.0.0.1:${server.address().port}` };
}

async function rest(server, method, path, body) {
  const r = await fetch(server.url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function deploy(server) {
  const form = new FormData();
  form.append('resources', new Blob([await readFile(MODEL)]), 'http-invoke.bpmn');
  const r = await fetch(`${server.url}/v2/deployments`, { method: 'POST', body: form });
  assert.equal(r.status, 200, await r.text());
}

async function start(server, fn, vars) {
  const r = await rest(server, 'POST', '/v2/process-instances', {
    processDefinitionId: 'http-invoke',
    variables: { base: fn.base, tripId: 'T-1', retries: 3, timeout: 20, ...vars },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.processInstanceKey;
}

async function completedElements(server, key) {
  const r = await rest(server, 'POST', '/v2/element-instances/search', {
    filter: { processInstanceKey: key, state: 'COMPLETED' },
  });
  return r.body.items.map((e) => e.elementId).sort();
}

async function finalVariables(server, key) {
  const r = await rest(server, 'POST', '/v2/variables/search', { filter: { processInstanceKey: key } });
  return Object.fromEntries(r.body.items.map((v) => [v.name, JSON.parse(v.value)]));
}

async function state(server, key) {
  return (await rest(server, 'GET', `/v2/process-instances/${key}`)).body.state;
}

test('2xx: the request carries the inputs and the Idempotency-Key; the answer completes the task', withServer(async (server) => {
  const fn = await startFunction();
  try {
    await deploy(server);
    const key = await start(server, fn, { path: '/ok' });
    await until(async () => (await state(server, key)) === 'COMPLETED', { what: 'instance completed' });
    assert.equal(fn.calls.length, 1);
    const c = fn.calls[0];
    assert.equal(c.method, 'POST');
    assert.equal(c.query, '?lang=en&q=a%20b');
    assert.deepEqual(JSON.parse(c.body), { x: 1, trip: 'T-1' });
    assert.equal(c.type, 'application/json');
    assert.equal(c.auth, 'Bearer s3cr3t');
    assert.equal(c.trace, 'T-1');
    assert.match(c.key, /^\d+$/);
    const vars = await until(async () => {
      const v = await finalVariables(server, key);
      return v.bookingId ? v : null;
    }, { what: 'variables indexed' });
    assert.equal(vars.bookingId, `B-${c.key}`);
    assert.equal(vars.reply.status, 200);
    assert.deepEqual(vars.reply.body, { id: `B-${c.key}` });
    assert.deepEqual(await completedElements(server, key), ['call', 'done', 'http-invoke', 'start']);
  } finally {
    fn.server.close();
  }
}));

test('5xx: failed with back-off, retried with the same Idempotency-Key, then completed', withServer(async (server) => {
  const fn = await startFunction();
  try {
    await deploy(server);
    const key = await start(server, fn, { path: '/flaky' });
    await until(async () => (await state(server, key)) === 'COMPLETED', { what: 'instance completed' });
    assert.equal(fn.calls.length, 3);
    assert.equal(new Set(fn.calls.map((c) => c.key)).size, 1);
    assert.deepEqual(fn.calls.map((c) => c.n), [1, 2, 3]);
  } finally {
    fn.server.close();
  }
}));

test('a read time-out fails the job; with no retries left an incident waits for the operator', withServer(async (server) => {
  const fn = await startFunction();
  try {
    await deploy(server);
    const key = await start(server, fn, { path: '/slow', retries: 2, timeout: 1 });
    const incident = await until(async () => {
      const r = await rest(server, 'POST', '/v2/incidents/search', { filter: { processInstanceKey: key } });
      return r.body.items[0];
    }, { tries: 400, what: 'incident after the retries' });
    assert.equal(incident.errorType, 'JOB_NO_RETRIES');
    assert.match(incident.errorMessage, /timed out|Timeout/i);
    assert.equal(fn.calls.length, 2);
    assert.equal(new Set(fn.calls.map((c) => c.key)).size, 1);
    assert.equal(await state(server, key), 'ACTIVE');
  } finally {
    fn.server.close();
  }
}));

test('4xx mapped by errorExpression throws a BPMN error; unmapped 4xx fails the job', withServer(async (server) => {
  const fn = await startFunction();
  try {
    await deploy(server);
    const missing = await start(server, fn, { path: '/missing' });
    await until(async () => (await state(server, missing)) === 'COMPLETED', { what: 'caught by the boundary' });
    assert.deepEqual(await completedElements(server, missing), ['http-invoke', 'missing', 'notFound', 'start']);

    const teapot = await start(server, fn, { path: '/teapot', retries: 1 });
    const incident = await until(async () => {
      const r = await rest(server, 'POST', '/v2/incidents/search', { filter: { processInstanceKey: teapot } });
      return r.body.items[0];
    }, { what: 'incident for the unmapped 4xx' });
    assert.equal(incident.errorType, 'JOB_NO_RETRIES');
    assert.match(incident.errorMessage, /answered 418/);
  } finally {
    fn.server.close();
  }
}));
