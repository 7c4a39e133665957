// instance.js — one process instance: its diagram with the path it took
// (completed elements and taken flows marked, active elements highlighted,
// incidents red, compensation handlers that ran and the activities they
// undid in violet), its open incidents with retry, its variables per scope
// (editable, JSON checked before saving), its jobs, and its history as a
// timeline; cancel while it runs. While the instance is active the page
// refreshes itself every few seconds.
//
// Sources, all REST: the instance, its element instances (the record log's
// view), incidents, jobs and variables searches. Taken sequence flows come
// from the spec's GET /v2/process-instances/{key}/sequence-flows (the
// instance's SEQUENCE_FLOW_TAKEN records: exactly the flows it took, each
// once); only a server without that endpoint (501) makes the page infer
// them from the elements that ran (diagram.js). The timeline is the
// instance's record log, from baton's POST /v2/process-instances/{key}/
// history/search: one line per meaningful record (elements activated,
// completed, terminated; jobs created, failed, erroring, timed out,
// completed; incidents raised and resolved; variables set), in log order,
// each with its time. Only a server without that endpoint (501) makes the
// page rebuild a coarser timeline from the searches above.

import { api } from './api.js';
import {
  h,
  clear,
  link,
  fmtDate,
  fmtDuration,
  instanceState,
  stateBadge,
  toast,
  dialog,
  jsonField,
  emptyState,
} from './ui.js';
import { showDiagram, mark, elements, inferTakenFlows } from './diagram.js';

const REFRESH_MS = 3000;
const HISTORY_PAGE = 10000; // the endpoint's largest page
const HISTORY_MAX = 50000; // records shown at most

export async function render(main, { params }) {
  const key = params.key;
  const header = h('header', { class: 'page-header' });
  const banner = h('div', { class: 'incident-banner', hidden: true });
  const canvas = h('div', { class: 'canvas', id: 'instance-canvas' });
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { class: 'lg lg-active' }, 'active'),
    h('span', { class: 'lg lg-completed' }, 'completed'),
    h('span', { class: 'lg lg-incident' }, 'incident'),
    h('span', { class: 'lg lg-compensation' }, 'compensation'),
    h('span', { class: 'lg lg-terminated' }, 'terminated'),
  );
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const panel = h('div', { class: 'tab-panel' });
  main.append(
    header,
    banner,
    h('section', { class: 'diagram-pane instance-diagram' }, h('div', { class: 'canvas-wrap' }, canvas, legend)),
    h('section', { class: 'details' }, tabs, panel),
  );

  let viewer = null;
  let noDiagram = false; /* the model has no diagram (BPMNDI) to draw */
  let tab = 'variables';
  let data = null;
  let stopped = false;
  let timer = null;
  let editing = false; // a variable editor is open: do not redraw the panel under the user

  async function load() {
    clearTimeout(timer);
    try {
      const inst = await api.get(`/v2/process-instances/${key}`);
      const f = { processInstanceKey: key };
      const historyP = loadHistory();
      historyP.catch(() => {}); // awaited below; not unhandled if a search fails first
      const [elems, incidents, jobs, vars, called] = await Promise.all([
        api.search('element-instances', { filter: f, limit: 10000 }),
        api.search('incidents', { filter: f, limit: 1000 }),
        api.search('jobs', { filter: f, limit: 1000 }),
        api.search('variables', { filter: f, limit: 10000 }),
        // the instances its call activities started
        api.search('process-instances', { filter: { parentProcessInstanceKey: key }, limit: 100 }),
      ]);
      let flows = null;
      try {
        flows = (await api.get(`/v2/process-instances/${key}/sequence-flows`)).items.map((x) => x.sequenceFlowId);
      } catch (err) {
        if (err.status !== 501) throw err;
        flows = null; // not on this server: inferred below
      }
      const history = await historyP;
      if (stopped) return;
      const first = !viewer && !noDiagram;
      if (first) {
        try {
          viewer = await showDiagram(canvas, await api.definitionXml(inst.processDefinitionKey));
        } catch (err) {
          // A model deployed without diagram interchange (BPMNDI) has
          // nothing to draw; the rest of the page still works.
          if (err.status) throw err;
          noDiagram = true;
          canvas.append(h('p', { class: 'muted no-diagram' }, `No diagram to show: ${err.message}`));
        }
      }
      if (stopped) return;
      data = {
        inst,
        elems: elems.items,
        incidents: incidents.items.filter((i) => !i.state || i.state === 'ACTIVE'),
        jobs: jobs.items,
        vars: vars.items,
        called: called.items,
        flows,
        history,
      };
      drawHeader();
      drawBanner();
      drawDiagram();
      drawTabs();
      if (!editing) drawPanel();
      canvas.dataset.ready = 'true';
      canvas.dataset.state = instanceState(inst);
    } catch (err) {
      if (err.status === 404) {
        clear(main, h('div', { class: 'page-error' }, h('h2', {}, `No instance ${key}`), link('/ui/instances', 'All instances')));
        return;
      }
      toast(`Refresh failed: ${err.message}`, 'error');
    }
    if (!stopped && data && data.inst.state === 'ACTIVE') timer = setTimeout(load, REFRESH_MS);
  }

  function drawHeader() {
    const { inst } = data;
    const state = instanceState(inst);
    clear(
      header,
      h(
        'div',
        { class: 'title-block' },
        h('div', { class: 'crumbs' }, link('/ui/instances', 'Instances'), ' / '),
        h('h1', {}, `Instance ${inst.processInstanceKey} `, stateBadge(state)),
        h(
          'div',
          { class: 'meta' },
          link(
            `/ui/processes/${encodeURIComponent(inst.processDefinitionId)}/${inst.processDefinitionVersion}`,
            `${inst.processDefinitionId} v${inst.processDefinitionVersion}`,
          ),
          inst.businessId ? ` · business id ${inst.businessId}` : '',
          ` · started ${fmtDate(inst.startDate)}`,
          inst.endDate ? ` · ended ${fmtDate(inst.endDate)} (${fmtDuration(inst.startDate, inst.endDate)})` : '',
        ),
        callLinks(inst),
      ),
      h(
        'div',
        { class: 'page-actions' },
        h('button', { class: 'btn', onclick: () => load() }, 'Refresh'),
        // a called instance ends with its call activity: only the root is cancelled
        inst.state === 'ACTIVE' && !inst.parentProcessInstanceKey
          ? h('button', { class: 'btn btn-danger', onclick: cancel }, 'Cancel instance')
          : null,
      ),
    );
  }

  // Call activities: the instance that called this one, and those it called.
  function callLinks(inst) {
    const parent = inst.parentProcessInstanceKey;
    const called = data.called || [];
    if (!parent && !called.length) return null;
    const shown = called.slice(0, 5);
    return h(
      'div',
      { class: 'meta calls' },
      parent ? ['called by ', link(`/ui/instances/${parent}`, `instance ${parent}`)] : null,
      parent && shown.length ? ' · ' : '',
      shown.length ? 'calls ' : '',
      shown.map((c, i) => [
        i ? ', ' : '',
        link(`/ui/instances/${c.processInstanceKey}`, `${c.processDefinitionId} ${c.processInstanceKey}`),
        c.hasIncident ? ' (incident)' : '',
      ]),
      called.length > shown.length ? ` and ${called.length - shown.length} more` : '',
    );
  }

  async function cancel() {
    const ok = await dialog(
      'Cancel this instance?',
      h('p', {}, 'Every active element is terminated; no compensation runs. This cannot be undone.'),
      { submitLabel: 'Cancel instance', onSubmit: () => api.cancelInstance(key) },
    );
    if (ok !== null) {
      toast('Instance canceled', 'ok');
      load();
    }
  }

  function drawBanner() {
    const { incidents } = data;
    banner.hidden = incidents.length === 0;
    clear(
      banner,
      incidents.map((inc) => {
        const retries = h('input', { type: 'number', min: 1, value: 3, class: 'retries', name: 'retries', 'aria-label': 'retries' });
        return h(
          'div',
          { class: 'incident-row', 'data-incident-key': inc.incidentKey },
          h('span', { class: 'incident-type' }, inc.errorType),
          h('span', { class: 'incident-el' }, elementName(inc.elementId)),
          h('span', { class: 'incident-msg' }, inc.errorMessage || ''),
          inc.jobKey ? h('label', { class: 'retries-label' }, 'retries ', retries) : null,
          h(
            'button',
            {
              class: 'btn btn-primary',
              onclick: async (e) => {
                e.target.disabled = true;
                try {
                  await api.retryIncident(inc, Number(retries.value) || 1);
                  toast(`Incident resolved${inc.jobKey ? `, job retries set to ${retries.value}` : ''}`, 'ok');
                } catch (err) {
                  toast(`Could not resolve: ${err.message}`, 'error');
                  e.target.disabled = false;
                }
                load();
              },
            },
            inc.jobKey ? 'Retry' : 'Resolve',
          ),
        );
      }),
    );
  }

  // The instance's records, in log order: {records, total}, at most
  // HISTORY_MAX of them; null when the server has no history endpoint (501).
  async function loadHistory() {
    const records = [];
    let total = 0;
    try {
      do {
        const limit = Math.min(HISTORY_PAGE, HISTORY_MAX - records.length);
        const res = await api.post(`/v2/process-instances/${key}/history/search`, { page: { from: records.length, limit } });
        total = res.page.totalItems;
        records.push(...res.items);
        if (!res.items.length) break;
      } while (records.length < total && records.length < HISTORY_MAX);
    } catch (err) {
      if (err.status !== 501) throw err;
      return null;
    }
    return { records, total };
  }

  function elementName(id) {
    const el = viewer && viewer.get('elementRegistry').get(id);
    return (el && el.businessObject.name) || id;
  }

  function drawDiagram() {
    if (!viewer) return;
    const canvasSvc = viewer.get('canvas');
    const overlays = viewer.get('overlays');
    for (const el of elements(viewer))
      for (const cls of ['bt-active', 'bt-completed', 'bt-incident', 'bt-terminated', 'bt-compensation', 'bt-compensated', 'bt-taken'])
        canvasSvc.removeMarker(el.id, cls);
    overlays.remove({ type: 'instance' });

    const by = new Map();
    for (const e of data.elems) {
      if (e.type === 'PROCESS') continue;
      if (!by.has(e.elementId)) by.set(e.elementId, []);
      by.get(e.elementId).push(e);
    }
    const ran = new Set(by.keys());
    const completed = new Set();
    for (const [id, list] of by) {
      if (list.some((e) => e.state === 'COMPLETED')) {
        completed.add(id);
        mark(viewer, id, 'bt-completed');
      }
      if (list.some((e) => e.state === 'TERMINATED') && !completed.has(id)) mark(viewer, id, 'bt-terminated');
      if (list.some((e) => e.state === 'ACTIVE')) mark(viewer, id, 'bt-active');
      // A multi-instance activity's body is not a run of its own.
      const runs = list.filter((e) => e.type !== 'MULTI_INSTANCE_BODY').length;
      if (runs > 1) {
        const html = document.createElement('div');
        html.className = 'ov-runs';
        html.title = `ran ${runs} times`;
        html.textContent = `×${runs}`;
        overlays.add(id, 'instance', { position: { top: -10, right: 10 }, html });
      }
    }
    for (const inc of data.incidents) {
      mark(viewer, inc.elementId, 'bt-incident');
      const html = document.createElement('div');
      html.className = 'ov-incident-msg';
      html.textContent = inc.errorType;
      html.title = inc.errorMessage || '';
      overlays.add(inc.elementId, 'instance', { position: { top: -22, left: 0 }, html });
    }
    // A call activity whose called instance has an incident (the incident
    // is the called instance's: open it there).
    for (const c of data.called || []) {
      if (!c.hasIncident || !c.parentElementInstanceKey) continue;
      const ca = data.elems.find((e) => e.elementInstanceKey === c.parentElementInstanceKey);
      if (!ca) continue;
      mark(viewer, ca.elementId, 'bt-incident');
      const html = document.createElement('div');
      html.className = 'ov-incident-msg';
      html.textContent = 'incident in the called instance';
      overlays.add(ca.elementId, 'instance', { position: { top: -22, left: 0 }, html });
    }
    // Compensation: handlers that ran, the boundary events that lead to
    // them, their associations, and the activities they undid.
    for (const el of elements(viewer)) {
      const bo = el.businessObject;
      if (bo.isForCompensation && ran.has(bo.id)) mark(viewer, bo.id, 'bt-compensation');
      if (bo.$type === 'bpmn:Association' && bo.targetRef && bo.targetRef.isForCompensation && ran.has(bo.targetRef.id)) {
        mark(viewer, bo.id, 'bt-compensation');
        const ev = bo.sourceRef;
        if (ev && ev.$type === 'bpmn:BoundaryEvent') {
          mark(viewer, ev.id, 'bt-compensation');
          if (ev.attachedToRef) {
            mark(viewer, ev.attachedToRef.id, 'bt-compensated');
            const html = document.createElement('div');
            html.className = 'ov-compensated';
            html.textContent = '↺ compensated';
            overlays.add(ev.attachedToRef.id, 'instance', { position: { top: -22, left: 0 }, html });
          }
        }
      }
    }
    const taken = data.flows || inferTakenFlows(viewer, ran, completed);
    for (const id of taken) mark(viewer, id, 'bt-taken');
    canvas.dataset.taken = taken.join(' ');
  }

  function drawTabs() {
    const counts = {
      variables: data.vars.length,
      incidents: data.incidents.length,
      jobs: data.jobs.length,
      history: null,
    };
    clear(
      tabs,
      Object.entries(counts).map(([name, n]) =>
        h(
          'button',
          {
            class: `tab${tab === name ? ' active' : ''}${name === 'incidents' && n ? ' has-incidents' : ''}`,
            role: 'tab',
            'data-tab': name,
            onclick: () => {
              tab = name;
              editing = false;
              drawTabs();
              drawPanel();
            },
          },
          name[0].toUpperCase() + name.slice(1),
          n !== null ? h('span', { class: 'tab-count' }, String(n)) : null,
        ),
      ),
    );
  }

  function drawPanel() {
    clear(panel);
    if (tab === 'variables') panel.append(variablesPanel());
    else if (tab === 'incidents') panel.append(incidentsPanel());
    else if (tab === 'jobs') panel.append(jobsPanel());
    else panel.append(historyPanel());
  }

  function scopeName(scopeKey) {
    if (scopeKey === key) return 'Process instance';
    const e = data.elems.find((x) => x.elementInstanceKey === scopeKey);
    return e ? `${elementName(e.elementId)} (${scopeKey})` : scopeKey;
  }

  function variablesPanel() {
    const scopes = new Map([[key, []]]);
    for (const v of data.vars) {
      if (!scopes.has(v.scopeKey)) scopes.set(v.scopeKey, []);
      scopes.get(v.scopeKey).push(v);
    }
    const active = data.inst.state === 'ACTIVE';
    return h(
      'div',
      { class: 'variables' },
      active ? null : h('p', { class: 'muted' }, 'The instance has ended: its variables are read-only.'),
      [...scopes].map(([scopeKey, vars]) =>
        h(
          'div',
          { class: 'scope', 'data-scope-key': scopeKey },
          h(
            'div',
            { class: 'scope-head' },
            h('h3', {}, scopeName(scopeKey)),
            active ? h('button', { class: 'btn btn-small', onclick: () => editVariable(scopeKey, '', 'null') }, '+ Add variable') : null,
          ),
          vars.length
            ? h(
                'table',
                { class: 'grid vars' },
                h('tbody', {},
                  vars
                    .sort((a, b) => a.name.localeCompare(b.name))
                    .map((v) =>
                      h(
                        'tr',
                        { 'data-variable': v.name },
                        h('td', { class: 'var-name mono' }, v.name),
                        h('td', { class: 'var-value mono' }, pretty(v.value)),
                        h('td', { class: 'var-actions' },
                          active ? h('button', { class: 'btn btn-small', onclick: () => editVariable(scopeKey, v.name, v.value) }, 'Edit') : null),
                      ),
                    )),
              )
            : h('p', { class: 'muted' }, 'No variables in this scope.'),
        ),
      ),
    );
  }

  async function editVariable(scopeKey, name, value) {
    editing = true;
    const nameInput = h('input', { type: 'text', name: 'name', value: name, readonly: name ? true : undefined });
    const field = jsonField(prettyFull(value), { rows: 8, name: 'value' });
    const res = await dialog(
      name ? `Edit ${name}` : 'Add a variable',
      h('div', { class: 'form' }, h('p', { class: 'muted' }, `Scope: ${scopeName(scopeKey)}`), h('label', {}, 'Name'), nameInput, h('label', {}, 'Value (JSON)'), field.el),
      {
        submitLabel: 'Save',
        onSubmit: async () => {
          const n = nameInput.value.trim();
          if (!n) throw new Error('a variable needs a name');
          const v = field.value();
          await api.setVariables(scopeKey, { [n]: v }, true);
          return n;
        },
      },
    );
    editing = false;
    if (res) {
      toast(`Variable ${res} saved`, 'ok');
      load();
    }
  }

  function incidentsPanel() {
    if (!data.incidents.length) return emptyState('No open incident.');
    return h(
      'table',
      { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Type', 'Element', 'Message', 'Created', 'Job'].map((t) => h('th', {}, t)))),
      h('tbody', {},
        data.incidents.map((i) =>
          h('tr', {},
            h('td', {}, i.errorType),
            h('td', {}, elementName(i.elementId)),
            h('td', { class: 'wrap' }, i.errorMessage || ''),
            h('td', {}, fmtDate(i.creationTime)),
            h('td', { class: 'mono' }, i.jobKey || '—')))),
    );
  }

  function jobsPanel() {
    if (!data.jobs.length) return emptyState('No job of this instance is open (finished jobs are not kept).');
    return h(
      'table',
      { class: 'grid', id: 'jobs-table' },
      h('thead', {}, h('tr', {}, ['Job', 'Type', 'Element', 'State', 'Retries', 'Worker', 'Deadline', 'Last error'].map((t) => h('th', {}, t)))),
      h('tbody', {},
        data.jobs.map((j) =>
          h('tr', {},
            h('td', { class: 'mono' }, j.jobKey),
            h('td', {}, j.type),
            h('td', {}, elementName(j.elementId)),
            h('td', {}, stateBadge(j.state === 'CREATED' && j.retries === 0 ? 'FAILED' : j.state)),
            h('td', {}, String(j.retries)),
            h('td', {}, j.worker || ''),
            h('td', {}, fmtDate(j.deadline)),
            h('td', { class: 'wrap' }, j.errorMessage || '')))),
    );
  }

  function historyPanel() {
    if (!data.history) return reconstructedHistory();
    const { records, total } = data.history;
    const started = new Map(); // element instance key → activation time
    const events = [];
    for (const r of records) {
      const ev = historyEvent(r, started);
      if (ev) events.push({ t: r.timestamp, position: r.position, ...ev });
    }
    if (!events.length) return emptyState('No history recorded yet.');
    return h(
      'div',
      { class: 'history' },
      total > records.length ? h('p', { class: 'muted' }, `Showing the first ${records.length} of ${total} records.`) : null,
      h(
        'ol',
        { class: 'timeline', 'data-source': 'history' },
        events.map((ev) =>
          h('li', { class: `tl tl-${ev.kind}`, 'data-position': ev.position },
            h('span', { class: 'tl-time' }, fmtDate(ev.t)),
            h('span', { class: 'tl-dot' }),
            h('span', { class: 'tl-text' }, ev.text, ev.sub ? h('span', { class: 'tl-sub' }, ev.sub) : null)),
        ),
      ),
    );
  }

  // One record as a timeline line {kind, text, sub}, or null for the
  // records that only restate another (ACTIVATING, COMPLETING, job
  // activations, sequence flows, ...).
  function historyEvent(r, started) {
    const v = r.value || {};
    if (r.valueType === 'PROCESS_INSTANCE') {
      const name = v.bpmnElementType === 'PROCESS' ? 'Process' : elementName(v.elementId);
      if (r.intent === 'ELEMENT_ACTIVATED') {
        started.set(r.key, r.timestamp);
        return { kind: 'start', text: `${name} activated`, sub: v.bpmnElementType };
      }
      const since = started.get(r.key);
      if (r.intent === 'ELEMENT_COMPLETED')
        return { kind: 'done', text: `${name} completed`, sub: since ? fmtDuration(since, r.timestamp) : '' };
      if (r.intent === 'ELEMENT_TERMINATED')
        return { kind: 'term', text: `${name} terminated`, sub: since ? fmtDuration(since, r.timestamp) : '' };
      return null;
    }
    if (r.valueType === 'JOB') {
      const job = `Job ${v.type}`;
      switch (r.intent) {
        case 'CREATED':
          return { kind: 'start', text: `${job} created`, sub: `${v.retries} retries` };
        case 'COMPLETED':
          return { kind: 'done', text: `${job} completed`, sub: v.worker ? `by ${v.worker}` : '' };
        case 'FAILED':
          return { kind: 'job', text: `${job} failed (${v.retries} retries left)`, sub: v.errorMessage || '' };
        case 'ERROR_THROWN':
          return { kind: 'job', text: v.errorCode ? `${job} threw error ${v.errorCode}` : `${job} threw a BPMN error`, sub: v.errorMessage || '' };
        case 'TIMED_OUT':
          return { kind: 'job', text: `${job} timed out`, sub: v.worker ? `worker ${v.worker}` : '' };
        default:
          return null;
      }
    }
    if (r.valueType === 'INCIDENT') {
      if (r.intent === 'CREATED')
        return { kind: 'incident', text: `Incident ${v.errorType} at ${elementName(v.elementId)}`, sub: v.errorMessage || '' };
      if (r.intent === 'RESOLVED')
        return { kind: 'done', text: `Incident ${v.errorType} resolved`, sub: elementName(v.elementId) };
      return null;
    }
    if (r.valueType === 'TIMER') {
      const due = v.dueDate ? new Date(v.dueDate).toISOString().replace('T', ' ').slice(0, 19) : '';
      if (r.intent === 'CREATED')
        return { kind: 'start', text: `Timer ${elementName(v.targetElementId)} set`, sub: due ? `due ${due}` : '' };
      if (r.intent === 'TRIGGERED')
        return { kind: 'done', text: `Timer ${elementName(v.targetElementId)} fired`, sub: '' };
      if (r.intent === 'CANCELED')
        return { kind: 'term', text: `Timer ${elementName(v.targetElementId)} canceled`, sub: '' };
      return null;
    }
    if (r.valueType === 'PROCESS_MESSAGE_SUBSCRIPTION') {
      const key = v.correlationKey ? `correlation key ${v.correlationKey}` : '';
      if (r.intent === 'CREATED')
        return { kind: 'start', text: `Waiting for message ${v.messageName} at ${elementName(v.elementId)}`, sub: key };
      if (r.intent === 'CORRELATED')
        return { kind: 'done', text: `Message ${v.messageName} received at ${elementName(v.elementId)}`, sub: key };
      return null; /* DELETED: the element was left, its own line says so */
    }
    if (r.valueType === 'MESSAGE_START_EVENT_SUBSCRIPTION' && r.intent === 'CORRELATED')
      return { kind: 'start', text: `Started by message ${v.messageName}`, sub: v.correlationKey ? `correlation key ${v.correlationKey}` : '' };
    if (r.valueType === 'SIGNAL_SUBSCRIPTION' && r.intent === 'CREATED')
      return { kind: 'start', text: `Waiting for signal ${v.signalName} at ${elementName(v.catchEventId)}`, sub: '' };
    if (r.valueType === 'PROCESS_EVENT' && r.intent === 'TRIGGERED' && v.signalName)
      return { kind: 'done', text: `Signal ${v.signalName} caught at ${elementName(v.targetElementId)}`, sub: '' };
    if (r.valueType === 'VARIABLE' && (r.intent === 'CREATED' || r.intent === 'UPDATED'))
      return { kind: 'var', text: `Variable ${v.name} ${r.intent === 'CREATED' ? 'created' : 'updated'}`, sub: pretty(v.value ?? '') };
    return null;
  }

  // Without the history endpoint: element starts and ends, open incidents
  // and the jobs' last errors, from the searches.
  function reconstructedHistory() {
    const events = [];
    for (const e of data.elems) {
      const name = e.type === 'PROCESS' ? 'Process' : elementName(e.elementId);
      events.push({ t: e.startDate, kind: 'start', text: `${name} activated`, sub: e.type });
      if (e.endDate)
        events.push({
          t: e.endDate,
          kind: e.state === 'COMPLETED' ? 'done' : 'term',
          text: `${name} ${e.state === 'COMPLETED' ? 'completed' : 'terminated'}`,
          sub: fmtDuration(e.startDate, e.endDate),
        });
    }
    for (const i of data.incidents)
      events.push({ t: i.creationTime, kind: 'incident', text: `Incident ${i.errorType} at ${elementName(i.elementId)}`, sub: i.errorMessage });
    for (const j of data.jobs)
      if (j.errorMessage)
        events.push({ t: null, kind: 'job', text: `Job ${j.type} failed (${j.retries} retries left)`, sub: j.errorMessage });
    events.sort((a, b) => (a.t || '\uffff').localeCompare(b.t || '\uffff'));
    return h(
      'ol',
      { class: 'timeline' },
      events.map((ev) =>
        h('li', { class: `tl tl-${ev.kind}` },
          h('span', { class: 'tl-time' }, ev.t ? fmtDate(ev.t) : 'now'),
          h('span', { class: 'tl-dot' }),
          h('span', { class: 'tl-text' }, ev.text, ev.sub ? h('span', { class: 'tl-sub' }, ev.sub) : null)),
      ),
    );
  }

  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (viewer) viewer.destroy();
  };
}

function pretty(v) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

function prettyFull(v) {
  try {
    return JSON.stringify(JSON.parse(v), null, 2);
  } catch {
    return typeof v === 'string' ? v : JSON.stringify(v);
  }
}
