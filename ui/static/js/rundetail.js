// One run: its targets' progress, live over the event stream while it
// runs, and its per-object detail with errors (GET /v1/runs/:id/objects,
// which the run's executor serves).

import { get } from './api.js';
import { h, table, when, bytes, badge, duration, records, message } from './dom.js';
import { stream } from './sse.js';
import { progressCells } from './progress.js';

const objectStates = ['', 'FAILED', 'SUCCESS', 'SKIPPED'];
const pageSize = 100;

function summary(r, taskName) {
  const took = r.startedAt && r.finishedAt && !r.finishedAt.startsWith('0001-') ? duration((new Date(r.finishedAt) - new Date(r.startedAt)) / 1000) : '--';
  const spec = r.spec || {};
  const dl = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  return h('dl', { class: 'summary' },
    dl('State', badge(r.state)), dl('Task', r.taskKey ? taskName || r.taskKey : '(ad hoc run)'), dl('Trigger', r.trigger || '--'),
    dl('Executor', r.executorClusterId || '--'),
    dl('What', (spec.localProjectId || '') + ' / ' + (spec.replicaTaskObjects || []).map((o) => o.localRepoName).join(', ')),
    dl('Created', when(r.createdAt)), dl('Started', when(r.startedAt)), dl('Finished', when(r.finishedAt)), dl('Took', took));
}

function targets(r) {
  return table('targets-detail', ['Target', 'State', 'Progress', 'Bytes', 'Objects', 'Rate', 'ETA', 'Error'], (r.targets || []).map((t) =>
    h('tr', { 'data-target': t.clusterId }, h('td', {}, h('b', {}, t.clusterId)), h('td', {}, badge(t.state)),
      ...progressCells(t, r.state), h('td', { class: 'error' }, t.error || ''))));
}

function objectRows(page) {
  return records(page).map((o) => h('tr', { 'data-status': o.status },
    h('td', { class: 'mono clip', title: o.path }, o.path + (o.packageKey ? ' (' + o.packageKey + ' ' + (o.version || '') + ')' : '')),
    h('td', {}, o.target), h('td', { class: 'num' }, bytes(o.size)), h('td', {}, badge(o.status)),
    h('td', {}, o.action || ''), h('td', { class: 'error' }, o.error || ''), h('td', {}, when(o.time))));
}

function objectFilters(f, run, apply) {
  const st = h('select', { id: 'object-status' }, objectStates.map((s) => h('option', { value: s, selected: s === f.status }, s || 'any status')));
  const tg = h('select', { id: 'object-target' }, h('option', { value: '' }, 'any target'),
    (run.targets || []).map((t) => h('option', { value: t.clusterId, selected: t.clusterId === f.target }, t.clusterId)));
  st.addEventListener('change', () => apply({ status: st.value }));
  tg.addEventListener('change', () => apply({ target: tg.value }));
  return h('div', { class: 'filters' }, h('label', {}, 'Status ', st), h('label', {}, 'Target ', tg));
}

export function mount(root, id, ctx) {
  const head = h('div', {}), objs = h('div', {}), status = h('p', { class: 'status', id: 'run-status' }, 'loading…');
  root.replaceChildren(h('p', {}, h('a', { href: '#/runs' }, '‹ all runs')), head, objs, status);
  const ctl = new AbortController();
  const f = { status: null, target: '', page: 1 };
  let run = null, taskName = '', objectsTimer = null;
  const path = '/v1/runs/' + encodeURIComponent(id);
  const showRun = (r) => {
    run = r;
    if (f.status === null) f.status = r.state === 'FAILED' ? 'FAILED' : '';
    head.replaceChildren(...[h('h2', {}, 'Run ', h('span', { class: 'mono' }, r.id)), summary(r, taskName),
      r.error && h('p', { class: 'error run-error' }, r.error), h('h3', {}, 'Targets'), targets(r)].filter(Boolean));
  };
  const loadObjects = async () => {
    const q = new URLSearchParams({ pageSize: String(pageSize), pageNumber: String(f.page), order: 'newest' });
    if (f.status) q.set('status', f.status);
    if (f.target) q.set('target', f.target);
    try {
      const page = await get(path + '/objects?' + q);
      objs.replaceChildren(h('h3', {}, 'Objects ', h('span', { class: 'count' }, (page.totalRecords || 0) + ' records')), objectFilters(f, run, apply),
        table('objects', ['Path', 'Target', 'Size', 'Status', 'Action', 'Error', 'Time'], objectRows(page)));
    } catch (e) {
      objs.replaceChildren(h('h3', {}, 'Objects'), message('error', e.message));
    }
  };
  function apply(change) { Object.assign(f, { page: 1 }, change); loadObjects(); }
  (async () => {
    try {
      const first = await get(path);
      if (first.taskKey) taskName = (await get('/v1/tasks/' + encodeURIComponent(first.taskKey)).catch(() => ({}))).name || '';
      showRun(first);
      await loadObjects();
      status.textContent = run.state === 'WAITING' || run.state === 'RUNNING' ? 'live' : 'ended';
      if (status.textContent === 'live') {
        objectsTimer = setInterval(loadObjects, 5000); // the detail grows while the run goes
        let events = 0; // counted on the page: what a test reads to see the stream at work
        await stream(path + '/events', (ev, data) => {
          status.dataset.events = String(++events);
          showRun(JSON.parse(data));
        }, ctl.signal);
        clearInterval(objectsTimer);
        status.textContent = 'ended';
        await loadObjects();
      }
    } catch (e) {
      clearInterval(objectsTimer);
      if (e.name === 'AbortError') return;
      status.textContent = e.message;
      status.className = 'status error';
    }
  })();
  return { stop() { ctl.abort(); clearInterval(objectsTimer); } };
}
