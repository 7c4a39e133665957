// errors.test.mjs — bad requests get precise RFC 9457 problems: malformed and
// ill-typed bodies, unknown keys, size limits, unimplemented paths, and
// authentication. Raw HTTP where the official client cannot send the request
// (malformed JSON, unknown fields, wrong types, oversized bodies, missing or
// wrong credentials, a static bearer token) or hides what is checked (headers);
// the client everywhere else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  MODELS, NOW, assertProblem, client, raw, rejectsWith, until, withServer,
} from './harness.mjs';

const ACTIVATION = '/v2/jobs/activation';
const goodActivation = { type: 'work', timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 };
const MISSING_KEY = '2251799813999999';

async function oneTaskJob(s) {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.oneTask]);
  const pi = await c.createProcessInstance({ processDefinitionId: 'one-task' });
  const job = await until(async () => (await c.activateJobs({ ...goodActivation, timeout: 30000 })).jobs[0],
    { what: 'a work job' });
  return { c, pi, job };
}

test('malformed JSON: 400 problem', withServer(async (s) => {
  for (const body of ['{"type": "work", ', '{type: work}', '[1,2', 'null x', '\u0000']) {
    const r = await raw(s, 'POST', ACTIVATION, { body });
    const p = assertProblem(r, 400, `malformed body ${JSON.stringify(body)}`);
    assert.equal(p.instance, ACTIVATION);
  }
  // Valid JSON that is not an object.
  assertProblem(await raw(s, 'POST', '/v2/process-instances', { body: '[]' }), 400, 'array body');
  // The same request well-formed is accepted: the 400s are about the body.
  const ok = await raw(s, 'POST', ACTIVATION, { body: goodActivation });
  assert.equal(ok.status, 200, ok.text);
}));

test('an unknown field: 400 problem naming it', withServer(async (s) => {
  const r = await raw(s, 'POST', ACTIVATION, { body: { ...goodActivation, maxJobsToActivates: 3 } });
  const p = assertProblem(r, 400, 'unknown field');
  assert.match(p.detail, /maxJobsToActivates/);
  const r2 = await raw(s, 'POST', '/v2/process-instances', { body: { processDefinitionId: 'one-task', colour: 'red' } });
  assert.match(assertProblem(r2, 400, 'unknown field on create').detail, /colour/);
}));

test('a field of the wrong type: 400 problem naming it', withServer(async (s) => {
  const r = await raw(s, 'POST', ACTIVATION, { body: { ...goodActivation, maxJobsToActivate: '5' } });
  assert.match(assertProblem(r, 400, 'maxJobsToActivate as a string').detail, /maxJobsToActivate/);
  const r2 = await raw(s, 'POST', '/v2/process-instances', { body: { processDefinitionId: 'one-task', variables: [1] } });
  assert.match(assertProblem(r2, 400, 'variables as an array').detail, /variables/);
  const r3 = await raw(s, 'POST', ACTIVATION, { body: { ...goodActivation, type: 7 } });
  assert.match(assertProblem(r3, 400, 'type as a number').detail, /type/);
}));

test('unknown keys: 404 problems', withServer(async (s) => {
  const c = client(s);
  const e1 = await rejectsWith(c.completeJob({ jobKey: MISSING_KEY }), 404, 'complete a job that does not exist');
  assert.equal(e1.instance, `/v2/jobs/${MISSING_KEY}/completion`);
  assert.equal(typeof e1.detail, 'string');
  const e2 = await rejectsWith(c.getProcessInstance({ processInstanceKey: MISSING_KEY }, NOW), 404,
    'get an instance that does not exist');
  assert.equal(e2.instance, `/v2/process-instances/${MISSING_KEY}`);
  await rejectsWith(c.failJob({ jobKey: MISSING_KEY, retries: 1 }), 404, 'fail a missing job');
  await rejectsWith(c.throwJobError({ jobKey: MISSING_KEY, errorCode: 'X' }), 404, 'throw on a missing job');
  await rejectsWith(c.cancelProcessInstance({ processInstanceKey: MISSING_KEY }), 404, 'cancel a missing instance');
  await rejectsWith(c.resolveIncident({ incidentKey: MISSING_KEY }), 404, 'resolve a missing incident');
  // The same answers, seen raw: problem+json with every field.
  assertProblem(await raw(s, 'POST', `/v2/jobs/${MISSING_KEY}/completion`, { body: {} }), 404, 'raw complete');
  assertProblem(await raw(s, 'GET', `/v2/process-instances/${MISSING_KEY}`), 404, 'raw get');
}));

test('completing a job twice: the second answers 404', withServer(async (s) => {
  const { c, job } = await oneTaskJob(s);
  await c.completeJob({ jobKey: job.jobKey, variables: { once: true } });
  await rejectsWith(c.completeJob({ jobKey: job.jobKey }), 404, 'second completion');
  assertProblem(await raw(s, 'POST', `/v2/jobs/${job.jobKey}/completion`, { body: {} }), 404, 'third completion, raw');
}));

const FOUR_MIB = 4 * 1024 * 1024;
const tooBig = () => JSON.stringify({ ...goodActivation, worker: 'x'.repeat(FOUR_MIB + 10) });

test('a body larger than 4 MiB, plain POST with Content-Length: 413 problem', withServer(async (s) => {
  // As any client sends it (fetch, which the official client uses): the whole
  // body right after the headers, then the answer is read. The client must
  // get the 413, not a broken connection (EPIPE / ECONNRESET while writing).
  const r = await raw(s, 'POST', ACTIVATION, { body: tooBig() });
  assertProblem(r, 413, 'a 4 MiB + body');
  // The server still serves after refusing it.
  assert.equal((await raw(s, 'POST', ACTIVATION, { body: goodActivation })).status, 200);
}));

test('a body larger than 4 MiB announced with Expect: 100-continue: 413 before the body is sent', withServer(async (s) => {
  const body = Buffer.from(tooBig());
  const r = await new Promise((resolve, reject) => {
    const req = http.request(`${s.url}${ACTIVATION}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' },
    });
    let sent = false;
    req.on('continue', () => { sent = true; req.end(body); });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode, headers: new Headers(res.headers), text, json: JSON.parse(text || 'null'), sent });
      });
    });
    req.on('error', reject);
  });
  assertProblem(r, 413, 'Expect: 100-continue with a 4 MiB + Content-Length');
  assert.equal(r.sent, false, 'the server asked for a body it refuses');
  assert.equal((await raw(s, 'POST', ACTIVATION, { body: goodActivation })).status, 200);
}));

test('a body larger than 4 MiB, chunked: 413 problem', withServer(async (s) => {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  const body = new ReadableStream({
    start(ctl) {
      for (let i = 0; i < 5; i++) ctl.enqueue(chunk);
      ctl.close();
    },
  });
  const res = await fetch(`${s.url}${ACTIVATION}`, {
    method: 'POST', body, duplex: 'half', headers: { 'Content-Type': 'application/json' },
  });
  const text = await res.text();
  assertProblem({ status: res.status, headers: res.headers, text, json: JSON.parse(text) }, 413, 'chunked 5 MiB');
}));

test('a variables document over 1 MiB: 413 problem', withServer(async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODELS.oneTask]);
  const variables = { blob: 'y'.repeat(1024 * 1024 + 100) };
  const e = await rejectsWith(c.createProcessInstance({ processDefinitionId: 'one-task', variables }), 413,
    'create with 1 MiB + variables');
  assert.equal(e.instance, '/v2/process-instances');
  assertProblem(await raw(s, 'POST', '/v2/process-instances', { body: { processDefinitionId: 'one-task', variables } }),
    413, 'raw create with 1 MiB + variables');
  // Under the limit is fine.
  const pi = await c.createProcessInstance({ processDefinitionId: 'one-task', variables: { blob: 'y'.repeat(1000 * 1000) } });
  assert.ok(pi.processInstanceKey);
}));

test('a path of the spec that is not implemented: 501 problem', withServer(async (s) => {
  const c = client(s);
  const e = await rejectsWith(c.evaluateDecision({ decisionDefinitionId: 'nothing', variables: {} }), 501,
    'evaluate a decision');
  assert.equal(e.instance, '/v2/decision-definitions/evaluation');
  const p = assertProblem(await raw(s, 'POST', '/v2/decision-definitions/evaluation', { body: { decisionDefinitionId: 'x' } }),
    501, 'raw decision');
  assert.match(p.detail, /decision-definitions\/evaluation/);
  assertProblem(await raw(s, 'DELETE', '/v2/resources/123/deletion'), 501, 'DELETE of an unimplemented path');
}));

// ---- authentication --------------------------------------------------------------

const AUTH_ARGS = { args: ['--basic', 'demo:secret', '--token', 't0ken'] };
const basic = (u, p) => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });

test('authentication: 401 without or with wrong credentials, with a challenge', withServer(async (s) => {
  const none = await raw(s, 'GET', '/v2/topology');
  assertProblem(none, 401, 'no credentials');
  const challenge = none.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /Basic/i, 'WWW-Authenticate offers Basic');
  assert.match(challenge, /Bearer/i, 'WWW-Authenticate offers Bearer');
  assertProblem(await raw(s, 'GET', '/v2/topology', { headers: basic('demo', 'wrong') }), 401, 'wrong password');
  assertProblem(await raw(s, 'GET', '/v2/topology', { headers: basic('nobody', 'secret') }), 401, 'wrong user');
  assertProblem(await raw(s, 'GET', '/v2/topology', { headers: { Authorization: 'Bearer nope' } }), 401, 'wrong token');
  assertProblem(await raw(s, 'POST', ACTIVATION, { body: goodActivation }), 401, 'a command without credentials');
  // The official client without credentials is refused as well.
  await rejectsWith(client(s).getTopology(), 401, 'client without credentials');
}, AUTH_ARGS));

test('authentication: Basic and Bearer accepted; /v2/status is public', withServer(async (s) => {
  const c = client(s, {
    CAMUNDA_AUTH_STRATEGY: 'BASIC', CAMUNDA_BASIC_AUTH_USERNAME: 'demo', CAMUNDA_BASIC_AUTH_PASSWORD: 'secret',
  });
  const topo = await c.getTopology();
  assert.equal(topo.brokers.length, 1);
  const d = await c.deployResourcesFromFiles([MODELS.oneTask]);
  assert.equal(d.processes[0].processDefinitionId, 'one-task');
  assert.equal((await raw(s, 'GET', '/v2/topology', { headers: basic('demo', 'secret') })).status, 200);
  // The client has no static-bearer-token strategy (only OAuth): raw.
  const bearer = await raw(s, 'GET', '/v2/topology', { headers: { Authorization: 'Bearer t0ken' } });
  assert.equal(bearer.status, 200, bearer.text);
  const status = await raw(s, 'GET', '/v2/status');
  assert.equal(status.status, 204, status.text);
}, AUTH_ARGS));
