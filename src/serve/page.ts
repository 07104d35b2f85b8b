import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { executableAssets } from '../embedded.js';

/**
 * serve's page: the graph (cytoscape.js with the elk layered layout, served from the installed
 * packages under /static/), a search box, a click on a guest or container that highlights its
 * path and offers "Diagnose", a live progress view (server-sent events) and the report in place;
 * past runs from the store. The token, when there is one, comes from the page's own URL and goes
 * with every request (the Authorization header for the API, ?token= where a browser cannot send
 * headers: EventSource, the report's frame, the scripts).
 */

/** The page's scripts by the name it loads them under, and the installed file each comes from. */
export const VENDORED_SCRIPTS: Record<string, string> = {
  'cytoscape.min.js': 'cytoscape/dist/cytoscape.min.js',
  'elk.bundled.js': 'elkjs/lib/elk.bundled.js',
  'cytoscape-elk.js': 'cytoscape-elk/dist/cytoscape-elk.js',
};

const cache = new Map<string, string>();

/**
 * The vendored scripts the page loads (from the installed packages, or inside the single
 * executable under the same names); undefined for any other name.
 */
export function staticScript(name: string): string | undefined {
  const module = VENDORED_SCRIPTS[name];
  if (!module) return undefined;
  if (!cache.has(name)) {
    const exe = executableAssets();
    cache.set(name, exe ? exe.asset(name) : readFileSync(createRequire(import.meta.url).resolve(module), 'utf8'));
  }
  return cache.get(name);
}

/** The page; `token` (from the request, when serve has one) goes into the scripts' URLs. */
export function page(token?: string): string {
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>hopdump serve</title>
<style>
:root { --fg: #1b1f24; --bg: #fff; --muted: #5b6470; --line: #c5ccd3; --bad: #b3261e; --hl: #0b62c4; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #15181c; --muted: #9aa4ae; --line: #3a424b; --bad: #ff6b61; --hl: #5aa2ff; } }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); display: grid; grid-template-columns: 1fr 380px; height: 100vh; }
#graph { border-right: 1px solid var(--line); min-height: 300px; }
aside { padding: 10px; overflow: auto; }
input { width: 100%; font: inherit; padding: 4px; box-sizing: border-box; }
button { font: inherit; }
li { cursor: pointer; } .muted { color: var(--muted); } .bad { color: var(--bad); }
iframe { width: 100%; height: 70vh; border: 1px solid var(--line); }
@media (max-width: 800px) { body { grid-template-columns: 1fr; grid-template-rows: 50vh auto; } }
</style>
</head>
<body>
<div id="graph" data-testid="graph"></div>
<aside>
<input data-testid="search" placeholder="name, address, MAC, domain, container, port" autocomplete="off">
<ul data-testid="search-results"></ul>
<div data-testid="selection"></div>
<button data-testid="diagnose" hidden>Diagnose</button>
<ol data-testid="progress"></ol>
<div data-testid="report"></div>
<h3>Past runs</h3>
<ul data-testid="runs"></ul>
</aside>
<script src="static/elk.bundled.js${q}"></script>
<script src="static/cytoscape.min.js${q}"></script>
<script src="static/cytoscape-elk.js${q}"></script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

// The page's script: plain ES2017 for Chromium and Firefox, no build step; text is set with
// textContent (never innerHTML) so that names from the host stay text.
const PAGE_SCRIPT = `
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var q = token ? '?token=' + encodeURIComponent(token) : '';
  var headers = token ? { Authorization: 'Bearer ' + token } : {};
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }
  function api(path) { return fetch(path + (path.indexOf('?') < 0 ? q : (token ? '&token=' + encodeURIComponent(token) : '')), { headers: headers }).then(function (r) { return r.json(); }); }
  cytoscape.use(cytoscapeElk);
  var cy = cytoscape({ container: document.getElementById('graph'), wheelSensitivity: 0.3,
    style: [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', color: getComputedStyle(document.body).color, 'background-color': '#8a939e', width: 18, height: 18 } },
      { selector: 'node[kind = "netns"]', style: { 'background-opacity': 0.06, shape: 'round-rectangle', 'text-valign': 'top', 'border-width': 1 } },
      { selector: 'node[ifkind = "bridge"]', style: { shape: 'rectangle', width: 28 } },
      { selector: 'node[kind = "ovs-bridge"]', style: { shape: 'hexagon', width: 30 } },
      { selector: 'node[ifkind = "tap"]', style: { shape: 'round-rectangle', width: 26 } },
      { selector: 'node[kind = "domain"], node[kind = "container"]', style: { shape: 'diamond', width: 24, height: 24 } },
      { selector: 'edge', style: { width: 1.5, 'line-color': '#8a939e', 'curve-style': 'bezier' } },
      { selector: '.onpath', style: { 'background-color': '#0b62c4', 'line-color': '#0b62c4', width: 4, 'border-width': 2 } },
      { selector: '.down', style: { 'border-color': '#b3261e', 'border-width': 4, 'border-style': 'dashed' } },
      { selector: '.up', style: { 'border-color': '#1b7f3b', 'border-width': 2 } },
      { selector: '.match', style: { 'border-width': 3, 'border-color': '#0b62c4' } }
    ] });
  var graph = { nodes: [], edges: [] };
  var selected = null;
  api('api/graph').then(function (g) {
    graph = g;
    cy.add(g.nodes.map(function (n) { var d = Object.assign({}, n); if (!n.parent) delete d.parent; return { group: 'nodes', data: d }; }));
    cy.add(g.edges.map(function (e) { return { group: 'edges', data: e }; }));
    cy.layout({ name: 'elk', elk: { algorithm: 'layered', 'elk.direction': 'RIGHT', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN', 'elk.spacing.nodeNode': 30 } }).run();
    document.body.setAttribute('data-graph', 'ready');
    colour();
    setInterval(colour, 10000);
  });
  // With watch on this host: targets coloured by their state (a red border and "down" in the label).
  function colour() {
    api('api/state').then(function (s) {
      var down = [];
      graph.nodes.forEach(function (n) {
        var names = [n.target, n.label].concat(n.addresses);
        var state = names.map(function (x) { return s.targets[x]; }).find(function (v) { return v !== undefined; });
        var c = cy.getElementById(n.id);
        c.removeClass('down up');
        if (state === undefined || !n.target) return;
        c.addClass(state ? 'up' : 'down');
        c.data('label', n.label + (state ? '' : ' (down)'));
        if (!state) down.push(n.id);
      });
      document.body.setAttribute('data-down', down.join(' '));
    });
  }
  var search = document.querySelector('[data-testid=search]');
  var results = document.querySelector('[data-testid=search-results]');
  search.addEventListener('input', function () {
    var terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    results.textContent = '';
    cy.nodes().removeClass('match');
    if (!terms.length) return;
    graph.nodes.filter(function (n) { return terms.every(function (t) { return n.search.indexOf(t) >= 0; }); }).slice(0, 20).forEach(function (n) {
      cy.getElementById(n.id).addClass('match');
      var li = el('li', n.label + (n.netns ? ' (' + n.netns + ')' : '') + (n.addresses.length ? ' ' + n.addresses.join(' ') : ''), { 'data-testid': 'search-result', 'data-node': n.id });
      li.addEventListener('click', function () { select(n); });
      results.appendChild(li);
    });
  });
  cy.on('tap', 'node', function (evt) { var n = graph.nodes.find(function (x) { return x.id === evt.target.id(); }); if (n) select(n); });
  var button = document.querySelector('[data-testid=diagnose]');
  function select(n) {
    selected = n;
    var sel = document.querySelector('[data-testid=selection]');
    sel.textContent = n.label + (n.target ? ' → --target ' + n.target : ' (no target: pick a guest, container or its NIC)');
    cy.elements().removeClass('onpath');
    button.hidden = !n.target;
    if (!n.target) return;
    button.textContent = 'Diagnose ' + n.target;
    api('api/path?target=' + encodeURIComponent(n.target)).then(function (p) {
      (p.nodes || []).forEach(function (id, i) {
        cy.getElementById(id).addClass('onpath');
        var next = p.nodes[i + 1];
        if (next) cy.getElementById(id).edgesWith(cy.getElementById(next)).addClass('onpath');
      });
      document.body.setAttribute('data-path', (p.nodes || []).join(' '));
    });
  }
  button.addEventListener('click', function () {
    if (!selected || !selected.target) return;
    var progress = document.querySelector('[data-testid=progress]');
    progress.textContent = '';
    document.querySelector('[data-testid=report]').textContent = '';
    button.disabled = true;
    fetch('api/diagnose', { method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json', 'X-Hopdump-Request': 'diagnose' }, headers), body: JSON.stringify({ target: selected.target }) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; }); })
      .then(function (j) {
        var es = new EventSource(j.events.slice(1) + q);
        es.addEventListener('phase', function (m) { var d = JSON.parse(m.data); progress.appendChild(el('li', d.phase + ': ' + d.detail, { 'data-testid': 'phase-' + d.phase })); });
        es.addEventListener('done', function (m) { es.close(); button.disabled = false; var d = JSON.parse(m.data); progress.appendChild(el('li', 'done: ' + d.status, { 'data-testid': 'phase-done' })); openRun(d.run); loadRuns(); });
        es.addEventListener('error', function (m) { es.close(); button.disabled = false; if (m.data) progress.appendChild(el('li', 'failed: ' + JSON.parse(m.data).message, { 'data-testid': 'phase-error', class: 'bad' })); });
      })
      .catch(function (err) { button.disabled = false; progress.appendChild(el('li', 'failed: ' + err.message, { 'data-testid': 'phase-error', class: 'bad' })); });
  });
  function openRun(id) {
    var box = document.querySelector('[data-testid=report]');
    box.textContent = '';
    box.appendChild(el('iframe', undefined, { src: 'runs/' + id + '/report.html' + q, 'data-testid': 'report-frame', title: 'report ' + id }));
  }
  function loadRuns() {
    api('runs').then(function (runs) {
      var ul = document.querySelector('[data-testid=runs]');
      ul.textContent = '';
      runs.forEach(function (r) {
        var li = el('li', r.id + ' ' + r.target + ' ' + (r.status || r.state) + (r.cause ? ' ' + r.cause.id : ''), { 'data-testid': 'run', 'data-run': r.id });
        li.addEventListener('click', function () { openRun(r.id); });
        ul.appendChild(li);
      });
    });
  }
  loadRuns();
})();
`;
