// Package ui serves the dashboard: a single page, plain HTML, CSS and
// JavaScript modules embedded in the binary (static/), at /ui/ on every
// agent's API port.
//
// It owns the page and its assets, their content types, cache validators
// and Content-Security-Policy, and the routes that serve them (GET /ui
// redirects to /ui/). The page is public; every call it makes for data is
// an ordinary API call with the caller's token in X-Auth-Token, so the
// dashboard sees exactly what the CLI sees and needs no route of its own.
//
// It must not serve data, hold state, or reach anything outside the
// binary at run time (no CDN, no fonts, no inline script), and it must not
// put a token in a URL.
package ui
