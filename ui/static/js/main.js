// The dashboard's shell: login, the token's life, the views by URL hash.

import { token, get, whenRefused } from './api.js';
import { h } from './dom.js';
import * as regions from './regions.js';
import * as tasks from './tasks.js';
import * as runs from './runs.js';
import * as lag from './lag.js';

const views = { regions, tasks, runs, lag };
const $ = (id) => document.getElementById(id);
let current = null; // the mounted view: { stop() }

function showLogin(reason) {
  unmount();
  $('main').replaceChildren();
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('agent').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = reason || '';
  $('token').focus();
}

function unmount() {
  if (current) current.stop();
  current = null;
}

// notice shows a message above the view until the next navigation.
export function notice(text, kind) {
  const n = $('notice');
  n.textContent = text;
  n.className = 'notice ' + (kind || 'error');
  n.hidden = !text;
}

// route mounts the view the hash names: #/runs/<id> is a run's detail.
function route() {
  if (!token.get()) return showLogin('');
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const view = views[name] || regions;
  unmount();
  notice('');
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === (views[name] ? name : 'regions'));
  const root = h('div', { class: 'view', id: 'view-' + (views[name] ? name : 'regions') });
  $('main').replaceChildren(root);
  current = view.mount(root, { params: rest.map(decodeURIComponent), notice });
}

// start checks the token with a read every token may make, then shows the
// views; a refused token goes back to the login with the agent's reason.
async function start() {
  try {
    const self = await get('/v1/agent/self');
    $('agent').textContent = 'agent ' + self.id + (self.leader ? ' (leader)' : '') + ' · ' + self.version;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      token.clear();
      return showLogin(e.message);
    }
    $('agent').textContent = e.message; // not ready: the views say why too
  }
  $('login').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = false;
  route();
}

whenRefused((e) => {
  token.clear();
  showLogin(e.message);
});

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  token.set(t);
  $('token').value = '';
  $('login-error').textContent = '';
  start();
});

$('logout').addEventListener('click', () => {
  token.clear();
  showLogin('Logged out.');
});

window.addEventListener('hashchange', () => { if (token.get()) route(); });

if (token.get()) start(); else showLogin('');
