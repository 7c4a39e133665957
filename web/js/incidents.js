// incidents.js — every open incident, grouped by type and element (and
// process), each group with its instances and error messages; retry one,
// a selection, or a whole group: raise the job's retries, then resolve.
// Refreshes itself every few seconds unless something is selected.

import { api, pool } from './api.js';
import { h, clear, link, fmtDate, toast, emptyState, pageHeader } from './ui.js';

const REFRESH_MS = 5000;
const MAX = 5000;

export async function render(main) {
  const retriesInput = h('input', { type: 'number', min: 1, value: 3, name: 'retries', class: 'retries' });
  const retrySelected = h('button', { class: 'btn btn-primary', disabled: true, onclick: () => retry(selectedIncidents()) }, 'Retry selected');
  const body = h('div', { class: 'incident-groups' });
  main.append(
    pageHeader('Incidents', h('label', { class: 'retries-label' }, 'set job retries to ', retriesInput), retrySelected),
    body,
  );
  const selected = new Set();
  let current = [];
  let stopped = false;
  let timer = null;

  const selectedIncidents = () => current.filter((i) => selected.has(i.incidentKey));
  const updateButton = () => {
    retrySelected.disabled = selected.size === 0;
    retrySelected.textContent = selected.size ? `Retry selected (${selected.size})` : 'Retry selected';
  };

  async function retry(list) {
    if (!list.length) return;
    const retries = Number(retriesInput.value) || 1;
    let ok = 0;
    const failures = [];
    await pool(list, 4, async (inc) => {
      try {
        await api.retryIncident(inc, retries);
        ok++;
      } catch (err) {
        failures.push(`${inc.incidentKey}: ${err.message}`);
      }
    });
    for (const inc of list) selected.delete(inc.incidentKey);
    updateButton();
    if (ok) toast(`${ok} incident${ok > 1 ? 's' : ''} resolved`, 'ok');
    if (failures.length) toast(`${failures.length} could not be resolved: ${failures[0]}`, 'error');
    load();
  }

  async function load() {
    clearTimeout(timer);
    try {
      const { items, total } = await api.searchAll('incidents', { state: 'ACTIVE' }, { max: MAX, sort: [{ field: 'creationTime', order: 'DESC' }] });
      if (stopped) return;
      current = items;
      for (const k of [...selected]) if (!items.some((i) => i.incidentKey === k)) selected.delete(k);
      updateButton();
      draw(items, total);
    } catch (err) {
      toast(`Refresh failed: ${err.message}`, 'error');
    }
    // no redraw under a selection being made: wait until it is used or cleared
    const tick = () => (selected.size ? (timer = setTimeout(tick, REFRESH_MS)) : load());
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  }

  function draw(items, total) {
    if (!items.length) {
      clear(body, emptyState('No open incident. Everything runs.'));
      return;
    }
    const groups = new Map();
    for (const i of items) {
      const g = `${i.errorType}\u0000${i.processDefinitionId}\u0000${i.elementId}`;
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(i);
    }
    clear(
      body,
      total > items.length ? h('p', { class: 'note' }, `Showing the ${items.length} most recent of ${total} incidents.`) : null,
      [...groups.values()]
        .sort((a, b) => b.length - a.length)
        .map((list) => {
          const f = list[0];
          const all = h('input', {
            type: 'checkbox',
            'aria-label': 'select group',
            checked: list.every((i) => selected.has(i.incidentKey)),
            onchange: (e) => {
              for (const i of list) e.target.checked ? selected.add(i.incidentKey) : selected.delete(i.incidentKey);
              updateButton();
              draw(current, total);
            },
          });
          return h(
            'section',
            { class: 'incident-group', 'data-error-type': f.errorType, 'data-element-id': f.elementId },
            h(
              'div',
              { class: 'group-head' },
              all,
              h('span', { class: 'incident-type' }, f.errorType),
              h('span', { class: 'group-title' }, f.elementId),
              h('span', { class: 'muted' }, ` in ${f.processDefinitionId}`),
              h('span', { class: 'group-count' }, `${list.length} incident${list.length > 1 ? 's' : ''}`),
              h('button', { class: 'btn btn-small', onclick: () => retry(list) }, 'Retry all'),
            ),
            h(
              'table',
              { class: 'grid' },
              h(
                'tbody',
                {},
                list.map((i) =>
                  h(
                    'tr',
                    { 'data-incident-key': i.incidentKey },
                    h(
                      'td',
                      { class: 'check' },
                      h('input', {
                        type: 'checkbox',
                        'aria-label': 'select incident',
                        checked: selected.has(i.incidentKey),
                        onchange: (e) => {
                          e.target.checked ? selected.add(i.incidentKey) : selected.delete(i.incidentKey);
                          updateButton();
                        },
                      }),
                    ),
                    h('td', { class: 'mono' }, link(`/ui/instances/${i.processInstanceKey}`, i.processInstanceKey)),
                    h('td', { class: 'wrap' }, i.errorMessage || ''),
                    h('td', { class: 'nowrap' }, fmtDate(i.creationTime)),
                    h('td', {}, h('button', { class: 'btn btn-small', onclick: () => retry([i]) }, 'Retry')),
                  ),
                ),
              ),
            ),
          );
        }),
    );
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
