// Lag: for each task and target, how long since the last successful sync
// and, for REAL_TIME tasks, how many changes wait in the outbox
// (GET /v1/lag). Worst first: the first thing to look at when something
// is wrong.

import { optional } from './api.js';
import { h, table, message, duration, ago, badge } from './dom.js';
import { poll } from './poll.js';
import { lagColour } from './graph.js';

function outbox(e) {
  if (e.replicaType !== 'REAL_TIME') return '--';
  if (e.outboxDepth < 0) return h('span', { class: 'error', title: e.outboxError || '' }, 'unknown: ' + (e.outboxError || 'no answer'));
  return String(e.outboxDepth);
}

function lagRow(e) {
  return h('tr', { 'data-task': e.task, 'data-target': e.target },
    h('td', {}, h('b', {}, e.taskName || e.task), h('div', { class: 'muted small' }, e.projectId || '')),
    h('td', {}, e.replicaType || ''),
    h('td', {}, e.target),
    h('td', {}, e.lastSuccess ? ago(e.lastSuccess) : 'never'),
    h('td', { class: 'num' }, h('span', { class: 'swatch ' + lagColour(e.lagSeconds) }), ' ' + duration(e.lagSeconds)),
    h('td', {}, e.lastStatus ? badge(e.lastStatus) : '--'),
    h('td', { class: 'num' }, outbox(e)));
}

export function mount(root) {
  const status = h('p', { class: 'status' }, 'loading…');
  const body = h('div', {});
  root.replaceChildren(body, status);
  return poll(async () => {
    const d = await optional('/v1/lag');
    if (d === null) {
      body.replaceChildren(h('h2', {}, 'Lag'), message('notice info', 'Lag is not available on this agent: GET /v1/lag answered 404 (an agent older than the dashboard).'));
      return;
    }
    const rows = [...(d.lag || [])].sort((a, b) => (b.lagSeconds || 0) - (a.lagSeconds || 0));
    body.replaceChildren(h('h2', {}, 'Lag ', h('span', { class: 'count' }, rows.length + ' task targets')),
      table('lag', ['Task', 'Type', 'Target', 'Last success', 'Lag', 'Last status', 'Outbox'], rows.map(lagRow)));
  }, 5000, status);
}
