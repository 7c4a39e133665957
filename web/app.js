// app.js — the operations UI's entry: a router over the History API (paths
// under /ui/, which the server answers with this page), the navigation, and
// the server's status in the sidebar. Each page module exports
// render(main, route) and returns a function that stops its timers.
//
//   /ui/processes[/{processId}[/{version}]]    processes.js
//   /ui/instances[?filters]                    instances.js
//   /ui/instances/{processInstanceKey}         instance.js
//   /ui/incidents                              incidents.js
//   /ui/modeler[?definition={key}]             modeler.js

import { api } from './js/api.js';
import { h, clear } from './js/ui.js';
import * as processes from './js/processes.js';
import * as instances from './js/instances.js';
import * as instance from './js/instance.js';
import * as incidents from './js/incidents.js';
import * as modeler from './js/modeler.js';

const main = document.getElementById('main');
let dispose = null;

function route(url) {
  const parts = url.pathname.replace(/^\/ui\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const query = url.searchParams;
  const [page = 'processes', a, b] = parts;
  if (page === 'instances' && a) return { nav: 'instances', mod: instance, params: { key: a }, query };
  const mods = { processes, instances, incidents, modeler };
  const mod = mods[page] || processes;
  return { nav: mods[page] ? page : 'processes', mod, params: { a, b }, query };
}

async function show() {
  if (dispose) {
    try {
      dispose();
    } catch {
      /* a page's own cleanup failing must not stop the next page */
    }
    dispose = null;
  }
  const r = route(new URL(location.href));
  for (const n of document.querySelectorAll('[data-nav]')) n.classList.toggle('active', n.dataset.nav === r.nav);
  clear(main);
  main.dataset.page = r.nav;
  try {
    dispose = (await r.mod.render(main, r)) || null;
  } catch (err) {
    clear(main, h('div', { class: 'page-error' }, h('h2', {}, 'This page could not be shown'), h('pre', {}, err.message)));
  }
}

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  show();
}
window.batonNavigate = navigate;

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-link]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', show);

// The sidebar: is the server there, and how many incidents are open.
async function status() {
  const el = document.getElementById('server-status');
  const count = document.getElementById('incident-count');
  try {
    const [topo, inc] = await Promise.all([
      api.get('/v2/topology'),
      api.search('incidents', { filter: { state: 'ACTIVE' }, limit: 1 }),
    ]);
    el.textContent = `connected · ${topo.gatewayVersion || ''}`;
    el.className = 'sidebar-foot ok';
    const n = inc.page.totalItems;
    count.textContent = n;
    count.hidden = n === 0;
  } catch {
    el.textContent = 'server unreachable';
    el.className = 'sidebar-foot bad';
  }
}
status();
setInterval(status, 5000);

if (location.pathname === '/' || location.pathname === '/ui' || location.pathname === '/ui/')
  history.replaceState(null, '', '/ui/processes');
show();
