// The `baton` command's client side, end to end: a real `baton serve` on a
// port of its own choosing (--port 0, read back from its log) with a fresh
// data directory, driven only through the CLI — deploy, start (--variables,
// --await), cancel, instances, incidents, resolve, and workers running the
// POSIX sh scripts next to this file. Instance states are read back over
// the REST API with bounded polling; nothing waits a fixed time.
//
//   BATON_BIN=build/release/baton node --test tests/cli/
//
// Each test deploys its own copy of bench/models/one-task.bpmn under its own
// process id and job type, so that a worker of one test never takes the
// jobs of another.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BIN = process.env.BATON_BIN || path.join(root, 'build/release/baton');
const script = (name) => path.join(here, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-cli-'));

// ---- processes ---------------------------------------------------------------

/** Runs `baton ARGS` to the end; resolves {code, stdout, stderr}. */
function baton(args, { env = {}, address = server.address } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, {
      env: { ...process.env, BATON_ADDRESS: address, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts `baton serve --port 0`; resolves once it says where it listens. */
function startServer(extra = []) {
  const data = fs.mkdtempSync(path.join(tmp, 'data-'));
  const proc = spawn(BIN, ['serve', '--port', '0', '--data', data, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${log}`)), 20000);
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /baton listening on (http:\/\/[^,\s]+)/.exec(log);
      if (m && !proc.address) {
        clearTimeout(timer);
        proc.address = m[1];
        resolve({
          address: m[1],
          proc,
          log: () => log,
          stop: () => stopProcess(proc),
        });
      }
    });
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
  });
}

/** SIGTERM, then the exit code (SIGKILL after 20 s: a hang is a failure). */
function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
    proc.kill('SIGTERM');
  });
}

const workers = new Set();

/** Starts `baton worker ARGS` in the background. stop() resolves its exit
 * code; exited resolves when it ends by itself (--max-jobs). */
function startWorker(args) {
  const proc = spawn(BIN, ['worker', ...args], {
    env: { ...process.env, BATON_ADDRESS: server.address },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = { proc, stderr: '' };
  proc.stderr.on('data', (d) => (w.stderr += d));
  w.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  w.stop = async () => {
    workers.delete(w);
    return stopProcess(proc);
  };
  workers.add(w);
  return w;
}

/** Polls fn (async, truthy when done) every 25 ms for at most ms. */
async function waitFor(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function rest(method, p, body) {
  const res = await fetch(server.address + p, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const instanceState = async (key) =>
  (await rest('GET', `/v2/process-instances/${key}`)).body.state;

const waitForState = (key, state) =>
  waitFor(`instance ${key} to be ${state}`, async () => (await instanceState(key)) === state);

/** A copy of one-task.bpmn with its own process id and job type (and
 * retries); returns the file's path. */
function oneTask(id, { retries } = {}) {
  let xml = fs.readFileSync(path.join(root, 'bench/models/one-task.bpmn'), 'utf8');
  xml = xml.replaceAll('"one-task"', `"${id}"`).replace('type="work"', `type="${id}"`);
  if (retries) xml = xml.replace(`type="${id}"`, `type="${id}" retries="${retries}"`);
  const file = path.join(tmp, `${id}.bpmn`);
  fs.writeFileSync(file, xml);
  return file;
}

async function deploy(...files) {
  const r = await baton(['deploy', ...files]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

async function startInstance(id, ...more) {
  const r = await baton(['start', id, ...more]);
  assert.equal(r.code, 0, r.stderr);
  const key = r.stdout.trim();
  assert.match(key, /^\d+$/);
  return key;
}

/** A fresh directory for a test's scripts to write into. */
const scratch = (name) => fs.mkdtempSync(path.join(tmp, `${name}-`));

// ---- the server ----------------------------------------------------------------

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  for (const w of workers) await w.stop();
  const code = server ? await server.stop() : 0;
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.equal(code, 0, 'baton serve exits 0 on SIGTERM');
});

// ---- tests -----------------------------------------------------------------------

test('every command answers --help with its usage', async () => {
  for (const cmd of ['deploy', 'start', 'cancel', 'instances', 'incidents', 'resolve', 'worker', 'publish', 'signal']) {
    const r = await baton([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`^usage: baton ${cmd}`), cmd);
  }
  const w = await baton(['worker', '--help']);
  assert.match(w.stdout, /exit 64/);
  assert.match(w.stdout, /BATON_JOB_KEY/);
  const top = await baton(['--help']);
  for (const cmd of ['deploy', 'start', 'worker', 'instances', 'incidents', 'resolve', 'cancel', 'publish', 'signal'])
    assert.match(top.stdout, new RegExp(`^  ${cmd} `, 'm'));
  const bad = await baton(['start']);
  assert.equal(bad.code, 2);
});

test('deploy prints id, version and key; deploying again keeps the version', async () => {
  const trip = path.join(root, 'examples/trip-booking/trip-booking-jobs.bpmn');
  const r = await deploy(trip);
  assert.match(r.stdout, /^trip-booking {2}version 1 {2}key \d+$/m);
  const again = await deploy(trip);
  assert.equal(again.stdout, r.stdout);
});

test('deploy of a broken model exits 1 and prints the problem detail', async () => {
  const dir = path.join(root, 'tests/data/bpmn/bad');
  const expected = fs
    .readFileSync(path.join(dir, 'expected.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split('|').map((s) => s.trim()));
  assert.ok(expected.length > 10);
  for (const [file, , element, line] of expected) {
    const r = await baton(['deploy', path.join(dir, file)]);
    assert.equal(r.code, 1, file);
    assert.equal(r.stdout, '', file);
    assert.match(r.stderr, /^error: INVALID_ARGUMENT: the deployment was rejected: /, file);
    assert.ok(r.stderr.includes(file), `${file}: ${r.stderr}`);
    if (element) assert.ok(r.stderr.includes(element), `${file}: ${r.stderr}`);
    if (Number(line) > 0) assert.ok(r.stderr.includes(`line ${line}`), `${file}: ${r.stderr}`);
  }
  const missing = await baton(['deploy', path.join(tmp, 'no-such.bpmn')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: cannot read .*no-such\.bpmn/);
});

test('start --await returns the variables the worker\'s command produced', async () => {
  await deploy(oneTask('cli-echo'));
  const w = startWorker(['--type', 'cli-echo', '--', script('worker-echo.sh'), 'from-argv']);
  const r = await baton([
    'start', 'cli-echo', '--variables', '{"order":{"id":7,"items":["a","b"]},"name":"Zoë"}',
    '--business-id', 'order-7', '--await', '--timeout', '20000',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const vars = JSON.parse(r.stdout);
  // The job's variables arrived on stdin, the job's identity in the environment.
  assert.deepEqual(vars.input, { order: { id: 7, items: ['a', 'b'] }, name: 'Zoë' });
  assert.equal(vars.order.id, 7);
  assert.match(vars.jobKey, /^\d+$/);
  assert.equal(vars.jobType, 'cli-echo');
  assert.equal(vars.elementId, 'work');
  assert.match(vars.instanceKey, /^\d+$/);
  assert.equal(vars.retries, '3');
  assert.equal(vars.tag, 'from-argv');
  // Numbers pass through stdin, stdout and the CLI exactly (decimal, any size).
  const exact = await baton([
    'start', 'cli-echo', '--variables', '{"price":19.99,"big":123456789012345678901234567890}',
    '--await',
  ]);
  assert.equal(exact.code, 0, exact.stderr);
  assert.match(exact.stdout, /^\{"price":19\.99,"big":123456789012345678901234567890,"input":\{"price":19\.99,"big":123456789012345678901234567890\},/);
  // Without --await: the key, and the instance completes in the background.
  const key = await startInstance('cli-echo');
  await waitForState(key, 'COMPLETED');
  assert.equal(await w.stop(), 0);
  assert.match(w.stderr, /completed/);
});

test('custom headers reach the command as BATON_HEADER_<KEY>', async () => {
  await deploy(script('headers.bpmn'));
  const w = startWorker(['--type', 'cli-headers', '--max-jobs', '1', '--', script('worker-echo.sh')]);
  const r = await baton(['start', 'cli-headers', '--await']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).header, 'business');
  assert.equal(await w.exited, 0, '--max-jobs 1: exits after one job');
});

test('a failing command is retried with the same job key until it succeeds', async () => {
  await deploy(oneTask('cli-flaky'));
  const dir = scratch('flaky');
  const w = startWorker([
    '--type', 'cli-flaky', '--backoff', '50', '--', script('worker-flaky.sh'), dir, '2',
  ]);
  const r = await baton(['start', 'cli-flaky', '--await', '--timeout', '30000']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).attempts, 3);
  const attempts = fs.readFileSync(path.join(dir, 'attempts.log'), 'utf8').trim().split('\n');
  assert.equal(attempts.length, 3);
  const keys = new Set(attempts.map((l) => l.split(' ')[0]));
  assert.equal(keys.size, 1, 'BATON_JOB_KEY is the same on every retry');
  assert.deepEqual(attempts.map((l) => l.split(' ')[1]), ['3', '2', '1'], 'BATON_RETRIES');
  assert.equal(await w.stop(), 0);
  assert.match(w.stderr, /failed \(retries left: 2\): attempt 1 failed: the service is down/);
});

test('exit 64 throws FLIGHT_FAILED: the car, then the hotel, are cancelled', async () => {
  const dir = scratch('saga');
  const order = path.join(dir, 'order.log');
  const ws = [
    startWorker(['--type', 'book-hotel', '--', script('worker-record.sh'), order]),
    startWorker(['--type', 'book-car', '--', script('worker-record.sh'), order]),
    startWorker(['--type', 'book-flight', '--', script('worker-throw.sh'), 'FLIGHT_FAILED']),
    startWorker(['--type', 'cancel-car', '--', script('worker-record.sh'), order]),
    startWorker(['--type', 'cancel-hotel', '--', script('worker-record.sh'), order]),
    startWorker(['--type', 'cancel-flight', '--', script('worker-record.sh'), order]),
  ];
  const r = await baton([
    'start', 'trip-booking', '--variables', '{"trip":"Lisbon"}', '--await', '--timeout', '30000',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).trip, 'Lisbon');
  const lines = fs.readFileSync(order, 'utf8').trim().split('\n');
  assert.deepEqual(lines, ['BookHotel', 'BookCar', 'CancelCar', 'CancelHotel']);
  for (const w of ws) assert.equal(await w.stop(), 0);
  assert.match(ws[2].stderr, /threw the BPMN error FLIGHT_FAILED/);
});

test('incidents lists a job out of retries; resolve --retries runs it again', async () => {
  await deploy(oneTask('cli-fragile', { retries: 2 }));
  const failing = startWorker([
    '--type', 'cli-fragile', '--backoff', '10', '--', script('worker-fail.sh'),
  ]);
  const a = await startInstance('cli-fragile');
  const b = await startInstance('cli-fragile');
  const incidentsOf = async (key) => {
    const r = await baton(['incidents', '--instance', key]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };
  const rowsA = await waitFor('an incident on A', async () => {
    const rows = await incidentsOf(a);
    return rows.length === 2 && rows;
  });
  await waitFor('an incident on B', async () => (await incidentsOf(b)).length === 2);
  assert.equal(await failing.stop(), 0);
  assert.match(rowsA[0], /^KEY +TYPE +ELEMENT +INSTANCE +MESSAGE$/);
  const cells = rowsA[1].split(/ {2,}/);
  assert.equal(cells[1], 'JOB_NO_RETRIES');
  assert.equal(cells[2], 'work');
  assert.equal(cells[3], a);
  assert.equal(cells[4], 'the service said no', 'stderr is the error message');
  const all = await baton(['incidents']);
  assert.ok(all.stdout.includes(a) && all.stdout.includes(b));

  // A: the job is found through the incident; B: named with --job.
  const ok = startWorker(['--type', 'cli-fragile', '--', script('worker-echo.sh')]);
  const incidentA = cells[0];
  const resolvedA = await baton(['resolve', incidentA, '--retries', '1']);
  assert.equal(resolvedA.code, 0, resolvedA.stderr);
  assert.match(resolvedA.stdout, new RegExp(`^resolved ${incidentA} \\(job \\d+ has 1 retries\\)`));
  await waitForState(a, 'COMPLETED');
  const search = await rest('POST', '/v2/incidents/search', {
    filter: { processInstanceKey: b, state: 'ACTIVE' },
  });
  const { incidentKey, jobKey } = search.body.items[0];
  const resolvedB = await baton(['resolve', incidentKey, '--retries', '2', '--job', jobKey]);
  assert.equal(resolvedB.code, 0, resolvedB.stderr);
  await waitForState(b, 'COMPLETED');
  assert.deepEqual(await incidentsOf(a), ['KEY  TYPE  ELEMENT  INSTANCE  MESSAGE']);
  assert.equal(await ok.stop(), 0);
  // Resolving again: the incident is gone.
  const again = await baton(['resolve', incidentA]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: /);
});

test('exit 0 with output that is not JSON fails the job with a clear message', async () => {
  await deploy(oneTask('cli-garbage', { retries: 1 }));
  const w = startWorker(['--type', 'cli-garbage', '--', script('worker-fail.sh'), 'garbage']);
  const key = await startInstance('cli-garbage');
  const row = await waitFor('the incident', async () => {
    const r = await baton(['incidents', '--instance', key]);
    return r.stdout.trim().split('\n')[1];
  });
  assert.match(row, /JOB_NO_RETRIES .*the command exited 0 but its output is not JSON/);
  assert.equal(await w.stop(), 0);
});

test('a command that outlives the job timeout is stopped and the job fails', async () => {
  await deploy(oneTask('cli-slow'));
  const dir = scratch('slow');
  const w = startWorker([
    '--type', 'cli-slow', '--timeout', '1500', '--backoff', '10', '--',
    script('worker-slow.sh'), dir,
  ]);
  const t0 = Date.now();
  const r = await baton(['start', 'cli-slow', '--await', '--timeout', '30000']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).attempt, 2);
  assert.ok(Date.now() - t0 < 20000, 'the first attempt was stopped, not waited for');
  assert.match(w.stderr, /ran longer than the job timeout allows \(1500 ms\) and was stopped/);
  assert.equal(await w.stop(), 0);
});

test('--concurrency N runs N commands at once', async () => {
  await deploy(oneTask('cli-gate'));
  const dir = scratch('gate');
  const w = startWorker([
    '--type', 'cli-gate', '--concurrency', '3', '--', script('worker-gate.sh'), dir, '3',
  ]);
  const keys = [];
  for (let i = 0; i < 3; i++) keys.push(await startInstance('cli-gate'));
  for (const k of keys) await waitForState(k, 'COMPLETED');
  assert.equal(await w.stop(), 0);
});

test('SIGTERM lets the running command finish and report its job', async () => {
  await deploy(oneTask('cli-stop'));
  const dir = scratch('stop');
  const w = startWorker(['--type', 'cli-stop', '--', script('worker-slow-ok.sh'), dir]);
  const key = await startInstance('cli-stop');
  await waitFor('the command to start', () => fs.existsSync(path.join(dir, 'started')));
  assert.equal(await w.stop(), 0);
  assert.equal(await instanceState(key), 'COMPLETED');
  assert.match(w.stderr, /stopping; finishing the jobs in hand/);
});

test('cancel terminates an instance; instances lists and filters them', async () => {
  await deploy(oneTask('cli-idle'));
  const k1 = await startInstance('cli-idle');
  const k2 = await startInstance('cli-idle');
  const c = await baton(['cancel', k1]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, `canceled ${k1}\n`);
  assert.equal(await instanceState(k1), 'TERMINATED');
  const again = await baton(['cancel', k1]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: NOT_FOUND: /);

  const list = await baton(['instances', '--process', 'cli-idle']);
  assert.equal(list.code, 0, list.stderr);
  const rows = list.stdout.trim().split('\n');
  assert.match(rows[0], /^KEY +PROCESS +VERSION +STATE +INCIDENT +START$/);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[1].split(/ +/).slice(0, 5), [k2, 'cli-idle', '1', 'ACTIVE', 'no']);
  assert.deepEqual(rows[2].split(/ +/).slice(0, 5), [k1, 'cli-idle', '1', 'TERMINATED', 'no']);
  assert.match(rows[1].split(/ +/)[5], /^\d{4}-\d\d-\d\dT/);

  const active = await baton(['instances', '--process', 'cli-idle', '--state', 'ACTIVE']);
  assert.equal(active.stdout.trim().split('\n').length, 2);
  const one = await baton(['instances', '--process', 'cli-idle', '--limit', '1']);
  assert.equal(one.stdout.trim().split('\n').length, 2);
  assert.match(one.stderr, /1 of 2 instances shown/);
  const bad = await baton(['instances', '--state', 'SLEEPING']);
  assert.equal(bad.code, 2);
  assert.equal((await baton(['cancel', k2])).code, 0);
});

test('publish correlates to a waiting instance; --ttl buffers, --id deduplicates, --correlate reports', async () => {
  const file = path.join(tmp, 'cli-wait.bpmn');
  fs.writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://baton.test">
  <bpmn:message id="m" name="cli-paid"><bpmn:extensionElements>
    <zeebe:subscription correlationKey="=order"/></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="cli-wait" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="w"/>
    <bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>`);
  await deploy(file);
  const k = await startInstance('cli-wait', '--variables', '{"order": "A-1"}');
  const p = await baton(['publish', 'cli-paid', '--key', 'A-1', '--variables', '{"paid": true}']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^\d+\n$/);
  assert.equal(await instanceState(k), 'COMPLETED');

  // Buffered before the instance starts; a second one with the same id is refused.
  const b = await baton(['publish', 'cli-paid', '--key', 'A-2', '--ttl', '600000', '--id', 'once']);
  assert.equal(b.code, 0, b.stderr);
  const dup = await baton(['publish', 'cli-paid', '--key', 'A-2', '--ttl', '600000', '--id', 'once']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^error: INVALID_STATE: .*buffered already/);
  const k2 = await startInstance('cli-wait', '--variables', '{"order": "A-2"}');
  assert.equal(await instanceState(k2), 'COMPLETED');

  // --correlate prints the instance, or fails when nothing waits.
  const none = await baton(['publish', 'cli-paid', '--key', 'A-3', '--correlate']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^error: NOT_FOUND: /);
  const k3 = await startInstance('cli-wait', '--variables', '{"order": "A-3"}');
  const c = await baton(['publish', 'cli-paid', '--key', 'A-3', '--correlate']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, `${k3}\n`);
  assert.equal((await baton(['publish'])).code, 2);
  assert.equal((await baton(['publish', 'x', '--correlate', '--ttl', '5'])).code, 2);
});

test('signal releases every waiting instance; a broadcast is not kept', async () => {
  const file = path.join(tmp, 'cli-signal.bpmn');
  fs.writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://baton.test">
  <bpmn:signal id="sig" name="cli-go"/>
  <bpmn:process id="cli-signal" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:intermediateCatchEvent id="w"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="w"/>
    <bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>`);
  await deploy(file);
  const early = await baton(['signal', 'cli-go']); // nobody waits: not an error, not kept
  assert.equal(early.code, 0, early.stderr);
  assert.match(early.stdout, /^\d+\n$/);
  const k1 = await startInstance('cli-signal');
  const k2 = await startInstance('cli-signal');
  assert.equal(await instanceState(k1), 'ACTIVE');
  const r = await baton(['signal', 'cli-go', '--variables', '{"go": true}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+\n$/);
  assert.notEqual(r.stdout, early.stdout);
  assert.equal(await instanceState(k1), 'COMPLETED');
  assert.equal(await instanceState(k2), 'COMPLETED');
  assert.equal((await baton(['signal'])).code, 2);
  assert.equal((await baton(['signal', 'x', '--ttl', '5'])).code, 2);
  const vars = await baton(['signal', 'x', '--variables', '[1]']);
  assert.equal(vars.code, 2);
  assert.match(vars.stderr, /^error: --variables is not a JSON object/);
});

test('errors: no server, bad keys, bad variables', async () => {
  const down = await baton(['instances'], { address: 'http://127.0.0.1:1' });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^error: cannot reach baton at http:\/\/127\.0\.0\.1:1: /);
  assert.equal((await baton(['cancel', 'abc'])).code, 2);
  const vars = await baton(['start', 'cli-idle', '--variables', '[1,2]']);
  assert.equal(vars.code, 2);
  assert.match(vars.stderr, /^error: --variables is not a JSON object/);
  const unknown = await baton(['start', 'no-such-process']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: NOT_FOUND: /);
});

test('credentials: --token and --user, or BATON_TOKEN / BATON_USER', async () => {
  const secured = await startServer(['--token', 's3cret', '--basic', 'ops:pa55']);
  try {
    const opts = { address: secured.address };
    const none = await baton(['instances'], opts);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: Unauthorized: credentials required/);
    assert.equal((await baton(['instances', '--token', 's3cret'], opts)).code, 0);
    assert.equal((await baton(['instances', '--user', 'ops:pa55'], opts)).code, 0);
    const env = await baton(['instances'], { ...opts, env: { BATON_TOKEN: 's3cret' } });
    assert.equal(env.code, 0, env.stderr);
    const wrong = await baton(['instances', '--user', 'ops:nope'], opts);
    assert.match(wrong.stderr, /invalid credentials/);
    // A worker that is refused stops at once with exit 1.
    const w = await baton(['worker', '--type', 'x', '--address', secured.address, '--', 'true']);
    assert.equal(w.code, 1);
  } finally {
    assert.equal(await secured.stop(), 0);
  }
});
