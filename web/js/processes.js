// processes.js — every deployed process with its versions; the selected
// version's diagram with, on each element, how many element instances are
// active there, have an incident, completed and were canceled.
//
// Where the counts come from. The spec's
// POST /v2/process-definitions/{key}/statistics/element-instances answers
// them in one call: exact counts over every instance of the version, from
// one indexed GROUP BY in the server's search index, so the cost follows the
// number of element instances of that version, not a sample. A server that
// does not have the endpoint (501, or 404 from an older route table) makes
// the page count itself: one element-instances search per instance of the
// version, over the SAMPLE most recent instances only — and only then does
// the page say that its counts are a sample.

import { api, pool } from './api.js';
import { h, clear, link, toast, dialog, jsonField, emptyState, pageHeader } from './ui.js';
import { showDiagram, countBadges, clearOverlays } from './diagram.js';

const SAMPLE = 200;
const REFRESH_MS = 10000;

export async function render(main, { params }) {
  const { items: defs } = await api.searchAll('process-definitions', {}, { max: 5000 });
  const byId = new Map();
  for (const d of defs) {
    if (!byId.has(d.processDefinitionId)) byId.set(d.processDefinitionId, []);
    byId.get(d.processDefinitionId).push(d);
  }
  for (const list of byId.values()) list.sort((a, b) => b.version - a.version);
  const ids = [...byId.keys()].sort();

  main.append(
    pageHeader('Processes', link('/ui/modeler', h('span', { class: 'btn' }, 'Deploy a model'))),
  );
  if (!ids.length) {
    main.append(
      emptyState('No process is deployed yet. Open a BPMN file in the Modeler and deploy it, or use `baton deploy FILE`.'),
    );
    return null;
  }
  const processId = params.a && byId.has(params.a) ? params.a : ids[0];
  const versions = byId.get(processId);
  const def = versions.find((d) => String(d.version) === params.b) || versions[0];

  const list = h(
    'aside',
    { class: 'list-pane' },
    ids.map((id) => {
      const vs = byId.get(id);
      return link(
        `/ui/processes/${encodeURIComponent(id)}`,
        h(
          'div',
          { class: `process-item${id === processId ? ' selected' : ''}`, 'data-process-id': id },
          h('div', { class: 'process-name' }, vs[0].name || id),
          h('div', { class: 'process-meta' }, id, ' · ', `${vs.length} version${vs.length > 1 ? 's' : ''}`),
        ),
      );
    }),
  );

  const versionSelect = h(
    'select',
    {
      class: 'version-select',
      'aria-label': 'version',
      onchange: (e) => window.batonNavigate(`/ui/processes/${encodeURIComponent(processId)}/${e.target.value}`),
    },
    versions.map((d) => h('option', { value: d.version, selected: d.version === def.version }, `version ${d.version}`)),
  );
  const canvas = h('div', { class: 'canvas', id: 'process-canvas' });
  const summary = h('div', { class: 'summary' });
  const note = h('div', { class: 'note' });
  const toolbar = h(
    'div',
    { class: 'diagram-toolbar' },
    h('div', { class: 'diagram-title' }, h('h2', {}, def.name || processId), versionSelect),
    h(
      'div',
      { class: 'toolbar-actions' },
      link(
        `/ui/instances?process=${encodeURIComponent(processId)}&version=${def.version}`,
        h('span', { class: 'btn' }, 'Instances'),
      ),
      link(`/ui/modeler?definition=${def.processDefinitionKey}`, h('span', { class: 'btn' }, 'Edit in modeler')),
      h('button', { class: 'btn btn-primary', onclick: () => startDialog(def) }, 'Start instance'),
    ),
  );
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { class: 'ov ov-active' }, 'active'),
    h('span', { class: 'ov ov-incident' }, 'incidents'),
    h('span', { class: 'ov ov-completed' }, 'completed'),
    h('span', { class: 'ov ov-canceled' }, 'canceled'),
  );
  main.append(
    h(
      'div',
      { class: 'split' },
      list,
      h('section', { class: 'diagram-pane' }, toolbar, h('div', { class: 'canvas-wrap' }, canvas, legend), summary, note),
    ),
  );

  const xml = await api.definitionXml(def.processDefinitionKey);
  const viewer = await showDiagram(canvas, xml);

  let stopped = false;
  let timer = null;
  const refresh = async () => {
    const t0 = performance.now();
    try {
      const stats = await statistics(def);
      if (stopped) return;
      clearOverlays(viewer, 'counts');
      for (const s of stats.items) countBadges(viewer, s.elementId, s);
      clear(
        summary,
        stat('active', stats.instances.active, 'active'),
        stat('incident', stats.instances.incident, 'with incident'),
        stat('completed', stats.instances.completed, 'completed'),
        stat('canceled', stats.instances.canceled, 'canceled'),
      );
      note.textContent = stats.sampled
        ? `Element counts from the ${stats.sampled} most recent of ${stats.instances.total} instances (this server has no statistics endpoint yet).`
        : '';
      canvas.dataset.statsReady = 'true';
    } catch (err) {
      note.textContent = `Counts unavailable: ${err.message}`;
    }
    // polled less often when the counts are slow to come (a large store)
    if (!stopped) timer = setTimeout(refresh, Math.max(REFRESH_MS, 5 * (performance.now() - t0)));
  };
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    viewer.destroy();
  };
}

function stat(cls, n, label) {
  return h(
    'div',
    { class: `stat stat-${cls}` },
    h('div', { class: 'stat-n', 'data-stat': cls }, n.toLocaleString('en-US')),
    h('div', { class: 'stat-label' }, label),
  );
}

async function instanceCounts(key) {
  const count = async (filter) =>
    (await api.search('process-instances', { filter: { processDefinitionKey: key, ...filter }, limit: 1 })).page
      .totalItems;
  const [active, incident, completed, canceled] = await Promise.all([
    count({ state: 'ACTIVE' }),
    count({ state: 'ACTIVE', hasIncident: true }),
    count({ state: 'COMPLETED' }),
    count({ state: 'TERMINATED' }),
  ]);
  return { active, incident, completed, canceled, total: active + completed + canceled };
}

// {items: [{elementId, active, incidents, completed, canceled}], instances, sampled}
export async function statistics(def) {
  const key = def.processDefinitionKey;
  const instances = await instanceCounts(key);
  try {
    // {items: [{elementId, active, canceled, incidents, completed}]}; the
    // process itself is not among the elements
    const res = await api.post(`/v2/process-definitions/${key}/statistics/element-instances`, {});
    return { items: res.items || [], instances, sampled: 0 };
  } catch (err) {
    if (err.status !== 501 && err.status !== 404) throw err;
  }
  const recent = await api.search('process-instances', {
    filter: { processDefinitionKey: key },
    sort: [{ field: 'startDate', order: 'DESC' }],
    limit: SAMPLE,
  });
  const per = new Map();
  const get = (id) => {
    if (!per.has(id)) per.set(id, { elementId: id, active: 0, incidents: 0, completed: 0, canceled: 0 });
    return per.get(id);
  };
  await pool(recent.items, 4, async (inst) => {
    const res = await api.search('element-instances', {
      filter: { processInstanceKey: inst.processInstanceKey },
      limit: 10000,
    });
    for (const e of res.items) {
      if (e.type === 'PROCESS') continue;
      const s = get(e.elementId);
      if (e.state === 'ACTIVE') s.active++;
      else if (e.state === 'COMPLETED') s.completed++;
      else if (e.state === 'TERMINATED') s.canceled++;
      if (e.hasIncident) s.incidents++;
    }
  });
  return {
    items: [...per.values()],
    instances,
    sampled: recent.page.totalItems > recent.items.length ? recent.items.length : 0,
  };
}

export async function startDialog(def) {
  const vars = jsonField('{\n  \n}', { kind: 'object', rows: 8, name: 'variables' });
  const businessId = h('input', { type: 'text', name: 'businessId', placeholder: 'optional' });
  const body = h(
    'div',
    { class: 'form' },
    h('p', { class: 'muted' }, `${def.processDefinitionId} · version ${def.version}`),
    h('label', {}, 'Variables (JSON object)'),
    vars.el,
    h('label', {}, 'Business id'),
    businessId,
  );
  const res = await dialog('Start an instance', body, {
    submitLabel: 'Start',
    onSubmit: async () => {
      const variables = vars.value();
      const req = { processDefinitionKey: def.processDefinitionKey, variables };
      if (businessId.value.trim()) req.businessId = businessId.value.trim();
      return api.startInstance(req);
    },
  });
  if (res) {
    toast(`Started instance ${res.processInstanceKey}`, 'ok');
    window.batonNavigate(`/ui/instances/${res.processInstanceKey}`);
  }
}
