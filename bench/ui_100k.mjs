// ui_100k.mjs — how long the operations UI's pages take to show their main
// content against a large store (bench/RESULTS.md, "Operations UI at
// 100,000 instances").
//
// Run against a `baton serve` that already holds the instances of
// examples/trip-booking/trip-booking-jobs.bpmn (seeded by any means: through
// include/baton.h in batches, or REST):
//
//   baton serve --port 8080 --data DIR &
//   node bench/ui_100k.mjs --url http://127.0.0.1:8080 --instances 100000 [--rounds 3]
//
// It first waits until the search index has caught up (the element
// statistics count --instances completed start events), then loads each
// page in headless chromium (playwright-core, /usr/bin/chromium or
// $CHROMIUM, a fresh profile) and times from navigation to the page's main
// content: the processes page with its diagram and per-element counts, the
// instances list, one instance (with an incident) and its history timeline,
// the incidents page. One line per page and round, then the median and max
// per page.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const URL_ = arg('url', 'http://127.0.0.1:8080');
const N = Number(arg('instances', 100000));
const ROUNDS = Number(arg('rounds', 3));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

async function rest(method, path, body) {
  const res = await fetch(URL_ + path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

// ---- the index catches up ----------------------------------------------------------

const defs = await rest('POST', '/v2/process-definitions/search', { filter: { processDefinitionId: 'trip-booking' } });
const def = defs.items.sort((a, b) => b.version - a.version)[0];
if (!def) throw new Error('no trip-booking definition on the server');
const t0 = Date.now();
for (;;) {
  const s = await rest('POST', `/v2/process-definitions/${def.processDefinitionKey}/statistics/element-instances`, {});
  const start = s.items.find((x) => x.elementId === 'TripRequested');
  const n = start ? start.completed : 0;
  if (n >= N) break;
  if (Date.now() - t0 > 30 * 60 * 1000) throw new Error(`the index holds ${n} of ${N} instances after 30 min`);
  await new Promise((r) => setTimeout(r, 2000));
}
console.log(`index caught up: ${N} instances (waited ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

const withIncident = await rest('POST', '/v2/process-instances/search', { filter: { hasIncident: true }, page: { limit: 1 } });
const instanceKey = withIncident.items[0]?.processInstanceKey
  ?? (await rest('POST', '/v2/process-instances/search', { page: { limit: 1 } })).items[0].processInstanceKey;

// ---- the pages -------------------------------------------------------------------------

const pages = [
  {
    name: 'processes (diagram + counts)',
    path: '/ui/processes',
    ready: async (p) => {
      await p.locator('#process-canvas[data-stats-ready="true"]').waitFor({ timeout: 600000 });
      await p.locator('.ov-group[data-element-id="BookHotel"] .ov').first().waitFor({ timeout: 600000 });
    },
  },
  {
    name: 'instances list',
    path: '/ui/instances',
    ready: (p) => p.locator('#instances-table[data-total] tbody tr').first().waitFor({ timeout: 600000 }),
  },
  {
    name: 'one instance',
    path: `/ui/instances/${instanceKey}`,
    ready: (p) => p.locator('#instance-canvas[data-ready="true"]').waitFor({ timeout: 600000 }),
    // then its history tab, timed separately
    after: async (p) => {
      const t = performance.now();
      await p.click('[data-tab="history"]');
      await p.locator('.timeline .tl-text').first().waitFor({ timeout: 600000 });
      return { name: 'instance history tab', ms: performance.now() - t };
    },
  },
  {
    name: 'incidents',
    path: '/ui/incidents',
    ready: (p) => p.locator('.incident-group tbody tr').first().waitFor({ timeout: 600000 }),
  },
];

const { chromium } = await import('playwright-core');
const profile = mkdtempSync(join(tmpdir(), 'baton-ui-bench-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
});
const times = new Map();
const note = (name, ms) => {
  if (!times.has(name)) times.set(name, []);
  times.get(name).push(ms);
};
try {
  const page = browser.pages()[0] || (await browser.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const pg of pages) {
      await page.goto('about:blank');
      const t = performance.now();
      await page.goto(URL_ + pg.path);
      await pg.ready(page);
      const ms = performance.now() - t;
      note(pg.name, ms);
      console.log(`round=${round} page="${pg.name}" ms=${ms.toFixed(0)}`);
      if (pg.after) {
        const extra = await pg.after(page);
        note(extra.name, extra.ms);
        console.log(`round=${round} page="${extra.name}" ms=${extra.ms.toFixed(0)}`);
      }
    }
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let slowest = null;
for (const [name, xs] of times) {
  const m = median(xs);
  console.log(`page="${name}" median_ms=${m.toFixed(0)} max_ms=${Math.max(...xs).toFixed(0)} first_ms=${xs[0].toFixed(0)}`);
  if (!slowest || m > slowest.m) slowest = { name, m };
}
console.log(`slowest="${slowest.name}" median_ms=${slowest.m.toFixed(0)} instance=${instanceKey}`);
