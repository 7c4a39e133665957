// harness.mjs — the integration suite's plumbing: start a real `baton serve`
// on a free port with its own data directory, wait until it answers, stop it
// (SIGTERM, and it must exit 0) or kill it (SIGKILL); build the official
// Camunda client for it; raw HTTP where the client has no method; bounded
// polling for states.
//
// The binary comes from BATON_BIN (tests/integration/run.sh and CTest set it),
// else build/baton of the repository.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { createCamundaClient } from '@camunda8/orchestration-cluster-api';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BATON_BIN = process.env.BATON_BIN || join(REPO, 'build', 'baton');
export const MODELS = {
  trip: join(REPO, 'examples', 'trip-booking', 'trip-booking-jobs.bpmn'),
  oneTask: join(REPO, 'bench', 'models', 'one-task.bpmn'),
  bad: (name) => join(REPO, 'tests', 'data', 'bpmn', 'bad', name),
};

/** For the client's eventually consistent read methods: read once, no waiting. */
export const NOW = { consistency: { waitUpToMs: 0 } };

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait for a state: call fn until it returns a truthy value (returned) or
 * `tries` calls have been made (throws, naming `what`). Waits for a condition;
 * it asserts nothing about how long that takes. An exception from fn ends the
 * wait at once (a failing request is a failure, not "not yet"), unless
 * retryErrors is set.
 */
export async function until(fn, { tries = 200, intervalMs = 50, what = 'condition', retryErrors = false } = {}) {
  let last;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (!retryErrors) throw e;
      last = e;
    }
    await pause(intervalMs);
  }
  const why = last instanceof Error ? `; last error: ${last.message}` : '';
  throw new Error(`${what} not reached after ${tries} tries${why}`);
}

const running = new Set();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Start `baton serve --port 0 --data DIR [...args]`. The kernel picks a free
 * port; baton logs the one it bound ("baton listening on http://HOST:PORT"),
 * which is read from its output. Resolves once GET /v2/status answers 204.
 *   opts.dataDir  reuse a data directory (restart); default a fresh temp one
 *   opts.args     extra command-line arguments
 */
export async function startServer({ dataDir, args = [] } = {}) {
  const ownDir = !dataDir;
  if (!dataDir) dataDir = await mkdtemp(join(tmpdir(), 'baton-it-'));
  const proc = spawn(BATON_BIN, ['serve', '--port', '0', '--data', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let output = '';
  let exit = null;
  let spawnError = null;
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.on('error', (e) => (spawnError = e));
  proc.on('exit', (code, signal) => {
    exit = { code, signal };
    running.delete(proc);
  });

  const server = {
    proc,
    dataDir,
    url: null,
    port: null,
    clients: [],
    output: () => output,
    exited: () => exit,
    /** SIGTERM, wait for the exit (bounded); resolves to { code, signal }. */
    async stop() {
      if (exit) return exit;
      proc.kill('SIGTERM');
      try {
        await until(() => exit, { tries: 600, intervalMs: 50, what: 'baton exit after SIGTERM' });
      } catch (e) {
        proc.kill('SIGKILL');
        await until(() => exit, { tries: 200, intervalMs: 50, what: 'baton exit after SIGKILL' });
        throw new Error(`${e.message}\n--- baton output ---\n${tail(output)}`);
      }
      return exit;
    },
    /** SIGKILL, wait for the exit. */
    async kill() {
      if (exit) return exit;
      proc.kill('SIGKILL');
      await until(() => exit, { tries: 200, intervalMs: 50, what: 'baton exit after SIGKILL' });
      return exit;
    },
    async removeData() {
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    const m = await until(
      () => {
        if (spawnError) throw spawnError;
        if (exit) throw new Error(`baton exited early (${JSON.stringify(exit)})`);
        return output.match(/listening on http:\/\/([^\s,/]+):(\d+)/);
      },
      { tries: 400, intervalMs: 25, what: `baton (${BATON_BIN}) announcing its port` },
    );
    server.port = Number(m[2]);
    server.url = `http://127.0.0.1:${server.port}`;
    await until(
      async () => {
        if (exit) throw new Error(`baton exited (${JSON.stringify(exit)})`);
        const r = await fetch(`${server.url}/v2/status`);
        await r.arrayBuffer();
        return r.status === 204;
      },
      { tries: 200, intervalMs: 25, what: 'GET /v2/status 204', retryErrors: true },
    );
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n--- baton output ---\n${tail(output)}`);
  }
  return server;
}

function tail(s, n = 6000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

/**
 * A node:test test body running against its own server: starts it, runs
 * fn(server, t), stops it with SIGTERM and asserts a clean exit (code 0).
 * On failure the server's output is printed with the error.
 */
export function withServer(fn, opts = {}) {
  return async (t) => {
    const server = await startServer(opts);
    let failure = null;
    try {
      await fn(server, t);
    } catch (e) {
      failure = e;
    }
    for (const c of server.clients) c.stopAllWorkers();
    let exit;
    try {
      exit = await server.stop();
    } catch (e) {
      failure ??= e;
    }
    if (failure) {
      const out = tail(server.output());
      if (failure instanceof Error && typeof failure.stack === 'string')
        failure.stack += `\n--- baton output ---\n${out}`;
      else t.diagnostic(`baton output: ${out}`);
      throw failure;
    }
    assert.deepEqual(exit, { code: 0, signal: null },
      `baton did not exit cleanly on SIGTERM\n--- baton output ---\n${tail(server.output())}`);
    await server.removeData();
  };
}

/**
 * The official client for a server: plain HTTP, no OAuth. The client's own
 * HTTP retries are off (one attempt) so every status the server sends is seen
 * by the test, and adaptive back-pressure only observes.
 */
export function client(server, config = {}, extra = {}) {
  const c = createCamundaClient({
    config: {
      CAMUNDA_REST_ADDRESS: server.url,
      CAMUNDA_AUTH_STRATEGY: 'NONE',
      CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
      CAMUNDA_SDK_BACKPRESSURE_PROFILE: 'LEGACY',
      CAMUNDA_SDK_LOG_LEVEL: 'silent',
      CAMUNDA_SDK_VALIDATION: 'none',
      ...config,
    },
    ...extra,
  });
  server.clients?.push(c); // withServer stops their job workers before the server
  return c;
}

/**
 * Raw HTTP, for what the client has no method for (malformed bodies, headers,
 * authentication failures). body: a string/Buffer as is, anything else as JSON.
 * Resolves to { status, headers, text, json }.
 */
export async function raw(server, method, path, { body, headers = {} } = {}) {
  const h = { ...headers };
  let b = body;
  if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    b = JSON.stringify(body);
  }
  if (b !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
    h['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(server.url + path, { method, headers: h, body: b });
  } catch (e) {
    // A server may answer (e.g. 413) and close before the whole body is sent.
    throw new Error(`${method} ${path}: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ''}`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts an RFC 9457 problem answer of the given status (a raw() result). */
export function assertProblem(res, status, what = '') {
  const ctx = `${what} → ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, ctx);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json\b/, ctx);
  assert.ok(res.json && typeof res.json === 'object', `problem body is not JSON: ${ctx}`);
  for (const f of ['type', 'title', 'detail', 'instance'])
    assert.equal(typeof res.json[f], 'string', `problem field '${f}' missing: ${ctx}`);
  assert.equal(res.json.status, status, ctx);
  return res.json;
}

/** Awaits a client call that must fail with an HTTP status; returns the error. */
export async function rejectsWith(promise, status, what = '') {
  let err;
  try {
    const v = await promise;
    assert.fail(`${what}: expected HTTP ${status}, got success ${JSON.stringify(v)?.slice(0, 300)}`);
  } catch (e) {
    if (e?.code === 'ERR_ASSERTION') throw e;
    err = e;
  }
  assert.equal(err?.status, status,
    `${what}: expected HTTP ${status}, got ${err?.name} ${err?.status ?? ''} ${err?.title ?? ''} ${err?.detail ?? err?.message ?? ''}`);
  return err;
}

/** Reads a gauge/counter from GET /metrics (0 when absent). */
export async function metric(server, name) {
  const r = await fetch(`${server.url}/metrics`);
  const text = await r.text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/** Reads an instance now (no eventual-consistency wait). */
export function getInstance(c, processInstanceKey) {
  return c.getProcessInstance({ processInstanceKey }, NOW);
}

/** Waits until the instance is in `state`; returns it. */
export function untilState(c, processInstanceKey, state, opts = {}) {
  return until(async () => {
    const pi = await getInstance(c, processInstanceKey);
    return pi.state === state ? pi : null;
  }, { tries: 200, intervalMs: 50, what: `instance ${processInstanceKey} ${state}`, ...opts });
}

/**
 * A job worker of the official client: handler(job) must end with one of
 * job.complete / fail / error. Stopped by withServer (stopAllWorkers).
 */
export function worker(c, jobType, jobHandler, cfg = {}) {
  return c.createJobWorker({
    jobType,
    jobHandler,
    maxParallelJobs: 8,
    jobTimeoutMs: 30000,
    pollTimeoutMs: 5000,
    pollIntervalMs: 10,
    ...cfg,
  });
}

// ---- models written by the tests ------------------------------------------------

/** A BPMN document with one executable process `processId` holding `body`
 *  (and `defs` at definitions level: messages, signals, errors). */
export function bpmnDoc(processId, defs, body) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://baton.test">
${defs}
<bpmn:process id="${processId}" isExecutable="true">
${body}
</bpmn:process>
</bpmn:definitions>`;
}

export const flow = (id, from, to) =>
  `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"/>`;

/** Deploys {fileName: xml} as one deployment (through files, as a user would). */
export async function deployXml(c, models) {
  const dir = await mkdtemp(join(tmpdir(), 'baton-it-models-'));
  try {
    const files = [];
    for (const [name, xml] of Object.entries(models)) {
      const path = join(dir, name);
      await writeFile(path, xml);
      files.push(path);
    }
    return await c.deployResourcesFromFiles(files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts an instance; its key. */
export async function startInstance(c, processDefinitionId, variables) {
  const r = await c.createProcessInstance({ processDefinitionId, variables });
  return r.processInstanceKey;
}

/** An instance's state, read now. */
export async function instanceState(c, key) {
  return (await getInstance(c, key)).state;
}

/** The value of variable `name` of an instance, from the variable search
 *  (the server answers once its index holds what was committed before the
 *  request, so no polling is needed). */
export async function variableOf(c, processInstanceKey, name) {
  const r = await c.searchVariables({ filter: { processInstanceKey, name } }, NOW);
  assert.equal(r.items.length, 1, JSON.stringify(r.items));
  return JSON.parse(r.items[0].value);
}
