// A run target's progress as the CLI computes it (cmd/ferry/runview.go):
// what the target is through with (arrived, skipped or failed), in bytes
// when there are any, otherwise in objects; the ETA at the current rate.

import { h, bytes, rate, duration } from './dom.js';

export function progressOf(t, runState) {
  const objects = (t.objectsDone || 0) + (t.objectsSkipped || 0) + (t.objectsFailed || 0);
  const done = (t.bytesDone || 0) + (t.bytesSkipped || 0) + (t.bytesFailed || 0);
  let frac = 0;
  if (t.state === 'SUCCESS' || (runState === 'SUCCESS' && !t.state)) frac = 1;
  else if (t.bytesTotal > 0) frac = done / t.bytesTotal;
  else if (t.objectsTotal > 0) frac = objects / t.objectsTotal;
  frac = Math.min(Math.max(frac, 0), 1);
  let eta = null;
  if (t.state === 'RUNNING' && t.bytesPerSecond > 0 && t.bytesTotal > 0) eta = (t.bytesTotal - done) / t.bytesPerSecond;
  return { frac, pct: Math.floor(frac * 100), objects, done, eta };
}

// progressBar is the bar of a target with its percentage.
export function progressBar(t, runState) {
  const p = progressOf(t, runState);
  const bar = h('progress', { max: '100', value: String(p.pct) });
  return h('span', { class: 'progress' }, bar, h('span', { class: 'pct' }, p.pct + ' %'));
}

// progressCells are the target's columns: bar, bytes, objects, rate, ETA.
export function progressCells(t, runState) {
  const p = progressOf(t, runState);
  const objs = p.objects + ' / ' + (t.objectsTotal || 0) + (t.objectsFailed ? ' (' + t.objectsFailed + ' failed)' : '');
  return [
    h('td', {}, progressBar(t, runState)),
    h('td', { class: 'num' }, bytes(p.done) + ' / ' + bytes(t.bytesTotal || 0)),
    h('td', { class: 'num' }, objs),
    h('td', { class: 'num' }, t.state === 'RUNNING' ? rate(t.bytesPerSecond) : '--'),
    h('td', { class: 'num' }, p.eta === null ? '--' : duration(p.eta)),
  ];
}
