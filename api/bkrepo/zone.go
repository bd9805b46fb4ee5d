package bkrepo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ZoneHeader names the zone a request's times are read and shown in. bk-repo's
// web UI sends it with every call (ZoneIdContext), and bk-repo answers with
// the zone it used (ResponseBuilder); without it the agent's --time-zone.
const ZoneHeader = "X-BKREPO-Time-Zone"

type zoneKey struct{}

func withZone(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, zoneKey{}, loc)
}

// zoneOf is the zone of the request ctx belongs to (UTC outside one).
func zoneOf(ctx context.Context) *time.Location {
	if loc, ok := ctx.Value(zoneKey{}).(*time.Location); ok {
		return loc
	}
	return time.UTC
}

// zone is the request's zone: the header's, when it names one, else the
// agent's.
func (d *dialect) zone(r *http.Request) *time.Location {
	if loc, ok := ParseZone(r.Header.Get(ZoneHeader)); ok {
		return loc
	}
	return d.tasks.Location()
}

// ParseZone reads a zone as Java's ZoneId.of does: a region name
// ("Asia/Shanghai"), Z or UTC, or an offset ("+08:00", "+8", "UTC+8",
// "GMT+08:00"). An unreadable one is not a zone (ok false): bk-repo falls
// back to its default then, and so does the dialect.
func ParseZone(s string) (*time.Location, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, false
	case "Z", "UTC", "GMT", "UT":
		return time.UTC, true
	}
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && (rest[0] == '+' || rest[0] == '-') {
			off, ok := parseOffset(rest)
			if !ok {
				return nil, false
			}
			return time.FixedZone(s, off), true
		}
	}
	if s[0] == '+' || s[0] == '-' {
		off, ok := parseOffset(s)
		if !ok {
			return nil, false
		}
		return time.FixedZone(s, off), true
	}
	if strings.Contains(s, "..") || strings.HasPrefix(s, "/") {
		return nil, false
	}
	loc, err := time.LoadLocation(s)
	if err != nil || loc.String() == "Local" {
		return nil, false
	}
	return loc, true
}

// parseOffset reads ±h, ±hh, ±hh:mm or ±hhmm, within ±18 hours as Java's
// ZoneOffset allows.
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	h, m := s, "0"
	switch {
	case strings.Contains(s, ":"):
		h, m, _ = strings.Cut(s, ":")
	case len(s) == 4:
		h, m = s[:2], s[2:]
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(h) == 0 || len(h) > 2 || hh > 18 || mm > 59 || mm < 0 || hh < 0 || (hh == 18 && mm > 0) {
		return 0, false
	}
	return sign * (hh*3600 + mm*60), true
}
