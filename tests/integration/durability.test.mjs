// durability.test.mjs — acknowledged means durable: instances are created
// under load from concurrent clients, the server is SIGKILLed in the middle,
// restarted on the same data directory, and workers then run every
// acknowledged instance to completion. None may be missing, none may be
// completed twice. The "[search]" variant also checks the store's view through
// the search endpoints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS, NOW, client, getInstance, startServer, until, worker } from './harness.mjs';

const TOTAL = 300;        // creations attempted
const LOOPS = 10;         // concurrent creation loops
const KILL_AFTER = 150;   // SIGKILL once this many creations were acknowledged

/**
 * The scenario; `check(server, client, acked, completions)` runs against the
 * restarted server after every acknowledged instance has completed.
 */
async function crashAndRecover(t, check) {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-it-dur-'));
  const servers = [];
  try {
    // ---- load, then SIGKILL ----
    const s1 = await startServer({ dataDir });
    servers.push(s1);
    const c1 = client(s1);
    await c1.deployResourcesFromFiles([MODELS.oneTask]);
    const acked = [];
    const unexpected = [];
    let next = 0;
    let killed = false;
    const loop = async (id) => {
      while (!killed && next < TOTAL) {
        const n = next++;
        try {
          const pi = await c1.createProcessInstance({
            processDefinitionId: 'one-task', variables: { n, loop: id },
          });
          acked.push(pi.processInstanceKey);
          if (acked.length >= KILL_AFTER && !killed) {
            killed = true;
            s1.proc.kill('SIGKILL'); // other loops have requests in flight now
          }
        } catch (e) {
          if (!killed) unexpected.push(`${n}: ${e.name} ${e.status ?? ''} ${e.detail ?? e.message}`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
    assert.deepEqual(unexpected, [], 'creations failed before the kill');
    assert.ok(killed, `the server was not killed: only ${acked.length} creations acknowledged`);
    const exit = await s1.kill();
    assert.equal(exit.signal, 'SIGKILL', `the first server ended otherwise: ${JSON.stringify(exit)}`);
    assert.equal(new Set(acked).size, acked.length, 'an instance key was handed out twice');
    t.diagnostic(`${acked.length} of ${TOTAL} creations acknowledged before/around SIGKILL`);

    // ---- restart on the same data, run everything to the end ----
    const s2 = await startServer({ dataDir });
    servers.push(s2);
    const c2 = client(s2);
    const completions = new Map();
    worker(c2, 'work', async (job) => {
      const receipt = await job.complete({ done: true });
      completions.set(job.processInstanceKey, (completions.get(job.processInstanceKey) ?? 0) + 1);
      return receipt;
    }, { maxParallelJobs: 32 });

    const pending = new Set(acked);
    await until(async () => {
      for (const key of [...pending]) {
        let pi;
        try {
          pi = await getInstance(c2, key);
        } catch (e) {
          throw new Error(`acknowledged instance ${key} after restart: ${e.status ?? ''} ${e.detail ?? e.message}`);
        }
        if (pi.state === 'COMPLETED') pending.delete(key);
        else assert.equal(pi.state, 'ACTIVE', `instance ${key}`);
      }
      return pending.size === 0;
    }, { tries: 300, intervalMs: 100, what: `every acknowledged instance COMPLETED (${pending.size} left)` });

    for (const key of acked)
      assert.equal(completions.get(key), 1, `the job of instance ${key} was completed ${completions.get(key) ?? 0} times`);

    await check(s2, c2, acked, completions);

    c2.stopAllWorkers();
    const exit2 = await s2.stop();
    assert.deepEqual(exit2, { code: 0, signal: null }, 'the restarted server did not exit cleanly');
  } catch (e) {
    const out = servers.map((s, i) => `--- baton run ${i + 1} ---\n${s.output().slice(-4000)}`).join('\n');
    if (e instanceof Error && typeof e.stack === 'string') e.stack += `\n${out}`;
    throw e;
  } finally {
    for (const s of servers) {
      for (const c of s.clients) c.stopAllWorkers();
      await s.kill();
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('SIGKILL under load: every acknowledged instance survives and completes once', async (t) => {
  await crashAndRecover(t, async () => {});
});

test('SIGKILL under load: the store has each acknowledged instance once, completed once [search]', async (t) => {
  await crashAndRecover(t, async (s, c, acked) => {
    const page = { limit: 1000 };
    const instances = (await c.searchProcessInstances({ filter: { processDefinitionId: 'one-task' }, page }, NOW)).items;
    assert.ok(instances.length >= acked.length && instances.length <= TOTAL,
      `${instances.length} instances stored for ${acked.length} acknowledged`);
    const seen = new Map();
    for (const pi of instances) seen.set(pi.processInstanceKey, (seen.get(pi.processInstanceKey) ?? 0) + 1);
    for (const pi of instances) assert.equal(pi.state, 'COMPLETED', `instance ${pi.processInstanceKey}`);
    for (const key of acked) assert.equal(seen.get(key), 1, `instance ${key} listed ${seen.get(key) ?? 0} times`);

    // Per instance, its element instances: the task and the end event once each.
    for (const key of acked) {
      const items = (await c.searchElementInstances({ filter: { processInstanceKey: key }, page }, NOW)).items;
      const of = (id) => items.filter((e) => e.elementId === id);
      assert.equal(of('work').length, 1, `instance ${key}: ${JSON.stringify(items)}`);
      assert.equal(of('work')[0].state, 'COMPLETED', `instance ${key}`);
      assert.equal(of('end').length, 1, `instance ${key} reached its end ${of('end').length} times`);
      assert.equal(of('end')[0].state, 'COMPLETED', `instance ${key}`);
    }
  });
});
