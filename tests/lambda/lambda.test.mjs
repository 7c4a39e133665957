// lambda.test.mjs — baton's built-in AWS Lambda invoker end to end: a real
// `baton serve` (BATON_BIN) with test credentials in AWS_* and
// BATON_LAMBDA_ENDPOINT pointing at a local mock of the Invoke API
// (mock-lambda.mjs), which checks each request's SigV4 signature with its
// own implementation. The model is tests/data/bpmn/lambda-invoke.bpmn;
// instances are started and read through the REST API with the official
// client (tests/integration/harness.mjs).
//
// Checked: the function's result stored under resultVariable (a name, a
// full ARN and a qualifier); an Event invocation; a function error mapped by
// errorExpression to a BPMN error caught by a boundary event; a function
// error left unmapped failing until an incident; a 429 retried with the same
// Idempotency-Key; a wrong secret producing signatures the mock rejects
// (403 → incident), and a forged request rejected directly; no credentials
// → an incident at once, no request sent.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, NOW, client, until, untilState, withServer } from '../integration/harness.mjs';
import { startMockLambda } from './mock-lambda.mjs';

const MODEL = join(REPO, 'tests', 'data', 'bpmn', 'lambda-invoke.bpmn');
const CREDS = {
  accessKeyId: 'AKIDBATONTEST',
  secretAccessKey: 'baton/test+secret/KEY',
  sessionToken: 'FwoGZXIvYXdzEBATONTEST//session+token=',
  region: 'us-east-1',
};
const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION',
  'AWS_DEFAULT_REGION', 'BATON_LAMBDA_ENDPOINT'];

let mock;
before(async () => {
  mock = await startMockLambda(CREDS);
});
after(async () => {
  await mock?.close();
});

/**
 * A test body against a server started with the AWS environment env()
 * returns (called when the test runs, once the mock listens; the server
 * inherits process.env when it is spawned, and the previous values are
 * restored afterwards).
 */
function withLambdaServer(env, fn) {
  return async (t) => {
    const saved = Object.fromEntries(AWS_VARS.map((k) => [k, process.env[k]]));
    for (const k of AWS_VARS) delete process.env[k];
    Object.assign(process.env, env());
    try {
      await withServer(fn)(t);
    } finally {
      for (const k of AWS_VARS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  };
}

const goodEnv = () => ({
  AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
  AWS_SESSION_TOKEN: CREDS.sessionToken,
  AWS_REGION: CREDS.region,
  BATON_LAMBDA_ENDPOINT: mock.url,
});

async function searchAll(method, c, filter) {
  const r = await c[method]({ filter, page: { limit: 1000 } }, NOW);
  assert.ok(Array.isArray(r.items), `${method} answers items[]: ${JSON.stringify(r)}`);
  return r.items;
}

async function start(c, vars) {
  const pi = await c.createProcessInstance({
    processDefinitionId: 'lambda-invoke',
    variables: { qualifier: null, invocationType: 'RequestResponse', name: 'Ada', ...vars },
  });
  return pi.processInstanceKey;
}

/**
 * The variables an instance has after the Lambda task, read from the job
 * of the task that follows it ("inspect"), which is then completed so the
 * instance ends. One inspector per server: it keeps what it activated.
 */
function inspector(c) {
  const seen = new Map();
  return (processInstanceKey) =>
    until(async () => {
      if (!seen.has(processInstanceKey)) {
        const { jobs } = await c.activateJobs({
          type: 'lambda-test-inspect', timeout: 30000, maxJobsToActivate: 10, requestTimeout: -1,
        });
        for (const j of jobs) {
          seen.set(j.processInstanceKey, j.variables);
          await c.completeJob({ jobKey: j.jobKey });
        }
      }
      return seen.get(processInstanceKey);
    }, { tries: 300, intervalMs: 50, what: `the inspect job of instance ${processInstanceKey}` });
}

async function jobKeyOf(c, processInstanceKey) {
  const jobs = await searchAll('searchJobs', c, { processInstanceKey });
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  return jobs[0].jobKey;
}

function untilIncident(c, processInstanceKey) {
  return until(async () => (await searchAll('searchIncidents', c, { processInstanceKey }))[0],
    { tries: 300, intervalMs: 50, what: `an incident on instance ${processInstanceKey}` });
}

const callsFor = (orderId) => mock.calls.filter((k) => k.payload?.orderId === orderId);

test('a function result is stored under resultVariable; name, ARN and qualifier', withLambdaServer(goodEnv, async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODEL]);
  const byName = await start(c, { fn: 'hello', orderId: 'o-1', qualifier: 'live' });
  const byArn = await start(c, { fn: 'arn:aws:lambda:us-east-1:123456789012:function:hello', orderId: 'o-2', name: 'Grace' });
  const variables = inspector(c);
  const v1 = await variables(byName);
  assert.deepEqual(v1.result, { greeting: 'hello Ada', orderId: 'o-1', qualifier: 'live' });
  assert.equal(v1.status, 200); // resultExpression over `response`
  const v2 = await variables(byArn);
  assert.deepEqual(v2.result, { greeting: 'hello Grace', orderId: 'o-2', qualifier: null });
  await untilState(c, byName, 'COMPLETED');
  await untilState(c, byArn, 'COMPLETED');

  const [call] = callsFor('o-1');
  assert.equal(callsFor('o-1').length, 1);
  assert.equal(call.signatureError, null);
  assert.equal(call.functionName, 'hello');
  assert.equal(call.qualifier, 'live');
  assert.equal(call.invocationType, 'RequestResponse');
  assert.deepEqual(call.payload, { orderId: 'o-1', name: 'Ada' });
  const [arnCall] = callsFor('o-2');
  assert.equal(arnCall.functionName, 'arn:aws:lambda:us-east-1:123456789012:function:hello');
  assert.equal(arnCall.signatureError, null);
  // The job key (a completed job is no longer searchable here; the crash
  // test below compares it with the job's key).
  assert.match(call.idempotencyKey, /^\d+$/);
  assert.notEqual(call.idempotencyKey, arnCall.idempotencyKey);
}));

test('an Event invocation completes on 202 with no result', withLambdaServer(goodEnv, async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODEL]);
  const key = await start(c, { fn: 'hello', orderId: 'o-event', invocationType: 'Event' });
  const v = await inspector(c)(key);
  assert.equal(v.status, 202);
  assert.ok('result' in v, 'the result variable is set (to null)');
  assert.equal(v.result, null);
  await untilState(c, key, 'COMPLETED');
  const calls = callsFor('o-event');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].invocationType, 'Event');
  assert.equal(calls[0].status, 202);
}));

test('a function error mapped by errorExpression is a BPMN error caught by the boundary event', withLambdaServer(goodEnv, async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODEL]);
  const key = await start(c, { fn: 'declines', orderId: 'o-declined' });
  await untilState(c, key, 'COMPLETED');
  const elements = await searchAll('searchElementInstances', c, { processInstanceKey: key });
  const ids = elements.map((e) => e.elementId);
  assert.ok(ids.includes('declined') && ids.includes('declinedEnd'), ids.join(','));
  assert.ok(!ids.includes('inspect') && !ids.includes('done'), ids.join(','));
  const calls = callsFor('o-declined');
  assert.equal(calls.length, 1, 'a BPMN error is not retried');
  assert.equal(calls[0].signatureError, null);
  assert.deepEqual(await searchAll('searchIncidents', c, { processInstanceKey: key }), []);
}));

test('an unmapped function error fails the job until an incident with its message', withLambdaServer(goodEnv, async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODEL]);
  const key = await start(c, { fn: 'crashes', orderId: 'o-crash' });
  const incident = await untilIncident(c, key);
  assert.equal(incident.errorType, 'JOB_NO_RETRIES');
  assert.match(incident.errorMessage, /TypeError: Cannot read properties of undefined/);
  assert.match(incident.errorMessage, /Unhandled/);
  const calls = callsFor('o-crash');
  assert.equal(calls.length, 3, 'retries="3": three attempts');
  const jobKey = await jobKeyOf(c, key);
  assert.ok(calls.every((k) => k.idempotencyKey === jobKey && k.signatureError === null));
}));

test('a 429 is retried after the back-off with the same Idempotency-Key', withLambdaServer(goodEnv, async (s) => {
  const c = client(s);
  await c.deployResourcesFromFiles([MODEL]);
  const key = await start(c, { fn: 'throttled', orderId: 'o-throttled' });
  const v = await inspector(c)(key);
  assert.deepEqual(v.result, { greeting: 'hello Ada', orderId: 'o-throttled', qualifier: null });
  const calls = callsFor('o-throttled');
  assert.deepEqual(calls.map((k) => k.status), [429, 200]);
  assert.match(calls[0].idempotencyKey, /^\d+$/);
  assert.equal(calls[1].idempotencyKey, calls[0].idempotencyKey);
  assert.ok(calls.every((k) => k.signatureError === null));
  await untilState(c, key, 'COMPLETED');
}));

test('the mock rejects a forged signature', async () => {
  const body = JSON.stringify({ orderId: 'o-forged' });
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const r = await fetch(`${mock.url}/2015-03-31/functions/hello/invocations`, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-Amz-Date': date,
      'X-Amz-Security-Token': CREDS.sessionToken,
      Authorization: `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${date.slice(0, 8)}/us-east-1/lambda/aws4_request, ` +
        `SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=${'0'.repeat(64)}`,
    },
  });
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  assert.match((await r.json()).message, /signature we calculated does not match/);
});

test('a wrong secret: every request is rejected by the mock, then an incident', withLambdaServer(
  () => ({ ...goodEnv(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' }),
  async (s) => {
    const c = client(s);
    await c.deployResourcesFromFiles([MODEL]);
    const key = await start(c, { fn: 'hello', orderId: 'o-badsig' });
    const incident = await untilIncident(c, key);
    assert.match(incident.errorMessage, /HTTP 403 InvalidSignatureException/);
    assert.match(incident.errorMessage, /signature we calculated does not match/);
    const calls = callsFor('o-badsig');
    assert.equal(calls.length, 3);
    assert.ok(calls.every((k) => k.status === 403 && k.signatureError));
    assert.notEqual((await c.getProcessInstance({ processInstanceKey: key }, NOW)).state, 'COMPLETED');
  }));

test('no credentials: an incident at once, nothing sent', withLambdaServer(
  () => ({ AWS_REGION: CREDS.region, BATON_LAMBDA_ENDPOINT: mock.url }),
  async (s) => {
    const c = client(s);
    await c.deployResourcesFromFiles([MODEL]);
    const before = mock.calls.length;
    const key = await start(c, { fn: 'hello', orderId: 'o-nocreds' });
    const incident = await untilIncident(c, key);
    assert.equal(incident.errorType, 'JOB_NO_RETRIES');
    assert.match(incident.errorMessage, /no AWS credentials.*AWS_ACCESS_KEY_ID/);
    const jobs = await searchAll('searchJobs', c, { processInstanceKey: key });
    assert.equal(jobs[0].retries, 0, 'failed with no retries');
    assert.equal(mock.calls.length, before);
  }));
