// poll runs load now and every ms milliseconds until stopped; a failure is
// shown in the view's status line and retried on the next tick. Only one
// load runs at a time.

export function poll(load, ms, status) {
  let timer = null;
  let stopped = false;
  let busy = false;
  let again = false;
  const tick = async () => {
    busy = true;
    try {
      await load();
      if (status) { status.textContent = 'updated ' + new Date().toLocaleTimeString(); status.className = 'status'; }
    } catch (e) {
      if (status) { status.textContent = e.message; status.className = 'status error'; }
    }
    busy = false;
    if (stopped) return;
    if (again) { again = false; tick(); return; }
    timer = setTimeout(tick, ms);
  };
  tick();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    // now loads again at once (after the load in flight, if any).
    now() {
      if (stopped) return;
      if (busy) { again = true; return; }
      clearTimeout(timer);
      tick();
    },
  };
}
