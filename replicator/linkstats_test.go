package replicator

import (
	"testing"
	"time"
)

func TestLinkRate(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steady := []linkSample{}
	for s := 0; s <= 300; s += 5 {
		steady = append(steady, linkSample{at: at(s), total: int64(s) * 100}) // 100 B/s
	}
	idle := []linkSample{}
	for s := 0; s <= 240; s += 5 {
		idle = append(idle, linkSample{at: at(s)})
	}
	cases := []struct {
		name   string
		ring   []linkSample
		total  int64
		now    time.Time
		window time.Duration
		want   float64
	}{
		{"empty ring", nil, 10, at(1), time.Minute, 0},
		{"steady 100 B/s over a minute", steady, 30000, at(300), time.Minute, 100},
		{"steady 100 B/s over five", steady, 30000, at(300), 5 * time.Minute, 100},
		{"younger than the window: since the oldest sample", []linkSample{{at(0), 0}, {at(5), 500}}, 1000, at(10), time.Minute, 100},
		{"a burst in the last minute, over five", idle, 6000, at(300), 5 * time.Minute, 20},
		{"a burst in the last minute, over one", idle, 6000, at(300), time.Minute, 100},
		{"idle link", []linkSample{{at(0), 700}, {at(60), 700}}, 700, at(120), time.Minute, 0},
		{"no time passed", []linkSample{{at(10), 0}}, 5, at(10), time.Minute, 0},
	}
	for _, tc := range cases {
		if got := linkRate(tc.ring, tc.total, tc.now, tc.window); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLinkMeterStats(t *testing.T) {
	var m linkMeter
	m.counter("b").add(300)
	m.counter("a").add(0) // a link with no content sent yet
	now := time.Now()
	m.sample(now)
	got := m.stats("src", now)
	if len(got) != 2 || got[0].Target != "a" || got[1].Target != "b" {
		t.Fatalf("stats %+v", got)
	}
	if got[1].BytesTotal != 300 || got[1].Source != "src" || got[1].LastActivity.IsZero() {
		t.Errorf("b: %+v", got[1])
	}
	if !got[0].LastActivity.IsZero() || got[0].BytesTotal != 0 {
		t.Errorf("a: %+v", got[0])
	}
	for range linkRing + 10 {
		m.sample(now)
	}
	if n := len(m.counter("b").ring); n != linkRing {
		t.Errorf("ring holds %d samples, want %d", n, linkRing)
	}
}
