// Runs: the history with filters and each active run's progress per target,
// live over its event stream; #/runs/<id> is one run's detail.

import { get } from './api.js';
import { h, table, when, badge, records } from './dom.js';
import { poll } from './poll.js';
import { stream } from './sse.js';
import { progressCells } from './progress.js';
import * as detail from './rundetail.js';

const states = ['', 'WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'CANCELED', 'SKIPPED'];
const active = (r) => r.state === 'WAITING' || r.state === 'RUNNING';
const maxStreams = 6;

// follow keeps one event stream open for each active run of the page.
export function follower(onRun) {
  const open = new Map();
  return {
    sync(runs) {
      const want = new Set(runs.filter(active).slice(0, maxStreams).map((r) => r.id));
      for (const [id, ctl] of open) if (!want.has(id)) { ctl.abort(); open.delete(id); }
      for (const id of want) {
        if (open.has(id)) continue;
        const ctl = new AbortController();
        open.set(id, ctl);
        stream('/v1/runs/' + encodeURIComponent(id) + '/events', (ev, data) => { if (ev === 'run' || ev === 'end') onRun(JSON.parse(data)); }, ctl.signal)
          .catch(() => {}) // the next poll shows the run as it is
          .finally(() => { if (open.get(id) === ctl) open.delete(id); });
      }
    },
    stop() { for (const ctl of open.values()) ctl.abort(); open.clear(); },
  };
}

function targetLines(r) {
  return h('table', { class: 'targets' }, h('tbody', {}, (r.targets || []).map((t) =>
    h('tr', { 'data-target': t.clusterId }, h('td', {}, t.clusterId), ...progressCells(t, r.state)))));
}

function runRow(r, taskNames) {
  const what = taskNames.get(r.taskKey) || (r.spec.localProjectId + '/' + (r.spec.replicaTaskObjects || []).map((o) => o.localRepoName).join(','));
  return h('tr', { 'data-run': r.id, 'data-state': r.state },
    h('td', {}, h('a', { href: '#/runs/' + encodeURIComponent(r.id) }, r.id.slice(0, 12)), h('div', { class: 'muted small' }, r.trigger || '')),
    h('td', {}, what),
    h('td', {}, badge(r.state), r.error ? h('div', { class: 'error small clip', title: r.error }, r.error) : null),
    h('td', {}, r.executorClusterId || '--'),
    h('td', {}, when(r.createdAt)),
    h('td', {}, (r.targets || []).length ? targetLines(r) : '--'));
}

function filters(f, tasks, apply) {
  const state = h('select', { id: 'run-state' }, states.map((s) => h('option', { value: s, selected: s === f.state }, s || 'any state')));
  const task = h('select', { id: 'run-task' }, h('option', { value: '' }, 'any task'),
    tasks.map((t) => h('option', { value: t.key, selected: t.key === f.taskKey }, t.name)));
  state.addEventListener('change', () => apply({ state: state.value }));
  task.addEventListener('change', () => apply({ taskKey: task.value }));
  return h('div', { class: 'filters' }, h('label', {}, 'State ', state), h('label', {}, 'Task ', task));
}

function pager(page, apply) {
  const n = page.pageNumber || 1, total = page.totalPages || 1;
  return h('div', { class: 'pager' },
    h('button', { type: 'button', class: 'small', disabled: n <= 1, onclick: () => apply({ page: n - 1 }) }, '‹ newer'),
    ` page ${n} of ${total} (${page.totalRecords || 0} runs) `,
    h('button', { type: 'button', class: 'small', disabled: n >= total, onclick: () => apply({ page: n + 1 }) }, 'older ›'));
}

function list(root) {
  const f = { state: '', taskKey: '', page: 1 };
  const status = h('p', { class: 'status' }, 'loading…');
  const body = h('div', {});
  root.replaceChildren(body, status);
  let runs = [], page = {}, tasks = [];
  const render = () => {
    const names = new Map(tasks.map((t) => [t.key, t.name]));
    body.replaceChildren(h('h2', {}, 'Runs'), filters(f, tasks, apply),
      table('runs', ['Run', 'What', 'State', 'Executor', 'Created', 'Targets: progress, bytes, objects, rate, ETA'], runs.map((r) => runRow(r, names))),
      pager(page, apply));
  };
  const live = follower((run) => {
    const i = runs.findIndex((r) => r.id === run.id);
    if (i >= 0) { runs[i] = run; render(); }
  });
  const p = poll(async () => {
    const q = new URLSearchParams({ pageSize: '20', pageNumber: String(f.page) });
    if (f.state) q.set('state', f.state);
    if (f.taskKey) q.set('taskKey', f.taskKey);
    const [pg, tp] = await Promise.all([get('/v1/runs?' + q), get('/v1/tasks?pageSize=1000')]);
    page = pg; runs = records(pg); tasks = records(tp);
    render();
    live.sync(runs);
  }, 4000, status);
  function apply(change) {
    Object.assign(f, { page: 1 }, change);
    p.now();
  }
  return { stop() { p.stop(); live.stop(); } };
}

export function mount(root, ctx) {
  if (ctx.params[0]) return detail.mount(root, ctx.params[0], ctx);
  return list(root);
}
