// A text/event-stream reader over fetch: EventSource cannot send the token
// header, and the token must not go in the URL.

import { authHeaders, errorOf } from './api.js';

// parseEvents takes the complete events off the front of buf and answers
// them with what is left (an event not yet ended).
export function parseEvents(buf) {
  const events = [];
  buf = buf.replace(/\r\n?/g, '\n');
  let end;
  while ((end = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, end);
    buf = buf.slice(end + 2);
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) events.push({ event, data: data.join('\n') });
  }
  return { events, rest: buf };
}

// stream reads path's events into onEvent(name, data) until the stream
// ends or signal aborts it.
export async function stream(path, onEvent, signal) {
  const resp = await fetch(path, { headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store', signal });
  if (!resp.ok) throw await errorOf(resp, path);
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const got = parseEvents(buf + value);
    buf = got.rest;
    for (const e of got.events) onEvent(e.event, e.data);
  }
}
