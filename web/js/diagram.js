// diagram.js — bpmn-js for the pages: loads the viewer and modeler bundles
// (both define the global BpmnJS, so they are loaded one after the other and
// each is kept under its own name), and draws what the pages know on top of a
// diagram: markers (CSS classes on elements) and overlays (count badges).
//
// Marker classes (styled in app.css):
//   bt-active        element instances waiting there now
//   bt-completed     completed at least once
//   bt-incident      an open incident
//   bt-terminated    terminated (canceled, or interrupted by an event)
//   bt-compensation  a compensation handler that ran (or its association)
//   bt-taken         a sequence flow the instance took
//   bt-error         the element a deploy error names

let loading = Promise.resolve();
const loaded = {};

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

// 'viewer' → the NavigatedViewer class, 'modeler' → the Modeler class.
export function bpmnClass(which) {
  if (loaded[which]) return Promise.resolve(loaded[which]);
  const file = which === 'modeler' ? 'bpmn-modeler' : 'bpmn-navigated-viewer';
  loading = loading.then(async () => {
    if (loaded[which]) return;
    const before = window.BpmnJS;
    await loadScript(`/ui/vendor/bpmn-js/${file}.production.min.js`);
    loaded[which] = window.BpmnJS;
    window.BpmnJS = before;
  });
  return loading.then(() => loaded[which]);
}

// A NavigatedViewer in container showing xml; zoomed to fit.
export async function showDiagram(container, xml) {
  const Viewer = await bpmnClass('viewer');
  const viewer = new Viewer({ container });
  await viewer.importXML(xml);
  fit(viewer);
  return viewer;
}

export function fit(viewer) {
  const canvas = viewer.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  // a little air around the diagram, and never blown up past 1:1
  const z = canvas.zoom();
  canvas.zoom(Math.min(z * 0.92, 1.4), 'auto');
}

// Every flow node and sequence flow of the diagram, by id, with its
// business object (the moddle element: $type, isForCompensation, ...).
export function elements(viewer) {
  return viewer.get('elementRegistry').filter((e) => e.businessObject && e.type !== 'label');
}

export function mark(viewer, id, cls) {
  const reg = viewer.get('elementRegistry');
  if (reg.get(id)) viewer.get('canvas').addMarker(id, cls);
}

// Count badges on an element: counts = {active, incidents, completed, canceled}.
export function countBadges(viewer, id, counts) {
  const reg = viewer.get('elementRegistry');
  const el = reg.get(id);
  if (!el) return;
  const parts = [];
  const add = (n, cls, title) => {
    if (n > 0) parts.push(`<span class="ov ov-${cls}" title="${title}">${n}</span>`);
  };
  add(counts.active, 'active', 'active');
  add(counts.incidents, 'incident', 'incidents');
  add(counts.completed, 'completed', 'completed');
  add(counts.canceled, 'canceled', 'canceled');
  if (!parts.length) return;
  const html = document.createElement('div');
  html.className = 'ov-group';
  html.dataset.elementId = id;
  html.innerHTML = parts.join('');
  viewer.get('overlays').add(id, 'counts', { position: { top: -11, left: -6 }, html });
}

export function clearOverlays(viewer, type) {
  viewer.get('overlays').remove({ type });
}

// The sequence flows taken between element instances, inferred from the
// elements that ran: a flow is taken when its target ran and its source
// completed (a boundary event's flow: when the event ran). An indexed
// /v2/process-instances/{key}/sequence-flows answer replaces this guess when
// the server has it (see instance.js).
export function inferTakenFlows(viewer, ranIds, completedIds) {
  const taken = [];
  for (const el of elements(viewer)) {
    const bo = el.businessObject;
    if (bo.$type !== 'bpmn:SequenceFlow') continue;
    const src = bo.sourceRef && bo.sourceRef.id;
    const dst = bo.targetRef && bo.targetRef.id;
    const srcDone =
      completedIds.has(src) || (bo.sourceRef && bo.sourceRef.$type === 'bpmn:BoundaryEvent' && ranIds.has(src));
    if (srcDone && ranIds.has(dst)) taken.push(bo.id);
  }
  return taken;
}
