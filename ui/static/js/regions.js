// Regions: every cluster with its health, Raft role, address, version and
// last contact, and the links between them (GET /v1/links) as a graph
// whose line width is throughput and whose colour is the lag into the
// target (GET /v1/lag).

import { get, optional } from './api.js';
import { h, table, message, bytes, rate, ago, badge, duration } from './dom.js';
import { poll } from './poll.js';
import { graph, lagColour } from './graph.js';

async function load() {
  const [members, clusters, leader, peers, self, links, lag] = await Promise.all([
    get('/v1/members'), get('/v1/clusters'), optional('/v1/status/leader').catch(() => null),
    get('/v1/status/peers'), get('/v1/agent/self'), optional('/v1/links'), optional('/v1/lag'),
  ]);
  return { members: members || [], clusters: clusters || [], leader, peers: peers || [], self, links, lag };
}

// regionsOf merges the registry, gossip and Raft's views, one row a cluster.
export function regionsOf(d) {
  const by = new Map();
  const row = (id) => by.get(id) || by.set(id, { id, sent: 0, received: 0, sent5: 0, received5: 0 }).get(id);
  for (const c of d.clusters) Object.assign(row(c.id), { name: c.name, apiAddr: c.apiAddr, version: c.version, registered: true });
  for (const m of d.members) Object.assign(row(m.id), { name: m.name, apiAddr: m.apiAddr || row(m.id).apiAddr, version: m.version || row(m.id).version, status: m.status, since: m.statusSince, role: m.role, leader: m.leader, leaving: m.leaving });
  for (const p of d.peers) Object.assign(row(p.id), { suffrage: p.suffrage, raftAddr: p.address });
  if (d.leader) row(d.leader.id).leader = true;
  for (const l of (d.links && d.links.links) || []) {
    const src = row(l.source), dst = row(l.target);
    src.sent += l.bytesPerSecond1m || 0; src.sent5 += l.bytesPerSecond5m || 0;
    dst.received += l.bytesPerSecond1m || 0; dst.received5 += l.bytesPerSecond5m || 0;
    for (const r of [src, dst]) if (l.lastActivity && (!r.activity || l.lastActivity > r.activity)) r.activity = l.lastActivity;
  }
  for (const id of (d.links && d.links.unreachable) || []) row(id).unreachable = true;
  return [...by.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function roleOf(r) {
  if (r.leader) return 'leader';
  const s = r.suffrage || r.role;
  if (!s || s === 'none') return 'not in Raft';
  return s === 'nonvoter' ? 'non-voter' : s;
}

// goAgo reads a Go duration as Raft's stats give it ("4.2ms", "1m2s",
// "never") as a time ago.
function goAgo(d) {
  if (d === undefined || d === 'never') return d || '--';
  let sec = 0;
  for (const [, n, unit] of String(d).matchAll(/([\d.]+)(ns|µs|us|ms|s|m|h)/g)) {
    sec += parseFloat(n) * { ns: 1e-9, 'µs': 1e-6, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[unit];
  }
  return sec < 1 ? 'just now' : duration(sec) + ' ago';
}

function lastContact(r, self) {
  if (r.id === self.id) {
    const lc = self.raft && self.raft.last_contact;
    return r.leader ? 'this agent (leader)' : 'this agent: leader seen ' + goAgo(lc);
  }
  if (r.activity) return 'link ' + ago(r.activity);
  return (r.status || 'unknown') + ' since ' + ago(r.since);
}

function regionRow(r, self, hasLinks) {
  const health = r.unreachable ? 'unreachable' : (r.leaving ? 'leaving' : (r.status || 'unknown'));
  return h('tr', { 'data-region': r.id },
    h('td', {}, h('b', {}, r.id), r.name && r.name !== r.id ? h('span', { class: 'muted' }, ' ' + r.name) : null),
    h('td', {}, badge(health)),
    h('td', {}, roleOf(r)),
    h('td', { class: 'mono' }, r.apiAddr || '--'),
    h('td', {}, r.version || '--'),
    h('td', {}, lastContact(r, self)),
    h('td', { class: 'num' }, hasLinks ? rate(r.sent) + ' (5m ' + rate(r.sent5) + ')' : '--'),
    h('td', { class: 'num' }, hasLinks ? rate(r.received) + ' (5m ' + rate(r.received5) + ')' : '--'));
}

function linkRows(links, lagOf) {
  return links.map((l) => h('tr', {},
    h('td', {}, l.source + ' → ' + l.target),
    h('td', { class: 'num' }, rate(l.bytesPerSecond1m)),
    h('td', { class: 'num' }, rate(l.bytesPerSecond5m)),
    h('td', { class: 'num' }, bytes(l.bytesTotal)),
    h('td', {}, ago(l.lastActivity)),
    h('td', {}, h('span', { class: 'swatch ' + lagColour(lagOf(l.target)) }), lagOf(l.target) === null ? 'no task' : ' ' + Math.round(lagOf(l.target)) + ' s')));
}

// worstLag maps a target to the largest lag of the tasks into it.
function worstLag(lag) {
  const m = new Map();
  for (const e of (lag && lag.lag) || []) m.set(e.target, Math.max(m.get(e.target) || 0, e.lagSeconds || 0));
  return (id) => (m.has(id) ? m.get(id) : null);
}

function render(root, d) {
  const rows = regionsOf(d);
  const links = d.links ? d.links.links || [] : null;
  const lagOf = worstLag(d.lag);
  const parts = [
    h('h2', {}, 'Regions ', h('span', { class: 'count' }, rows.length + ' clusters')),
    h('div', { class: 'graph' }, graph(rows, links, lagOf), h('p', { class: 'legend muted small' },
      'Arrow width: bytes sent in the last minute. Colour: the worst lag of the tasks into the target — ',
      h('span', { class: 'swatch lag-ok' }), 'under 1 min ', h('span', { class: 'swatch lag-warn' }), 'under 15 min ',
      h('span', { class: 'swatch lag-bad' }), 'more ', h('span', { class: 'swatch lag-none' }), 'no task. Thick ring: the leader.')),
    table('regions', ['Cluster', 'Health', 'Role', 'Address', 'Version', 'Last contact', 'Sent (1m)', 'Received (1m)'], rows.map((r) => regionRow(r, d.self, !!links))),
  ];
  if (links === null) parts.push(message('muted', 'Link throughput is not available on this agent (GET /v1/links answered 404).'));
  else parts.push(h('h3', {}, 'Links'), table('links', ['Link', '1 min', '5 min', 'Total', 'Last activity', 'Lag into target'], linkRows(links, lagOf)));
  root.replaceChildren(...parts);
}

export function mount(root) {
  const status = h('p', { class: 'status' }, 'loading…');
  const body = h('div', {});
  root.replaceChildren(body, status);
  return poll(async () => render(body, await load()), 3000, status);
}
