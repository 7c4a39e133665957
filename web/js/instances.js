// instances.js — the list of process instances: filters (process, version,
// state, business id, start date), sorting by column, paging, and a live
// refresh that polls the same search every few seconds without reloading.
// The filters live in the URL's query, so a filtered list can be linked.
//
// Every refresh is one search with a page of PAGE rows: the server sorts and
// counts, the browser only draws PAGE rows, however many instances exist.
// The refresh waits at least three times as long as the last search took,
// and skips while the tab is hidden, so a large store is not kept busy.

import { api } from './api.js';
import { h, clear, link, fmtDate, fmtDuration, instanceState, stateBadge, emptyState, pageHeader } from './ui.js';

const PAGE = 25;
const REFRESH_MS = 3000;

const COLUMNS = [
  ['processInstanceKey', 'Key'],
  ['processDefinitionId', 'Process'],
  ['processDefinitionVersion', 'Version'],
  ['state', 'State'],
  ['businessId', 'Business id'],
  ['startDate', 'Started'],
  ['endDate', 'Ended'],
];

function filterFromQuery(q) {
  const filter = {};
  if (q.get('process')) filter.processDefinitionId = q.get('process');
  if (q.get('version')) filter.processDefinitionVersion = Number(q.get('version'));
  if (q.get('businessId')) filter.businessId = q.get('businessId');
  switch (q.get('state')) {
    case 'active':
      filter.state = 'ACTIVE';
      break;
    case 'completed':
      filter.state = 'COMPLETED';
      break;
    case 'canceled':
      filter.state = 'TERMINATED';
      break;
    case 'incident':
      filter.state = 'ACTIVE';
      filter.hasIncident = true;
      break;
  }
  const range = {};
  if (q.get('from')) range.$gte = new Date(`${q.get('from')}T00:00:00`).toISOString();
  if (q.get('to')) range.$lt = new Date(new Date(`${q.get('to')}T00:00:00`).getTime() + 86400000).toISOString();
  if (Object.keys(range).length) filter.startDate = range;
  return filter;
}

export async function render(main, { query }) {
  const q = new URLSearchParams(query);
  const { items: defs } = await api.searchAll('process-definitions', {}, { max: 5000 });
  const versionsOf = new Map();
  for (const d of defs) {
    if (!versionsOf.has(d.processDefinitionId)) versionsOf.set(d.processDefinitionId, new Set());
    versionsOf.get(d.processDefinitionId).add(d.version);
  }

  const setQuery = (changes) => {
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === null || v === undefined) q.delete(k);
      else q.set(k, v);
    }
    history.replaceState(null, '', `/ui/instances${q.toString() ? `?${q}` : ''}`);
    load();
  };

  const processSel = h(
    'select',
    { name: 'process', onchange: (e) => setQuery({ process: e.target.value, version: '', page: '' }) },
    h('option', { value: '' }, 'All processes'),
    [...versionsOf.keys()].sort().map((id) => h('option', { value: id, selected: q.get('process') === id }, id)),
  );
  const versionSel = h('select', {
    name: 'version',
    onchange: (e) => setQuery({ version: e.target.value, page: '' }),
  });
  const fillVersions = () => {
    const vs = [...(versionsOf.get(q.get('process')) || [])].sort((a, b) => b - a);
    clear(
      versionSel,
      h('option', { value: '' }, 'All versions'),
      vs.map((v) => h('option', { value: v, selected: q.get('version') === String(v) }, `version ${v}`)),
    );
    versionSel.disabled = !q.get('process');
  };
  fillVersions();
  processSel.addEventListener('change', fillVersions);
  const stateSel = h(
    'select',
    { name: 'state', onchange: (e) => setQuery({ state: e.target.value, page: '' }) },
    [
      ['', 'Any state'],
      ['active', 'Active'],
      ['incident', 'With incident'],
      ['completed', 'Completed'],
      ['canceled', 'Canceled'],
    ].map(([v, l]) => h('option', { value: v, selected: (q.get('state') || '') === v }, l)),
  );
  let typing = null;
  const businessInput = h('input', {
    type: 'search',
    name: 'businessId',
    placeholder: 'Business id',
    value: q.get('businessId') || '',
    oninput: (e) => {
      clearTimeout(typing);
      typing = setTimeout(() => setQuery({ businessId: e.target.value.trim(), page: '' }), 300);
    },
  });
  const fromInput = h('input', {
    type: 'date',
    name: 'from',
    title: 'started on or after',
    value: q.get('from') || '',
    onchange: (e) => setQuery({ from: e.target.value, page: '' }),
  });
  const toInput = h('input', {
    type: 'date',
    name: 'to',
    title: 'started on or before',
    value: q.get('to') || '',
    onchange: (e) => setQuery({ to: e.target.value, page: '' }),
  });
  const live = h('input', { type: 'checkbox', checked: true, name: 'live' });
  const liveLabel = h('span', { class: 'live-status' }, 'live');
  const filters = h(
    'div',
    { class: 'filters' },
    processSel,
    versionSel,
    stateSel,
    businessInput,
    h('label', { class: 'date-label' }, 'started', fromInput, '–', toInput),
    h('label', { class: 'live' }, live, liveLabel),
  );

  const table = h('table', { class: 'grid', id: 'instances-table' });
  const pager = h('div', { class: 'pager' });
  main.append(pageHeader('Instances'), filters, h('div', { class: 'table-wrap' }, table), pager);

  let stopped = false;
  let timer = null;
  let seq = 0;
  async function load() {
    clearTimeout(timer);
    const mine = ++seq;
    const t0 = performance.now();
    const page = Math.max(0, Number(q.get('page') || 0));
    const sortField = q.get('sort') || 'startDate';
    const order = q.get('order') || 'DESC';
    try {
      const res = await api.search('process-instances', {
        filter: filterFromQuery(q),
        sort: [{ field: sortField, order }],
        from: page * PAGE,
        limit: PAGE,
      });
      if (stopped || mine !== seq) return;
      drawTable(res.items, sortField, order);
      drawPager(page, res.page.totalItems);
      liveLabel.textContent = `live · ${new Date().toLocaleTimeString()}`;
      table.dataset.total = res.page.totalItems;
    } catch (err) {
      liveLabel.textContent = `refresh failed: ${err.message}`;
    }
    // a slow server (a large store) is polled less often; a hidden tab not at all
    const took = performance.now() - t0;
    if (!stopped && live.checked) timer = setTimeout(poll, Math.max(REFRESH_MS, 3 * took));
  }
  function poll() {
    if (document.hidden) timer = setTimeout(poll, REFRESH_MS);
    else load();
  }
  live.addEventListener('change', () => (live.checked ? load() : clearTimeout(timer)));

  function drawTable(items, sortField, order) {
    const head = h(
      'tr',
      {},
      COLUMNS.map(([field, label]) =>
        h(
          'th',
          {
            class: `sortable${field === sortField ? ` sorted-${order.toLowerCase()}` : ''}`,
            onclick: () =>
              setQuery({ sort: field, order: field === sortField && order === 'DESC' ? 'ASC' : 'DESC', page: '' }),
          },
          label,
        ),
      ),
      h('th', {}, 'Duration'),
    );
    const rows = items.map((i) =>
      h(
        'tr',
        { 'data-key': i.processInstanceKey },
        h('td', { class: 'mono' }, link(`/ui/instances/${i.processInstanceKey}`, i.processInstanceKey)),
        h('td', {}, i.processDefinitionId),
        h('td', {}, String(i.processDefinitionVersion)),
        h('td', {}, stateBadge(instanceState(i))),
        h('td', {}, i.businessId || ''),
        h('td', {}, fmtDate(i.startDate)),
        h('td', {}, fmtDate(i.endDate)),
        h('td', {}, fmtDuration(i.startDate, i.endDate)),
      ),
    );
    clear(
      table,
      h('thead', {}, head),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, emptyState('No instance matches these filters.')))),
    );
  }

  function drawPager(page, total) {
    const last = Math.max(0, Math.ceil(total / PAGE) - 1);
    const first = total ? page * PAGE + 1 : 0;
    clear(
      pager,
      h('span', { class: 'muted' }, `${first}–${Math.min(total, (page + 1) * PAGE)} of ${total}`),
      h('button', { class: 'btn', disabled: page === 0, onclick: () => setQuery({ page: page - 1 || '' }) }, '‹ Previous'),
      h('button', { class: 'btn', disabled: page >= last, onclick: () => setQuery({ page: page + 1 }) }, 'Next ›'),
    );
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(typing);
  };
}
