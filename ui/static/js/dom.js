// Small DOM and formatting helpers the views share.

const svgNS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h makes an HTML element: h('td', {class: 'num'}, '42').
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);

// s makes an SVG element.
export const s = (tag, attrs, ...children) => build(document.createElementNS(svgNS, tag), attrs, children);

// table makes a table of rows under the header names.
export function table(cls, names, rows) {
  return h('table', { class: cls },
    h('thead', {}, h('tr', {}, names.map((n) => h('th', {}, n)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: names.length, class: 'muted' }, 'none'))));
}

// message is a paragraph telling why a view is empty or failed.
export const message = (cls, text) => h('p', { class: cls }, text);

export function bytes(n) {
  if (n === undefined || n === null || n < 0) return '--';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

export const rate = (bps) => bytes(Math.round(bps || 0)) + '/s';

export function duration(sec) {
  if (sec === undefined || sec === null || !isFinite(sec)) return '--';
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return sec + 's';
  if (sec < 3600) return Math.floor(sec / 60) + 'm ' + (sec % 60) + 's';
  if (sec < 86400) return Math.floor(sec / 3600) + 'h ' + Math.floor((sec % 3600) / 60) + 'm';
  return Math.floor(sec / 86400) + 'd ' + Math.floor((sec % 86400) / 3600) + 'h';
}

const zero = (t) => !t || t.startsWith('0001-');

// when is a time as the local clock reads it, '--' for none.
export function when(t) {
  if (zero(t)) return '--';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

// ago is how long before now t was.
export function ago(t) {
  if (zero(t)) return '--';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  const sec = (Date.now() - d.getTime()) / 1000;
  return sec < 0 ? 'in ' + duration(-sec) : duration(sec) + ' ago';
}

// badge is a state in its colour: SUCCESS, FAILED, RUNNING, alive, ...
export const badge = (state) => h('span', { class: 'badge b-' + String(state || 'none').toLowerCase() }, state || '--');

// records is a page's records, or [] for none.
export const records = (page) => (page && page.records) || [];
