// The agent's API as the dashboard calls it: the token from session
// storage in X-Auth-Token on every call, never in a URL.

const tokenKey = 'ferry.token';

export const token = {
  get: () => sessionStorage.getItem(tokenKey) || '',
  set: (t) => sessionStorage.setItem(tokenKey, t),
  clear: () => sessionStorage.removeItem(tokenKey),
};

// APIError is an answer other than 2xx, with the agent's own message.
export class APIError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
  get refused() { return this.status === 401; }
  get notReady() { return this.status === 503; }
  get missing() { return this.status === 404; }
}

// onRefused is called when the agent refuses the token (401).
let onRefused = () => {};
export function whenRefused(f) { onRefused = f; }

function headers(extra) {
  return Object.assign({ 'X-Auth-Token': token.get() }, extra);
}

// errorOf reads the message of a refusal, whatever the dialect's body.
export async function errorOf(resp, path) {
  let text = '';
  try { text = await resp.text(); } catch { /* no body */ }
  let msg = text;
  try {
    const j = JSON.parse(text);
    msg = j.error || j.message || j.errorMessage || j.error_message || text;
  } catch { /* not JSON */ }
  msg = String(msg || resp.statusText).trim();
  if (resp.status === 401 || resp.status === 403) msg = 'token refused: ' + msg;
  if (resp.status === 503 && !/not ready/i.test(msg)) msg = 'agent not ready: ' + msg;
  const err = new APIError(resp.status, msg, path);
  if (err.refused) onRefused(err);
  return err;
}

// call sends one request and answers its JSON body (null for 204).
export async function call(method, path, body) {
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw await errorOf(resp, path);
  if (resp.status === 204) return null;
  return resp.json();
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);

// optional is get, answering null when the agent has no such endpoint (an
// older agent without /v1/lag or /v1/links).
export async function optional(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e.missing) return null;
    throw e;
  }
}

// withHeaders is get that also answers the response's headers.
export async function withHeaders(path) {
  const resp = await fetch(path, { headers: headers(), cache: 'no-store' });
  if (!resp.ok) throw await errorOf(resp, path);
  return { body: await resp.json(), headers: resp.headers };
}

export { headers as authHeaders };
