// modeler.js — the bpmn-js Modeler: open a BPMN file from disk or a deployed
// version (?definition=KEY), edit it, deploy it as the next version
// (POST /v2/deployments, multipart `resources`). A deploy refused with 400
// names the element at fault ("<elementId>: <reason> (line N)" in the
// problem's detail): that element is marked red on the canvas with the
// reason beside it. The modeler instance is kept on window.batonModeler so
// that tests and power users can reach bpmn-js's own API.

import { api } from './api.js';
import { h, clear, link, toast } from './ui.js';
import { bpmnClass, fit } from './diagram.js';

const EMPTY = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="new-process" name="New process" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="new-process">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

// The elements a deploy error names. The problem's detail reads like
// "the deployment was rejected: trip.bpmn: BookHotel: <reason> (line 12); ...":
// each "; "-separated message ends with its line, and the element is the
// last ": "-separated token before the reason that is an id of the diagram.
// → [{id, reason, line}]
export function parseDeployErrors(detail, isElement) {
  const out = [];
  for (const msg of String(detail || '').split(/;\s+/)) {
    const m = /^(.*?)\s*\(line (\d+)\)\s*$/.exec(msg);
    const text = m ? m[1] : msg;
    const tokens = text.split(': ');
    for (let i = tokens.length - 2; i >= 0; i--) {
      if (isElement(tokens[i])) {
        out.push({ id: tokens[i], reason: tokens.slice(i + 1).join(': '), line: m ? Number(m[2]) : null });
        break;
      }
    }
  }
  return out;
}

export async function render(main, { query }) {
  const Modeler = await bpmnClass('modeler');
  const fileInput = h('input', { type: 'file', accept: '.bpmn,.xml,application/xml,text/xml', hidden: true, name: 'file' });
  const { items: defs } = await api.searchAll('process-definitions', {}, { max: 5000 });
  defs.sort((a, b) => a.processDefinitionId.localeCompare(b.processDefinitionId) || b.version - a.version);
  const versionSel = h(
    'select',
    { name: 'definition', 'aria-label': 'open a deployed version', onchange: (e) => e.target.value && openDefinition(e.target.value) },
    h('option', { value: '' }, 'Open a deployed version…'),
    defs.map((d) =>
      h('option', { value: d.processDefinitionKey, selected: query.get('definition') === d.processDefinitionKey }, `${d.processDefinitionId} · v${d.version}`),
    ),
  );
  const title = h('span', { class: 'modeler-title' }, 'New diagram');
  const status = h('div', { class: 'modeler-status', role: 'status' });
  const canvas = h('div', { class: 'canvas modeler-canvas', id: 'modeler-canvas' });
  const deployBtn = h('button', { class: 'btn btn-primary', onclick: deploy, id: 'deploy' }, 'Deploy');
  main.append(
    h(
      'header',
      { class: 'page-header' },
      h('div', { class: 'title-block' }, h('h1', {}, 'Modeler'), title),
      h(
        'div',
        { class: 'page-actions' },
        h('button', { class: 'btn', onclick: () => open(EMPTY, 'New diagram', 'new-process.bpmn') }, 'New'),
        h('button', { class: 'btn', onclick: () => fileInput.click() }, 'Open file…'),
        fileInput,
        versionSel,
        h('button', { class: 'btn', onclick: download }, 'Download'),
        deployBtn,
      ),
    ),
    status,
    h('section', { class: 'diagram-pane modeler-pane' }, h('div', { class: 'canvas-wrap' }, canvas)),
  );

  const modeler = new Modeler({ container: canvas, keyboard: { bindTo: document } });
  window.batonModeler = modeler;
  let fileName = 'diagram.bpmn';

  async function open(xml, label, name) {
    clearErrors();
    try {
      const { warnings } = await modeler.importXML(xml);
      fit(modeler);
      fileName = name;
      title.textContent = label;
      canvas.dataset.loaded = label;
      setStatus(warnings.length ? `Opened with ${warnings.length} warning(s): ${warnings[0].message}` : '', warnings.length ? 'warn' : '');
    } catch (err) {
      setStatus(`Cannot open ${label}: ${err.message}`, 'error');
    }
  }

  async function openDefinition(defKey) {
    const d = defs.find((x) => x.processDefinitionKey === defKey);
    const xml = await api.definitionXml(defKey);
    history.replaceState(null, '', `/ui/modeler?definition=${defKey}`);
    await open(xml, d ? `${d.processDefinitionId} · based on version ${d.version}` : defKey, d ? d.resourceName || `${d.processDefinitionId}.bpmn` : 'diagram.bpmn');
  }

  fileInput.addEventListener('change', async () => {
    const f = fileInput.files[0];
    if (!f) return;
    versionSel.value = '';
    await open(await f.text(), f.name, f.name);
    fileInput.value = '';
  });

  function setStatus(text, kind = '') {
    status.textContent = text;
    status.className = `modeler-status${kind ? ` status-${kind}` : ''}`;
    status.hidden = !text;
  }

  function clearErrors() {
    const canvasSvc = modeler.get('canvas');
    for (const el of modeler.get('elementRegistry').getAll()) canvasSvc.removeMarker(el.id, 'bt-error');
    modeler.get('overlays').remove({ type: 'deploy-error' });
  }

  async function deploy() {
    clearErrors();
    deployBtn.disabled = true;
    setStatus('Deploying…');
    try {
      const { xml } = await modeler.saveXML({ format: true });
      const res = await api.deploy(fileName, xml);
      const p = (res.deployments || []).map((d) => d.processDefinition).filter(Boolean)[0];
      clear(
        status,
        p ? `Deployed ${p.processDefinitionId} as version ${p.processDefinitionVersion}. ` : 'Deployed. ',
        p ? link(`/ui/processes/${encodeURIComponent(p.processDefinitionId)}/${p.processDefinitionVersion}`, 'Open the process') : null,
      );
      status.className = 'modeler-status status-ok';
      status.hidden = false;
      if (p) status.dataset.version = p.processDefinitionVersion;
    } catch (err) {
      showDeployError(err);
    } finally {
      deployBtn.disabled = false;
    }
  }

  function showDeployError(err) {
    const detail = err.detail || err.message;
    setStatus(`Deploy refused: ${detail}`, 'error');
    const reg = modeler.get('elementRegistry');
    for (const { id, reason, line } of parseDeployErrors(detail, (id) => !!reg.get(id))) {
      modeler.get('canvas').addMarker(id, 'bt-error');
      const html = document.createElement('div');
      html.className = 'ov-error';
      html.dataset.elementId = id;
      html.textContent = line ? `${reason} (line ${line})` : reason;
      modeler.get('overlays').add(id, 'deploy-error', { position: { bottom: -8, left: 0 }, html });
    }
  }

  async function download() {
    const { xml } = await modeler.saveXML({ format: true });
    const a = h('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })), download: fileName });
    a.click();
    URL.revokeObjectURL(a.href);
    toast(`Saved ${fileName}`);
  }

  if (query.get('definition')) await openDefinition(query.get('definition'));
  else await open(EMPTY, 'New diagram', 'new-process.bpmn');

  return () => {
    modeler.destroy();
    if (window.batonModeler === modeler) delete window.batonModeler;
  };
}
