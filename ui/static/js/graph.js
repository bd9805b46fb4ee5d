// The region graph: clusters on a circle, a curved arrow per link (one each
// way), its width the last minute's throughput, its colour the lag into
// its target.

import { s, rate } from './dom.js';

const W = 640, H = 300, R = 110;

// lagColour names the class of a lag in seconds (null: no task into it).
export function lagColour(sec) {
  if (sec === null || sec === undefined) return 'lag-none';
  if (sec < 60) return 'lag-ok';
  if (sec < 900) return 'lag-warn';
  return 'lag-bad';
}

function width(bps) {
  return Math.min(14, 1.5 + 2 * Math.log10(1 + (bps || 0) / 1024));
}

function positions(rows) {
  const pos = new Map();
  rows.forEach((r, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(rows.length, 1);
    pos.set(r.id, { x: W / 2 + (rows.length > 1 ? 1.6 * R * Math.cos(a) : 0), y: H / 2 + 14 + (rows.length > 1 ? R * Math.sin(a) : 0) });
  });
  return pos;
}

// arc is a link from a to b bent to its left, so that b → a shows apart.
function arc(a, b, bend) {
  const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
  const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
  const cx = mx - (dy / len) * bend, cy = my + (dx / len) * bend;
  const shrink = (p, q) => { // to the node's edge, towards q
    const d = Math.hypot(q.x - p.x, q.y - p.y) || 1;
    return { x: p.x + ((q.x - p.x) * 48) / d, y: p.y + ((q.y - p.y) * 48) / d };
  };
  const p0 = shrink(a, { x: cx, y: cy }), p1 = shrink(b, { x: cx, y: cy });
  return { d: `M${p0.x},${p0.y} Q${cx},${cy} ${p1.x},${p1.y}`, lx: (mx + cx) / 2, ly: (my + cy) / 2 };
}

function linkEls(links, rows, pos, lagOf) {
  const out = [];
  if (links === null) { // no link data: the mesh every agent has
    for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) {
      const a = pos.get(rows[i].id), b = pos.get(rows[j].id);
      out.push(s('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: 'mesh' }));
    }
    return out;
  }
  for (const l of links) {
    const a = pos.get(l.source), b = pos.get(l.target);
    if (!a || !b) continue;
    const g = arc(a, b, 22);
    out.push(s('path', { d: g.d, class: 'link ' + lagColour(lagOf(l.target)), 'stroke-width': width(l.bytesPerSecond1m), 'marker-end': 'url(#arrow)' },
      s('title', {}, `${l.source} → ${l.target}: ${rate(l.bytesPerSecond1m)} (1m), ${rate(l.bytesPerSecond5m)} (5m)`)));
    if (l.bytesPerSecond1m > 0) out.push(s('text', { x: g.lx, y: g.ly, class: 'link-label' }, rate(l.bytesPerSecond1m)));
  }
  return out;
}

function nodeEl(r, p) {
  const health = r.unreachable ? 'unreachable' : (r.status || 'unknown');
  return s('g', { class: 'node h-' + health, 'data-region': r.id },
    s('circle', { cx: p.x, cy: p.y, r: 42, class: r.leader ? 'leader' : '' }),
    s('text', { x: p.x, y: p.y - 6, class: 'node-id' }, r.id),
    s('text', { x: p.x, y: p.y + 9, class: 'node-role' }, r.leader ? 'leader' : (r.suffrage || r.role || '')),
    s('text', { x: p.x, y: p.y + 22, class: 'node-role' }, health));
}

export function graph(rows, links, lagOf) {
  const pos = positions(rows);
  const defs = s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '8', refY: '5', markerUnits: 'userSpaceOnUse', markerWidth: '14', markerHeight: '14', orient: 'auto' },
    s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' })));
  return s('svg', { viewBox: `0 0 ${W} ${H + 40}`, role: 'img', 'aria-label': 'region graph' },
    defs, ...linkEls(links, rows, pos, lagOf), ...rows.map((r) => nodeEl(r, pos.get(r.id))));
}
