// api.js — the UI's only way to baton: the Camunda 8 REST API (v2) on the
// same origin. Credentials (Basic, when the server has authentication on) are
// the browser's: it asked for them when the page loaded and sends them again.
//
// Errors come back as RFC 9457 problems; ApiError carries status, title and
// detail so that pages can show them (and the modeler can find the element a
// deploy error names).

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.title = (problem && problem.title) || '';
    this.detail = (problem && problem.detail) || '';
  }
}

async function request(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : { detail: text });
  return data;
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body ?? {}),
  put: (path, body) => request('PUT', path, body),
  patch: (path, body) => request('PATCH', path, body),

  // {filter, sort, page} → {items, page: {totalItems}}
  search: (kind, { filter = {}, sort, from = 0, limit = 100 } = {}) =>
    request('POST', `/v2/${kind}/search`, { filter, ...(sort ? { sort } : {}), page: { from, limit } }),

  // Every item of a search, page by page, up to max items.
  // Large pages: the server builds a search's whole result before paging
  // it, so one request of 5,000 costs about what one of 500 does.
  async searchAll(kind, filter = {}, { sort, max = 10000, pageSize = 5000 } = {}) {
    const items = [];
    let total = 0;
    for (let from = 0; from < max; from += pageSize) {
      const res = await api.search(kind, { filter, sort, from, limit: Math.min(pageSize, max - from) });
      items.push(...res.items);
      total = res.page.totalItems;
      if (res.items.length === 0 || items.length >= total) break;
    }
    return { items, total };
  },

  definitionXml: async (key) => {
    const res = await fetch(`/v2/process-definitions/${key}/xml`, { credentials: 'same-origin' });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return res.text();
  },

  deploy: (fileName, xml) => {
    const form = new FormData();
    form.append('resources', new Blob([xml], { type: 'application/xml' }), fileName);
    return request('POST', '/v2/deployments', form);
  },

  startInstance: (body) => request('POST', '/v2/process-instances', body),
  cancelInstance: (key) => request('POST', `/v2/process-instances/${key}/cancellation`, {}),
  setVariables: (scopeKey, variables, local = true) =>
    request('PUT', `/v2/element-instances/${scopeKey}/variables`, { variables, local }),
  setJobRetries: (jobKey, retries) => request('PATCH', `/v2/jobs/${jobKey}`, { changeset: { retries } }),
  resolveIncident: (key) => request('POST', `/v2/incidents/${key}/resolution`, {}),

  // Raise the retries of the incident's job (when it has one), then resolve.
  async retryIncident(incident, retries = 3) {
    if (incident.jobKey) await api.setJobRetries(incident.jobKey, retries);
    await api.resolveIncident(incident.incidentKey);
  },
};

// Runs fn over items with at most `limit` calls in flight.
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
