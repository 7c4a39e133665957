// ui.js — small DOM helpers shared by the pages: an element builder, dates,
// state badges, toasts, a modal dialog and a JSON field that validates as
// one types. No framework: pages rebuild their parts with h().

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// An in-app link: navigation without reloading (app.js listens for data-link).
export const link = (href, ...children) => h('a', { href, 'data-link': true }, ...children);

export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

export function fmtDuration(startIso, endIso) {
  if (!startIso) return '';
  const ms = (endIso ? new Date(endIso) : new Date()) - new Date(startIso);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

// The UI's states: the API's, with CANCELED for TERMINATED and INCIDENT for
// an active instance that has one.
export function instanceState(inst) {
  if (inst.state === 'ACTIVE' && inst.hasIncident) return 'INCIDENT';
  if (inst.state === 'TERMINATED') return 'CANCELED';
  return inst.state;
}

export function stateBadge(state) {
  return h('span', { class: `badge badge-${state.toLowerCase()}` }, state.toLowerCase());
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// A modal dialog; resolves with what onSubmit returns, or null when closed.
export function dialog(title, body, { submitLabel = 'OK', onSubmit } = {}) {
  return new Promise((resolve) => {
    const error = h('div', { class: 'form-error', hidden: true });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, submitLabel);
    const close = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (e) => {
          e.preventDefault();
          error.hidden = true;
          submit.disabled = true;
          try {
            close(onSubmit ? await onSubmit() : true);
          } catch (err) {
            error.textContent = err.message;
            error.hidden = false;
            submit.disabled = false;
          }
        },
      },
      h('h2', {}, title),
      body,
      error,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { class: 'btn', type: 'button', onclick: () => close(null) }, 'Cancel'),
        submit,
      ),
    );
    const dlg = h('dialog', { class: 'dialog' }, form);
    dlg.addEventListener('cancel', () => close(null));
    document.body.append(dlg);
    dlg.showModal();
  });
}

// A textarea that must hold JSON (of a kind: 'object' or 'any'); shows the
// parse error under it as one types. .value() parses, or throws.
export function jsonField(initial = '{}', { kind = 'any', rows = 6, name } = {}) {
  const area = h('textarea', { class: 'json', rows, spellcheck: 'false', name });
  area.value = initial;
  const msg = h('div', { class: 'json-error' });
  const check = () => {
    try {
      const v = JSON.parse(area.value);
      if (kind === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v)))
        throw new Error('must be a JSON object: {"name": value, ...}');
      area.classList.remove('invalid');
      msg.textContent = '';
      return v;
    } catch (e) {
      area.classList.add('invalid');
      msg.textContent = e.message.replace(/^JSON\.parse: /, '');
      throw e;
    }
  };
  area.addEventListener('input', () => {
    try {
      check();
    } catch {
      /* shown */
    }
  });
  const el = h('div', { class: 'json-field' }, area, msg);
  return { el, area, value: check };
}

export function emptyState(text) {
  return h('div', { class: 'empty' }, text);
}

export function pageHeader(title, ...right) {
  return h('header', { class: 'page-header' }, h('h1', {}, title), h('div', { class: 'page-actions' }, right));
}
