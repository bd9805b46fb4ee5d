// Tasks: every task of every dialect (native and bk-repo tasks, SWR sync
// rules, this region's Pulp sync schedules) with its type, trigger, next
// and last run and status, and the buttons the CLI has: enable, disable,
// run now (the same API calls).

import { get, post, call, optional } from './api.js';
import { h, table, when, badge } from './dom.js';
import { poll } from './poll.js';

const swrPrefix = 'swr-sync '; // api/swr/rules.go ruleNamePrefix
const pulpBase = '/pulp/api/v2/repositories/';

function trigger(t) {
  if (t.replicaType === 'REAL_TIME') return 'real time (on every change)';
  const s = t.setting || {}, p = s.executionPlan || {};
  if (s.executionStrategy === 'CRON_EXPRESSION') return 'cron ' + (p.cronExpression || '');
  if (s.executionStrategy === 'SPECIFIED_TIME') return 'at ' + when(p.executeTime);
  return 'once, immediately';
}

// nativeRows are /v1/tasks as rows: bk-repo's and the native API's tasks
// and SWR's rules (tasks named by the rule).
function nativeRows(page) {
  return ((page && page.records) || []).map((t) => ({
    key: t.key, name: t.name, dialect: t.name.startsWith(swrPrefix) ? 'SWR rule' : 'task',
    type: t.replicaType + ' ' + t.replicaObjectType, project: t.projectId,
    targets: (t.remoteClusterIds || []).join(', '), trigger: trigger(t),
    next: t.nextExecutionTime, last: t.lastExecutionTime, status: t.lastExecutionStatus, enabled: t.enabled,
    enable: (on) => post('/v1/tasks/' + encodeURIComponent(t.key) + (on ? '/enable' : '/disable')),
    execute: () => post('/v1/tasks/' + encodeURIComponent(t.key) + '/execute'),
  }));
}

// pulpRows are this region's Pulp sync schedules (Pulp's repositories are
// a region's own), read through the Pulp dialect.
async function pulpRows() {
  const repos = await optional(pulpBase + '?importers=true');
  const out = [];
  for (const repo of repos || []) {
    for (const imp of repo.importers || []) {
      const base = pulpBase + encodeURIComponent(repo.id) + '/importers/' + encodeURIComponent(imp.id) + '/schedules/sync/';
      for (const sc of (await get(base)) || []) {
        out.push({
          key: sc._id, name: repo.id + ' sync', dialect: 'Pulp schedule', type: 'feed sync', project: 'pulp', targets: '(this region)',
          trigger: 'every ' + sc.schedule, next: sc.next_run, last: sc.last_run_at,
          status: sc.consecutive_failures > 0 ? 'FAILED' : (sc.total_run_count > 0 ? 'SUCCESS' : ''), enabled: sc.enabled,
          enable: (on) => call('PUT', base + encodeURIComponent(sc._id) + '/', { enabled: on }),
          execute: () => post(pulpBase + encodeURIComponent(repo.id) + '/actions/sync/'),
        });
      }
    }
  }
  return out;
}

function button(label, action, refresh, notice) {
  const b = h('button', { type: 'button', class: 'small' }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const out = await action();
      if (out && out.id && out.state) notice('Started run ' + out.id + '.', 'info');
    } catch (e) {
      notice(label + ': ' + e.message);
    }
    refresh();
  });
  return b;
}

function taskRow(t, refresh, notice) {
  return h('tr', { 'data-task': t.key, 'data-name': t.name },
    h('td', {}, h('b', {}, t.name), h('div', { class: 'muted small' }, t.dialect + ' · ' + t.project)),
    h('td', {}, t.type),
    h('td', {}, t.trigger),
    h('td', {}, t.targets),
    h('td', {}, when(t.next)),
    h('td', {}, when(t.last)),
    h('td', {}, t.status ? badge(t.status) : '--'),
    h('td', { class: 'enabled' }, t.enabled ? badge('enabled') : badge('disabled')),
    h('td', { class: 'actions' },
      button(t.enabled ? 'Disable' : 'Enable', () => t.enable(!t.enabled), refresh, notice),
      button('Run now', t.execute, refresh, notice)));
}

export function mount(root, ctx) {
  const status = h('p', { class: 'status' }, 'loading…');
  const body = h('div', {});
  root.replaceChildren(body, status);
  const p = poll(async () => {
    const [page, pulp] = await Promise.all([get('/v1/tasks?pageSize=1000'), pulpRows().catch(() => [])]);
    const rows = nativeRows(page).concat(pulp);
    body.replaceChildren(
      h('h2', {}, 'Tasks ', h('span', { class: 'count' }, rows.length)),
      table('tasks', ['Task', 'Type', 'Trigger', 'Targets', 'Next run', 'Last run', 'Last status', 'State', ''], rows.map((t) => taskRow(t, () => p.now(), ctx.notice))));
  }, 5000, status);
  return p;
}
